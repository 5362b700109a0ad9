/**
 * Every call the benchmark and evaluate commands make into the lib's model API (Featurizer, trainMlp,
 * KnnRegressor via fitKnnBaseline, meanSpectrum), in one small module so it can be ported to the
 * study's estimator contract in one place. Each estimator is fitted on `split.train`, makes its
 * choices on `split.val` only, and predicts any rows of the feature table.
 */
import type { Dataset } from "../lib/data/dataset";
import type { SplitIndices } from "../lib/data/splits";
import { featurizeExperiment, featureRowSplit, fitKnnBaseline, FeatureTable } from "../lib/eval/experiment";
import { meanSpectrum, takeColumns, takeRows, tileRow } from "../lib/eval/baselines";
import { DEFAULT_INPUT_CLIP, trainMlp, XanesMlp } from "../lib/model/mlp";

/** Features of the dataset rows with the given descriptors (registry names), and the split on feature rows. */
export function featurizeForBenchmark(ds: Dataset, descriptors: readonly string[], split: SplitIndices): { table: FeatureTable; split: SplitIndices } {
  const table = featurizeExperiment(ds, descriptors);
  return { table, split: featureRowSplit(split, table) };
}

/** The columns of `table` that belong to the named descriptors, as a new X. */
export function selectDescriptors(table: FeatureTable, names: readonly string[]): { X: Float32Array; nFeatures: number } {
  const cols = table.featurizer.columnsFor(names);
  return { X: takeColumns(table.X, table.nFeatures, cols), nFeatures: cols.length };
}

export interface FitData {
  readonly X: Float32Array;
  readonly nFeatures: number;
  /** Targets, rows × M. */
  readonly Y: Float32Array;
  readonly M: number;
  readonly split: SplitIndices;
}

/** A fitted estimator: predictions for rows of the same X. */
export interface Fitted {
  readonly name: string;
  predict(rows: readonly number[]): Float32Array;
  readonly info: Record<string, unknown>;
  dispose(): void;
}

export function fitMean(d: FitData): Fitted {
  const mean = meanSpectrum(d.Y, d.M, d.split.train);
  return { name: "mean", predict: (rows) => tileRow(mean, rows.length), info: {}, dispose: () => {} };
}

/** kNN with k and weighting chosen on the validation rows (lowest mean MSE). */
export function fitKnn(d: FitData, kCandidates: readonly number[] = [1, 3, 5, 10, 20], weightings: readonly ("uniform" | "distance")[] = ["uniform", "distance"]): Fitted {
  const kb = fitKnnBaseline(d.X, d.nFeatures, d.Y, d.M, d.split, kCandidates, weightings);
  return { name: `kNN (k=${kb.k}, ${kb.weighting})`, predict: (rows) => kb.knn.predict(d.X, rows), info: { k: kb.k, weighting: kb.weighting, valMse: kb.valMse }, dispose: () => {} };
}

export interface MlpChoice {
  hidden: number[];
  dropout: number;
  learningRate: number;
  batchSize: number;
  epochs: number;
  /** Early stopping on the validation rows; best weights restored. */
  patience: number;
  loss: "mse" | "mse+cosine" | "mse+derivative";
  lossWeight: number;
  inputClip: number | null;
}

/** The reproduction's final net (experimentConfig("full").final.mlp). */
export const STUDY_MLP: MlpChoice = {
  hidden: [512, 512, 256],
  dropout: 0.1,
  learningRate: 1e-3,
  batchSize: 64,
  epochs: 200,
  patience: 30,
  loss: "mse",
  lossWeight: 1,
  inputClip: DEFAULT_INPUT_CLIP,
};

export interface FittedMlp extends Fitted {
  readonly model: XanesMlp;
  readonly bestEpoch: number;
  readonly epochsRun: number;
  readonly seconds: number;
}

export async function fitMlp(d: FitData, choice: MlpChoice, seed: number): Promise<FittedMlp> {
  const t0 = performance.now();
  const r = await trainMlp(d.X, d.nFeatures, d.Y, d.M, { ...choice, hidden: [...choice.hidden], activation: "relu", trainIdx: d.split.train, valIdx: d.split.val, seed });
  const seconds = (performance.now() - t0) / 1000;
  return {
    name: `MLP seed ${seed}`,
    model: r.model,
    bestEpoch: r.bestEpoch,
    epochsRun: r.history.length,
    seconds,
    predict: (rows) => r.model.predict(takeRows(d.X, d.nFeatures, rows)),
    info: { seed, bestEpoch: r.bestEpoch, epochsRun: r.history.length, seconds, samplesPerSec: r.timing.samplesPerSec, backend: r.timing.backend },
    dispose: () => r.model.dispose(),
  };
}
