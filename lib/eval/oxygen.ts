/**
 * O K-edge check on the Li3FeO3.5 set (147 O sites in three MD snapshots, one chemistry): for each
 * snapshot, train on the other two and test on it (leave-one-snapshot-out). Far too small for a
 * general model; it exercises the O-centred descriptors and the O K window on real spectra and
 * asks whether an MLP beats the mean spectrum and kNN within one chemistry.
 */
import * as path from "node:path";
import type { Profile } from "../config";
import { sharedDataDir } from "../config";
import { buildDataset, Dataset } from "../data/dataset";
import { collectColumnSets } from "../data/columns";
import { DESCRIPTOR_NAMES } from "../descriptors/featurizer";
import { DEFAULT_MESHES } from "../spectra/mesh";
import { DEFAULT_INPUT_CLIP, trainMlp } from "../model/mlp";
import type { Figure } from "../plots/figure";
import type { NamedFigure } from "./report";
import { KnnRegressor, meanSpectrum, takeRows, tileRow } from "./baselines";
import { evaluateSpectra, summarize } from "./metrics";
import { spectraOverlayFigure } from "./figures";
import { featurizeExperiment } from "./experiment";
import { createRng, shuffleInPlace } from "../util/random";

export interface OxygenFold {
  testSnapshot: string;
  nTrain: number;
  nTest: number;
  /** Mean over test spectra, per model. */
  mse: { mlp: number; knn: number; mean: number };
  pearson: { mlp: number; knn: number; mean: number };
  bestEpoch: number;
  seconds: number;
}

export interface OxygenResult {
  dataset: Dataset;
  folds: OxygenFold[];
  /** Test predictions of the last fold, for plots. */
  example: { snapshot: string; truth: Float32Array; pred: Float32Array; knn: Float32Array; sites: number[] };
  json: Record<string, unknown>;
}

/** Settings: a small net, the data are ~100 training spectra. */
export function oxygenSettings(p: Profile) {
  return {
    hidden: p === "quick" ? [32] : [128, 64],
    epochs: p === "quick" ? 3 : 300,
    patience: 30,
    batchSize: 16,
    learningRate: 1e-3,
    dropout: 0,
    seed: 7,
    /** Fraction of training rows held out for early stopping. */
    valFraction: 0.15,
    knnK: 3,
    inputClip: DEFAULT_INPUT_CLIP,
  };
}

export async function runOxygenExperiment(p: Profile, log: (s: string) => void = () => {}): Promise<OxygenResult> {
  const s = oxygenSettings(p);
  const dir = path.join(sharedDataDir(), "li3feo3.5-o-k");
  const ds = await buildDataset({
    name: "li3feo3.5-o-k",
    sourceLabel: "li3feo3.5-o-k",
    sources: collectColumnSets(dir),
    mesh: DEFAULT_MESHES["O-K-relative"],
  });
  const table = featurizeExperiment(ds, DESCRIPTOR_NAMES, undefined, "O");
  for (const e of table.errors) log(`  O K: skipped dataset row ${e.row}: ${e.message}`);
  const { X, Y, nFeatures: d } = table;
  const M = ds.energy.length;
  // Each snapshot is its own "material" in the dataset.
  const snaps = table.groups;
  const snapshots = [...new Set(snaps)].sort();
  log(`O K: ${table.rows.length} spectra in snapshots ${snapshots.join(", ")}; ${d} features; mesh ${M} points`);
  const folds: OxygenFold[] = [];
  let example: OxygenResult["example"] | null = null;
  for (const test of snapshots) {
    const t0 = performance.now();
    const testIdx = snaps.flatMap((g, i) => (g === test ? [i] : []));
    const rest = shuffleInPlace(snaps.flatMap((g, i) => (g !== test ? [i] : [])), createRng(s.seed));
    const nVal = Math.max(1, Math.round(rest.length * s.valFraction));
    const valIdx = rest.slice(0, nVal).sort((a, b) => a - b);
    const trainIdx = rest.slice(nVal).sort((a, b) => a - b);
    const tr = await trainMlp(X, d, Y, M, {
      trainIdx, valIdx, hidden: s.hidden, epochs: s.epochs, patience: s.patience, batchSize: s.batchSize,
      learningRate: s.learningRate, dropout: s.dropout, seed: s.seed, inputClip: s.inputClip,
    });
    const truth = takeRows(Y, M, testIdx);
    const pred = tr.model.predict(takeRows(X, d, testIdx));
    tr.model.dispose();
    const knn = new KnnRegressor(X, d, Y, M, [...trainIdx, ...valIdx], { k: s.knnK }).predict(X, testIdx);
    const mean = tileRow(meanSpectrum(Y, M, [...trainIdx, ...valIdx]), testIdx.length);
    const ev = (pr: Float32Array) => evaluateSpectra(pr, truth, ds.energy);
    const [em, ek, e0] = [ev(pred), ev(knn), ev(mean)];
    const fold: OxygenFold = {
      testSnapshot: test,
      nTrain: trainIdx.length + valIdx.length,
      nTest: testIdx.length,
      mse: { mlp: summarize(em.mse).mean, knn: summarize(ek.mse).mean, mean: summarize(e0.mse).mean },
      pearson: { mlp: summarize(em.pearson).mean, knn: summarize(ek.pearson).mean, mean: summarize(e0.pearson).mean },
      bestEpoch: tr.bestEpoch,
      seconds: (performance.now() - t0) / 1000,
    };
    folds.push(fold);
    log(
      `O K: test ${test}: MSE MLP ${fold.mse.mlp.toExponential(3)}, kNN ${fold.mse.knn.toExponential(3)}, mean ${fold.mse.mean.toExponential(3)}; ` +
        `Pearson MLP ${fold.pearson.mlp.toFixed(3)}, kNN ${fold.pearson.knn.toFixed(3)}, mean ${fold.pearson.mean.toFixed(3)}`,
    );
    example = { snapshot: test, truth, pred, knn, sites: testIdx.map((i) => ds.meta[table.rows[i]].site) };
  }
  return {
    dataset: ds,
    folds,
    example: example!,
    json: {
      source: dir,
      spectra: table.rows.length,
      skipped: table.errors,
      mesh: ds.config.mesh,
      normalisation: ds.config.normalisation,
      settings: s,
      protocol: "leave one MD snapshot out: train on two snapshots (15 % of them for early stopping), test on the third",
      folds,
    },
  };
}

/** Example overlays of the last fold (first six test sites) for the figures folder. */
export function oxygenFigures(r: OxygenResult): NamedFigure[] {
  const n = Math.min(6, r.example.truth.length / r.dataset.energy.length);
  const rows = Array.from({ length: n }, (_, i) => i);
  const fig: Figure = spectraOverlayFigure(
    r.dataset.energy, r.example.truth, r.example.pred, rows,
    rows.map((i) => `${r.example.snapshot}, POSCAR site ${r.example.sites[i]} (O)`),
    `Li3FeO3.5 O K-edge: MLP trained on the other snapshots, tested on ${r.example.snapshot}`,
  );
  return [{ name: "o-k-li3feo35-examples", fig }];
}
