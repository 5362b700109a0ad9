/**
 * One estimator contract, as scikit-learn users expect: configuration in, `fit(X, Y, {train, val})`,
 * `predict(X)`, `toJSON()` and `estimatorFromJSON` to load. The MLP (here), the seed ensemble
 * (ensemble.ts), the mean spectrum and kNN (lib/eval/baselines.ts) implement it; ablation,
 * evaluation and the study layer only see this interface.
 */
import * as tf from "@tensorflow/tfjs";
import type { Matrix } from "../util/matrix";
import { InputError } from "../util/errors";
import { trainMlp, withConfigDefaults, XanesMlp, type FitSplit, type MlpConfig, type MlpShape, type TrainHooks, type TrainMlpResult } from "./mlp";
import { PcaBasis, type PcaBasisJSON } from "./pca";
import { StandardScaler, type StandardScalerJSON } from "./scaler";

export type { FitSplit } from "./mlp";

/** JSON state of a fitted estimator; `kind` selects the loader. */
export interface EstimatorJSON {
  kind: string;
  [key: string]: unknown;
}

export interface Estimator {
  /** "mlp", "ensemble", "mean", "knn". */
  readonly kind: string;
  /** Fits on rows `split.train` of X → Y; `split.val` is for early stopping or tuning (never fitted on). */
  fit(X: Matrix, Y: Matrix, split: FitSplit): Promise<this>;
  /** Spectra (X.rows × outputs) for feature rows X. */
  predict(X: Matrix): Matrix;
  /** Everything needed to rebuild the fitted estimator (estimatorFromJSON). */
  toJSON(): EstimatorJSON;
  /** Frees tensors (a no-op for estimators without any). */
  dispose(): void;
  /** Epoch of the restored weights, for estimators that early-stop. */
  readonly bestEpoch?: number;
}

type Loader = (json: EstimatorJSON) => Estimator | Promise<Estimator>;
const LOADERS = new Map<string, Loader>();

/** Makes `estimatorFromJSON` understand `kind` (each estimator module registers itself). */
export function registerEstimator(kind: string, load: Loader): void {
  LOADERS.set(kind, load);
}

/** Rebuilds an estimator from its toJSON(); the `kind` must be registered (import its module). */
export async function estimatorFromJSON(json: unknown, source = "estimator JSON"): Promise<Estimator> {
  const kind = (json as EstimatorJSON | null)?.kind;
  const load = typeof kind === "string" ? LOADERS.get(kind) : undefined;
  if (!load) throw new InputError(`${source}: kind ${JSON.stringify(kind)} is not a known estimator (${[...LOADERS.keys()].join(", ")})`);
  return load(json as EstimatorJSON);
}

/** The MLP's JSON state: hyperparameters, scalers, tfjs topology and float32 weights (base64). */
export interface MlpJSON extends EstimatorJSON {
  kind: "mlp";
  config: MlpConfig;
  shape: MlpShape;
  inputScaler: StandardScalerJSON;
  outputScaler: StandardScalerJSON | null;
  /** outputScaling "pca" only. */
  outputPca?: PcaBasisJSON;
  topology: unknown;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weights: string;
}

/** The network's topology and weights as tfjs writes them (model.json + weights.bin). */
export function networkArtifacts(net: tf.LayersModel): { topology: unknown; weightSpecs: tf.io.WeightsManifestEntry[]; weightData: Uint8Array } {
  const weights = net.weights;
  const values = net.getWeights();
  const weightSpecs = weights.map((w) => ({ name: w.originalName, shape: [...(w.shape as number[])], dtype: "float32" as const }));
  const total = values.reduce((s, v) => s + v.size, 0);
  const data = new Float32Array(total);
  let o = 0;
  for (const v of values) {
    data.set(v.dataSync() as Float32Array, o);
    o += v.size;
  }
  return { topology: net.toJSON(null, false), weightSpecs, weightData: new Uint8Array(data.buffer) };
}

/** A tfjs network from topology, specs and weight bytes (the bytes are copied). */
export async function networkFromArtifacts(topology: unknown, weightSpecs: tf.io.WeightsManifestEntry[], bytes: Uint8Array): Promise<tf.LayersModel> {
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology as tf.io.ModelJSON["modelTopology"], weightSpecs, weightData }));
}

/** The MLP as an estimator: `config` in, trainMlp in `fit`, the fitted XanesMlp in `model`. */
export class MlpRegressor implements Estimator {
  readonly kind = "mlp";
  model: XanesMlp | null = null;
  /** History, best and stop epochs, timing of the last fit (null when loaded). */
  training: Omit<TrainMlpResult, "model"> | null = null;

  constructor(readonly config: MlpConfig, readonly hooks: TrainHooks = {}) {}

  /** An estimator around an already fitted network. */
  static of(model: XanesMlp): MlpRegressor {
    const r = new MlpRegressor(model.config);
    r.model = model;
    return r;
  }

  get bestEpoch(): number | undefined {
    return this.training?.bestEpoch;
  }

  async fit(X: Matrix, Y: Matrix, split: FitSplit): Promise<this> {
    this.dispose();
    const { model, ...training } = await trainMlp(X, Y, this.config, split, this.hooks);
    this.model = model;
    this.training = training;
    return this;
  }

  fitted(): XanesMlp {
    if (!this.model) throw new Error("MlpRegressor: not fitted (call fit or load)");
    return this.model;
  }

  predict(X: Matrix): Matrix {
    return this.fitted().predict(X);
  }

  toJSON(): MlpJSON {
    const m = this.fitted();
    const { topology, weightSpecs, weightData } = networkArtifacts(m.net);
    return {
      kind: "mlp",
      config: m.config,
      shape: { ...m.shape },
      inputScaler: m.inputScaler.toJSON(),
      outputScaler: m.outputScaler ? m.outputScaler.toJSON() : null,
      ...(m.outputPca ? { outputPca: m.outputPca.toJSON() } : {}),
      topology,
      weightSpecs,
      weights: Buffer.from(weightData).toString("base64"),
    };
  }

  static async fromJSON(json: MlpJSON): Promise<MlpRegressor> {
    const net = await networkFromArtifacts(json.topology, json.weightSpecs, Buffer.from(json.weights, "base64"));
    const out = StandardScaler.fromJSON;
    const config = withConfigDefaults(json.config as unknown as Record<string, unknown>) as unknown as MlpConfig;
    const pca = json.outputPca ? PcaBasis.fromJSON(json.outputPca) : null;
    return MlpRegressor.of(new XanesMlp(net, config, json.shape, out(json.inputScaler), json.outputScaler ? out(json.outputScaler) : null, pca));
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }
}

registerEstimator("mlp", (json) => MlpRegressor.fromJSON(json as MlpJSON));
