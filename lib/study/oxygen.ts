/**
 * O K-edge check on the Li3FeO3.5 set (147 O sites in three MD snapshots, one chemistry): for each
 * snapshot, train on the other two and test on it (leave-one-snapshot-out). Far too small for a
 * general model; it exercises the O-centred descriptors and the O K window on real spectra and
 * asks whether an MLP beats the mean spectrum and kNN within one chemistry.
 */
import type { Dataset } from "../data/dataset";
import { MlpRegressor } from "../model/estimator";
import { KnnRegressor, MeanSpectrumRegressor } from "../eval/baselines";
import { evaluateModel } from "../eval/evaluation";
import { spectraOverlayFigure } from "../eval/figures";
import type { NamedFigure } from "../eval/report";
import { takeRows, type Matrix } from "../util/matrix";
import { createRng, shuffleInPlace } from "../util/random";
import type { StudyConfig } from "./config";
import { buildOxygenDataset } from "./features";
import { featurizeDataset } from "../descriptors/table";

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
  example: { snapshot: string; truth: Matrix; pred: Matrix; knn: Matrix; sites: number[] };
  json: Record<string, unknown>;
}

export async function runOxygenStudy(cfg: StudyConfig, log: (s: string) => void = () => {}): Promise<OxygenResult> {
  const o = cfg.oxygen;
  const ds = await buildOxygenDataset(cfg);
  const table = featurizeDataset(ds, cfg.descriptors, "O");
  for (const e of table.errors) log(`  O K: skipped dataset row ${e.row}: ${e.message}`);
  const { X, Y } = table;
  // Each snapshot is its own "material" in the dataset.
  const snaps = table.groups;
  const snapshots = [...new Set(snaps)].sort();
  log(`O K: ${table.rows.length} spectra in snapshots ${snapshots.join(", ")}; ${X.cols} features; mesh ${Y.cols} points`);
  const folds: OxygenFold[] = [];
  let example: OxygenResult["example"] | null = null;
  for (const test of snapshots) {
    const t0 = performance.now();
    const testIdx = snaps.flatMap((g, i) => (g === test ? [i] : []));
    const rest = shuffleInPlace(snaps.flatMap((g, i) => (g !== test ? [i] : [])), createRng(o.mlp.seed));
    const nVal = Math.max(1, Math.round(rest.length * o.valFraction));
    const val = rest.slice(0, nVal).sort((a, b) => a - b);
    const train = rest.slice(nVal).sort((a, b) => a - b);
    const Xtest = takeRows(X, testIdx);
    const truth = takeRows(Y, testIdx);
    const mlp = await new MlpRegressor(o.mlp).fit(X, Y, { train, val });
    const pred = mlp.predict(Xtest);
    const bestEpoch = mlp.bestEpoch!;
    mlp.dispose();
    // The baselines have no early stopping: they fit on every non-test row.
    const all = { train: [...train, ...val] };
    const knn = (await new KnnRegressor(o.knn).fit(X, Y, all)).predict(Xtest);
    const mean = (await new MeanSpectrumRegressor().fit(X, Y, all)).predict(Xtest);
    const [em, ek, e0] = [pred, knn, mean].map((p) => evaluateModel("", p, truth, ds.energy).summary);
    const fold: OxygenFold = {
      testSnapshot: test,
      nTrain: train.length + val.length,
      nTest: testIdx.length,
      mse: { mlp: em.mse.mean, knn: ek.mse.mean, mean: e0.mse.mean },
      pearson: { mlp: em.pearson.mean, knn: ek.pearson.mean, mean: e0.pearson.mean },
      bestEpoch,
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
      source: cfg.oxygen.source,
      spectra: table.rows.length,
      skipped: table.errors,
      mesh: ds.config.mesh,
      normalisation: ds.config.normalisation,
      descriptors: table.featurizer.describe(),
      settings: o,
      protocol: "leave one MD snapshot out: train on two snapshots (15 % of them for early stopping), test on the third",
      folds,
    },
  };
}

/** Example overlays of the last fold (first six test sites). */
export function oxygenFigures(r: OxygenResult): NamedFigure[] {
  const n = Math.min(6, r.example.truth.rows);
  const rows = Array.from({ length: n }, (_, i) => i);
  const fig = spectraOverlayFigure(
    r.dataset.energy, r.example.truth.data, r.example.pred.data, rows,
    rows.map((i) => `${r.example.snapshot}, POSCAR site ${r.example.sites[i]} (O)`),
    `Li3FeO3.5 O K-edge: MLP trained on the other snapshots, tested on ${r.example.snapshot}`,
  );
  return [{ name: "o-k-li3feo35-examples", fig }];
}
