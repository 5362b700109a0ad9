/**
 * Seed ensembles: MLPs that differ only in their seed (initial weights, batch order, dropout masks).
 * The mean of the members is the prediction, their spread the uncertainty screening reports.
 */
import * as path from "node:path";
import type { Matrix } from "../util/matrix";
import type { FitSplit, MlpConfig } from "./mlp";
import { estimatorFromJSON, MlpRegressor, registerEstimator, type Estimator, type EstimatorJSON, type MlpJSON } from "./estimator";
import { loadPredictor, XanesPredictor, type FeaturizerLike } from "./predictor";
import { modelFolders, type LoadModelOptions, type XanesModelMeta } from "./io";
import type { SpectralContract } from "./spectral";

/** The ensemble as an estimator: one MlpRegressor per seed, same config otherwise. */
export class SeedEnsemble implements Estimator {
  readonly kind = "ensemble";
  members: MlpRegressor[] = [];

  constructor(readonly config: MlpConfig, readonly seeds: readonly number[]) {
    if (seeds.length === 0) throw new Error("SeedEnsemble: no seeds");
    if (new Set(seeds).size !== seeds.length) throw new Error(`SeedEnsemble: repeated seed in ${seeds.join(", ")}`);
  }

  /** Trains the members one after another (each already uses both cores). */
  async fit(X: Matrix, Y: Matrix, split: FitSplit, onMember?: (index: number, member: MlpRegressor) => void): Promise<this> {
    this.dispose();
    for (const [i, seed] of this.seeds.entries()) {
      const member = await new MlpRegressor({ ...this.config, seed }).fit(X, Y, split);
      this.members.push(member);
      onMember?.(i, member);
    }
    return this;
  }

  /** Each member's predictions. */
  predictMembers(X: Matrix): Matrix[] {
    if (this.members.length === 0) throw new Error("SeedEnsemble: not fitted");
    return this.members.map((m) => m.predict(X));
  }

  /** Member mean and sample standard deviation (0 for one member) per output. */
  predictWithSpread(X: Matrix): { mean: Matrix; std: Matrix } {
    const preds = this.predictMembers(X);
    const k = preds.length;
    const n = preds[0].data.length;
    const mean = new Float32Array(n);
    const std = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (const p of preds) s += p.data[i];
      const m = s / k;
      let v = 0;
      for (const p of preds) v += (p.data[i] - m) ** 2;
      mean[i] = m;
      std[i] = k > 1 ? Math.sqrt(v / (k - 1)) : 0;
    }
    const { rows, cols } = preds[0];
    return { mean: { data: mean, rows, cols }, std: { data: std, rows, cols } };
  }

  predict(X: Matrix): Matrix {
    return this.predictWithSpread(X).mean;
  }

  toJSON(): EstimatorJSON {
    return { kind: "ensemble", config: this.config, seeds: [...this.seeds], members: this.members.map((m) => m.toJSON()) };
  }

  dispose(): void {
    this.members.forEach((m) => m.dispose());
    this.members = [];
  }
}

registerEstimator("ensemble", async (json) => {
  const e = new SeedEnsemble(json.config as MlpConfig, json.seeds as number[]);
  for (const m of json.members as MlpJSON[]) e.members.push((await estimatorFromJSON(m)) as MlpRegressor);
  return e;
});

export interface TrainEnsembleOptions {
  config: MlpConfig;
  /** One member per seed. */
  seeds: readonly number[];
  split: FitSplit;
  /** Saved with every member (dataset name, …). */
  meta?: XanesModelMeta;
  /** Called after each member. */
  onMember?: (index: number, member: MlpRegressor) => void;
}

/** Train a SeedEnsemble and wrap each member as a predictor (screening ranks with their spread). */
export async function trainEnsemble(X: Matrix, Y: Matrix, featurizer: FeaturizerLike, spectral: SpectralContract, opts: TrainEnsembleOptions): Promise<XanesPredictor[]> {
  const ens = await new SeedEnsemble(opts.config, opts.seeds).fit(X, Y, opts.split, opts.onMember);
  return ens.members.map((m, i) => new XanesPredictor(m.fitted(), featurizer, spectral, { ...(opts.meta ?? {}), seed: opts.seeds[i], bestEpoch: m.bestEpoch }));
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
export async function loadEnsemble(dir: string, options: LoadModelOptions = {}): Promise<XanesPredictor[]> {
  const out: XanesPredictor[] = [];
  for (const s of modelFolders(dir)) out.push(await loadPredictor(s, options));
  return out;
}
