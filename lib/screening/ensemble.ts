/**
 * Ensembles of MLPs that differ only in their seed (initial weights, batch order, dropout masks):
 * the spread of their predictions is the uncertainty screening reports.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { trainMlp, TrainMlpOptions, TrainMlpResult } from "../model/mlp";
import { loadPredictor, XanesPredictor, FeaturizerLike } from "../model/predictor";
import type { XanesModelMeta } from "../model/io";

export interface TrainEnsembleOptions extends Omit<TrainMlpOptions, "seed" | "onEpoch"> {
  /** One member per seed. */
  seeds: readonly number[];
  /** Saved with every member (normalisation, dataset name, …). */
  meta?: XanesModelMeta;
  /** Called after each member with its training result. */
  onMember?: (index: number, result: TrainMlpResult) => void;
}

/** Train one MLP per seed on the same features; requires an initialised backend (initBackend). */
export async function trainEnsemble(
  X: Float32Array,
  Y: Float32Array,
  featurizer: FeaturizerLike,
  energy: ArrayLike<number>,
  opts: TrainEnsembleOptions,
): Promise<XanesPredictor[]> {
  if (opts.seeds.length === 0) throw new Error("trainEnsemble: no seeds");
  if (new Set(opts.seeds).size !== opts.seeds.length) throw new Error(`trainEnsemble: repeated seed in ${opts.seeds.join(", ")}`);
  const { seeds, meta, onMember, ...mlp } = opts;
  const members: XanesPredictor[] = [];
  for (const [i, seed] of seeds.entries()) {
    const res = await trainMlp(X, featurizer.length, Y, energy.length, { ...mlp, seed });
    onMember?.(i, res);
    members.push(new XanesPredictor(res.model, featurizer, energy, { ...(meta ?? {}), seed, bestEpoch: res.bestEpoch }));
  }
  return members;
}

/** Save members as `<dir>/member-<k>/` (each a loadPredictor folder). */
export async function saveEnsemble(dir: string, members: readonly XanesPredictor[]): Promise<string[]> {
  const out: string[] = [];
  for (const [k, p] of members.entries()) {
    const d = path.join(dir, `member-${k}`);
    await p.save(d);
    out.push(d);
  }
  return out;
}

/**
 * Load a model folder (one xanes-model.json) or an ensemble folder (sub-folders that each hold one),
 * sub-folders in name order.
 */
export async function loadEnsemble(dir: string): Promise<XanesPredictor[]> {
  if (fs.existsSync(path.join(dir, "xanes-model.json"))) return [await loadPredictor(dir)];
  let subs: string[];
  try {
    subs = fs.readdirSync(dir).sort().map((s) => path.join(dir, s)).filter((s) => fs.existsSync(path.join(s, "xanes-model.json")));
  } catch (err) {
    throw new Error(`loadEnsemble: cannot read ${dir} (${(err as Error).message})`);
  }
  if (subs.length === 0) throw new Error(`loadEnsemble: ${dir} has no xanes-model.json, nor sub-folders with one`);
  const out: XanesPredictor[] = [];
  for (const s of subs) out.push(await loadPredictor(s));
  return out;
}
