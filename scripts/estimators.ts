/**
 * Every call the benchmark and evaluate commands make into the lib's model API (Featurizer, trainMlp,
 * KnnRegressor, meanSpectrum, XanesPredictor and the ensemble folders), in one small module so it can be ported to the
 * study's estimator contract in one place. Each estimator is fitted on `split.train`, makes its
 * choices on `split.val` only, and predicts any rows of the feature table.
 */
import type { Dataset } from "../lib/data/dataset";
import type { SplitIndices } from "../lib/data/splits";
import { featurizeExperiment, featureRowSplit, fitKnnBaseline, FeatureTable } from "../lib/eval/experiment";
import { KnnRegressor, meanSpectrum, takeColumns, takeRows, tileRow } from "../lib/eval/baselines";
import { DEFAULT_INPUT_CLIP, trainMlp, XanesMlp } from "../lib/model/mlp";
import { Featurizer } from "../lib/descriptors/featurizer";
import type { XanesModelMeta } from "../lib/model/io";
import { XanesPredictor } from "../lib/model/predictor";
import { loadEnsemble, saveEnsemble } from "../lib/screening/ensemble";

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
  /** "standard": targets z-scored per mesh point (the reproduction); "none": raw targets, so the loss is the raw MSE that eta scores. */
  outputScaling: "standard" | "none";
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
  outputScaling: "standard",
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

/**
 * Saves fitted MLPs as an ensemble folder (`<dir>/member-<k>/`, each loadable by loadPredictor and
 * the screening's loadEnsemble) with the featurizer of `descriptors`, the mesh and `meta`.
 */
export async function saveMlpEnsemble(dir: string, models: readonly XanesMlp[], descriptors: readonly string[], energy: ArrayLike<number>, meta: XanesModelMeta): Promise<string[]> {
  const featurizer = new Featurizer({ descriptors: descriptors.map((name) => ({ name })), absorber: "Cu" });
  return saveEnsemble(dir, models.map((m) => new XanesPredictor(m, featurizer, energy, meta)));
}

/** A saved model or ensemble folder, as members with their shared featurizer and metadata. */
export async function loadMlpEnsemble(dir: string): Promise<XanesPredictor[]> {
  return loadEnsemble(dir);
}

/** Predictions of every member for feature rows X (n × nFeatures). */
export function predictMembers(members: readonly XanesPredictor[], X: Float32Array): Float32Array[] {
  return members.map((p) => p.model.predict(X));
}

/** kNN with a fixed k (no validation rows to choose it on) fitted on all rows of a training table. */
export function fitKnnFixed(X: Float32Array, nFeatures: number, Y: Float32Array, M: number, k: number): { predict(Xq: Float32Array): Float32Array } {
  const n = X.length / nFeatures;
  const all = Array.from({ length: n }, (_, i) => i);
  const knn = new KnnRegressor(X, nFeatures, Y, M, all, { k, weighting: "distance" });
  return { predict: (Xq) => knn.predict(Xq, Array.from({ length: Xq.length / nFeatures }, (_, i) => i)) };
}

export { meanSpectrum, takeRows, tileRow };
