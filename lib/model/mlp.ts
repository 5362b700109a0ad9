/**
 * Fully connected MLP (tfjs layers) mapping site descriptors to a spectrum on a fixed energy mesh.
 *
 * Training is a custom loop rather than model.fit: batches are gathered from JS typed arrays in an
 * order shuffled each epoch by our seeded PRNG, dropout masks are seeded per batch, and weights
 * use seeded initialisers — so the same seed on the same backend gives identical weights.
 */
import * as tf from "@tensorflow/tfjs";
import { createRng, shuffleInPlace } from "../util/random";
import { StandardScaler } from "./scaler";
import { createAdam, type AdamStepper } from "./optimizer";
import type { Matrix } from "../util/matrix";
import { createNativeTrainStep, type NativeTrainStep } from "./train_step";
import { PcaBasis } from "./pca";

/** tfjs-layers activation identifiers accepted for hidden layers. */
export type MlpActivation = "relu" | "elu" | "selu" | "tanh" | "sigmoid" | "swish" | "gelu" | "softplus" | "relu6" | "linear";

/**
 * Training objective.
 * - "mse": mean squared error on the (optionally standardised) outputs.
 * - "mse+cosine": mse + λ·mean(1 − cos(ŷ, y)), the cosine taken per spectrum in original units
 *   (outputs de-standardised first), so it rewards the right overall shape regardless of scale.
 * - "mse+derivative": mse + λ·mean((Δŷ − Δy)²), Δ = difference between neighbouring mesh
 *   points in original units; penalises misplaced peaks/edges more than a flat offset does.
 */
export type MlpLoss = "mse" | "mse+cosine" | "mse+derivative";

/**
 * Learning rate per epoch, as a factor of `learningRate` (lrAt). The factor is set at the start of
 * each epoch and held for its batches.
 * - "constant": 1.
 * - "cosine": optional linear warm-up over `warmupEpochs` (factor e/warmupEpochs in epoch e), then
 *   cosine decay from 1 at the end of the warm-up to `minFactor` at `epochs`.
 * - "step": × `factor` every `everyEpochs` epochs.
 */
export type LrSchedule =
  | { kind: "constant" }
  | { kind: "cosine"; minFactor: number; warmupEpochs?: number }
  | { kind: "step"; everyEpochs: number; factor: number };

/**
 * Every hyperparameter of the MLP in one value (presets such as experiment profiles are values of
 * this type). The data's widths are not hyperparameters: they come from the matrices at fit time.
 */
export interface MlpConfig {
  hidden: number[];
  activation: MlpActivation;
  dropout: number;
  /**
   * "standard": targets z-scored per mesh point on the training rows; "none": raw targets; "pca":
   * z-scored, then projected on the leading principal components of the training rows (the network
   * predicts `pcaComponents` coefficients; predictions come back on the mesh).
   */
  outputScaling: "standard" | "none" | "pca";
  /**
   * For outputScaling "pca" (null otherwise): an integer ≥ 1 is the number of components; a value in
   * (0, 1) is the fraction of the training rows' (standardised) variance to keep, as in scikit-learn.
   */
  pcaComponents: number | null;
  /**
   * With outputScaling "standard" or "pca": exponent γ of the per-point standard deviation σ_j in the
   * target scale s_j = c·σ_j^γ, c = sqrt(mean_j σ_j^(2−2γ)) (so the mean-predictor's loss stays 1 per
   * point). 1: z-scores per point (every mesh point weighs the same in the loss); 0: one scale for all
   * points (the loss weighs points as the mean MSE of the spectra does, i.e. the edge and white line,
   * where spectra vary most, dominate); in between, a compromise.
   */
  outputScaleExponent: number;
  loss: MlpLoss;
  /** λ of the shape-aware term (ignored for "mse"). */
  lossWeight: number;
  learningRate: number;
  lrSchedule: LrSchedule;
  /**
   * Decoupled (AdamW) weight decay λ: each step multiplies every weight (kernels and biases, as
   * torch.optim.AdamW does by default) by 1 − lr·λ before the Adam update, lr the epoch's rate.
   */
  weightDecay: number;
  batchSize: number;
  epochs: number;
  /** Epochs without validation improvement before stopping; the best weights are restored. */
  patience: number;
  seed: number;
  /**
   * Clip each standardised input to ±inputClip training standard deviations, in training and in
   * every later prediction (the bounds live in the input scaler, so save/load and XanesPredictor
   * apply them); null disables. Default DEFAULT_INPUT_CLIP (measured there).
   */
  inputClip: number | null;
}

/** Input and output widths of a fitted network. */
export interface MlpShape {
  nFeatures: number;
  nOutputs: number;
}

/** Rows of X/Y to fit on, and rows for early stopping (empty/omitted: no early stopping). */
export interface FitSplit {
  train: ArrayLike<number>;
  val?: ArrayLike<number>;
}

export interface EpochLog {
  epoch: number;
  /** Mean training objective over the epoch's batches (dropout active). */
  loss: number;
  /** Objective on the validation rows (no dropout); NaN without a validation split. */
  valLoss: number;
  elapsedMs: number;
}

export interface TrainHooks {
  /** Called after each epoch; return false to stop training. */
  onEpoch?: (log: EpochLog) => void | boolean;
  /**
   * Keep training until early stopping with this (larger) patience would stop, while the restored
   * weights stay those of `config.patience`: one run then records the validation history that
   * `replayPatience` needs for every patience up to this one (no second training run).
   */
  recordUntilPatience?: number;
}

export interface TrainTiming {
  totalMs: number;
  epochsRun: number;
  /** Training samples per second over the optimisation steps only (first epoch excluded as warm-up when >1). */
  samplesPerSec: number;
  backend: string;
  /** Training step used ("native-step(N threads)" on wasm+OpenBLAS for mse, else "native-adam" or "tfjs-adam"). */
  optimizer: string;
}

export interface TrainMlpResult {
  model: XanesMlp;
  history: EpochLog[];
  /** Epoch whose weights the model holds (best validation loss, or the last epoch). */
  bestEpoch: number;
  /** Epoch at which `config.patience` stopped (the last epoch when it never did). */
  stopEpoch: number;
  timing: TrainTiming;
}

/**
 * Default `inputClip`. Why clip: descriptor columns nearly constant on the training rows (rare
 * elements, some OFM entries) give test sites standardised values up to ~1000; the unclipped MLP
 * extrapolates wildly there and a handful of such spectra dominate the mean test MSE. Why 5:
 * measured on the Cu K set (grouped split, final net of studyConfig("full"), seed 42):
 * unclipped, mean test MSE 4.9e-3 (one spectrum at 2.8), validation loss 0.201; clip 3 / 5 / 10:
 * test 2.09e-3 / 1.98e-3 / 1.95e-3, validation loss 0.191 / 0.185 / 0.187 — the bound matters, its
 * exact value does not (clip 5 with seeds 1, 2: test 1.93e-3, 2.11e-3). ±5 leaves columns whose
 * training values are roughly normal untouched (|z| > 5 for < 1e-6 of a normal sample) and
 * bounds only the heavy-tailed rare columns.
 */
export const DEFAULT_INPUT_CLIP = 5;

export const DEFAULT_MLP_CONFIG: Readonly<MlpConfig> = Object.freeze({
  hidden: [512, 512, 256],
  activation: "relu",
  dropout: 0,
  outputScaling: "standard",
  pcaComponents: null,
  outputScaleExponent: 1,
  loss: "mse",
  lossWeight: 1,
  learningRate: 1e-3,
  lrSchedule: Object.freeze({ kind: "constant" }) as LrSchedule,
  weightDecay: 0,
  batchSize: 64,
  epochs: 200,
  patience: 20,
  seed: 0,
  inputClip: DEFAULT_INPUT_CLIP,
});

const LOSSES: readonly MlpLoss[] = ["mse", "mse+cosine", "mse+derivative"];

/** A complete, checked MlpConfig: the defaults overridden by `overrides`. */
export function mlpConfig(overrides: Partial<MlpConfig> = {}): MlpConfig {
  const cfg: MlpConfig = {
    ...DEFAULT_MLP_CONFIG,
    ...overrides,
    hidden: [...(overrides.hidden ?? DEFAULT_MLP_CONFIG.hidden)],
    lrSchedule: { ...(overrides.lrSchedule ?? DEFAULT_MLP_CONFIG.lrSchedule) },
  };
  checkMlpConfig(cfg);
  return cfg;
}

/**
 * A config saved before lrSchedule, weightDecay, pcaComponents and outputScaleExponent existed,
 * completed with the values that reproduce how it was trained (constant rate, no decay, no PCA,
 * per-point z-scores); fields present are kept.
 */
export function withConfigDefaults(saved: Record<string, unknown>): Record<string, unknown> {
  return { lrSchedule: { kind: "constant" }, weightDecay: 0, pcaComponents: null, outputScaleExponent: 1, ...saved };
}

/** The learning rate of epoch `epoch` (1-based) under cfg.lrSchedule. */
export function lrAt(cfg: Pick<MlpConfig, "learningRate" | "lrSchedule" | "epochs">, epoch: number): number {
  const s = cfg.lrSchedule;
  if (s.kind === "constant") return cfg.learningRate;
  if (s.kind === "step") return cfg.learningRate * s.factor ** Math.floor((epoch - 1) / s.everyEpochs);
  const warm = s.warmupEpochs ?? 0;
  if (epoch <= warm) return (cfg.learningRate * epoch) / warm;
  const span = Math.max(1, cfg.epochs - warm - 1);
  const t = Math.min(1, (epoch - warm - 1) / span);
  return cfg.learningRate * (s.minFactor + (1 - s.minFactor) * 0.5 * (1 + Math.cos(Math.PI * t)));
}

function checkSchedule(s: LrSchedule, where: string): void {
  const bad = (what: string) => new Error(`${where}: lrSchedule ${JSON.stringify(s)}: ${what}`);
  if (typeof s !== "object" || s === null) throw bad("must be an object with a kind");
  if (s.kind === "constant") return;
  if (s.kind === "cosine") {
    if (!(s.minFactor >= 0 && s.minFactor <= 1)) throw bad("minFactor must be in [0, 1]");
    if (s.warmupEpochs !== undefined && !(Number.isInteger(s.warmupEpochs) && s.warmupEpochs >= 0)) throw bad("warmupEpochs must be an integer ≥ 0");
    return;
  }
  if (s.kind === "step") {
    if (!(Number.isInteger(s.everyEpochs) && s.everyEpochs >= 1)) throw bad("everyEpochs must be an integer ≥ 1");
    if (!(s.factor > 0 && s.factor <= 1)) throw bad("factor must be in (0, 1]");
    return;
  }
  throw bad("kind must be constant, cosine or step");
}

/** Throws naming the first hyperparameter out of range. */
export function checkMlpConfig(cfg: MlpConfig, where = "MlpConfig"): void {
  if (!Array.isArray(cfg.hidden) || cfg.hidden.some((w) => !Number.isInteger(w) || w <= 0)) throw new Error(`${where}: hidden ${JSON.stringify(cfg.hidden)} must be positive integers`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new Error(`${where}: dropout ${cfg.dropout} must be in [0, 1)`);
  if (!(cfg.batchSize >= 1)) throw new Error(`${where}: batchSize ${cfg.batchSize} must be ≥ 1`);
  if (!LOSSES.includes(cfg.loss)) throw new Error(`${where}: unknown loss '${cfg.loss}' (expected ${LOSSES.join(", ")})`);
  if (!(cfg.lossWeight >= 0)) throw new Error(`${where}: lossWeight ${cfg.lossWeight} must be ≥ 0`);
  if (!(cfg.learningRate > 0)) throw new Error(`${where}: learningRate ${cfg.learningRate} must be > 0`);
  if (cfg.inputClip !== null && !(cfg.inputClip > 0)) throw new Error(`${where}: inputClip ${cfg.inputClip} must be > 0 or null`);
  if (!(cfg.epochs >= 1) || !(cfg.patience >= 1)) throw new Error(`${where}: epochs (${cfg.epochs}) and patience (${cfg.patience}) must be ≥ 1`);
  if (!["standard", "none", "pca"].includes(cfg.outputScaling)) throw new Error(`${where}: outputScaling '${cfg.outputScaling}' must be standard, none or pca`);
  if (cfg.outputScaling === "pca") {
    const k = cfg.pcaComponents;
    if (k === null || !((Number.isInteger(k) && k >= 1) || (k > 0 && k < 1))) throw new Error(`${where}: pcaComponents ${k} must be an integer ≥ 1 or a variance fraction in (0, 1) with outputScaling 'pca'`);
    if (cfg.loss !== "mse") throw new Error(`${where}: outputScaling 'pca' trains on mse only (loss '${cfg.loss}')`);
  } else if (cfg.pcaComponents !== null) {
    throw new Error(`${where}: pcaComponents ${cfg.pcaComponents} is set but outputScaling is '${cfg.outputScaling}' (expected null)`);
  }
  if (!(cfg.outputScaleExponent >= 0 && cfg.outputScaleExponent <= 1)) throw new Error(`${where}: outputScaleExponent ${cfg.outputScaleExponent} must be in [0, 1]`);
  if (cfg.outputScaling === "none" && cfg.outputScaleExponent !== 1) throw new Error(`${where}: outputScaleExponent ${cfg.outputScaleExponent} needs outputScaling 'standard' or 'pca' (got 'none')`);
  checkSchedule(cfg.lrSchedule, where);
  if (!(cfg.weightDecay >= 0 && cfg.weightDecay * cfg.learningRate < 1)) throw new Error(`${where}: weightDecay ${cfg.weightDecay} must be ≥ 0 with weightDecay × learningRate < 1`);
  if (!Number.isInteger(cfg.seed)) throw new Error(`${where}: seed ${cfg.seed} must be an integer`);
}

/**
 * The early-stopping rule, in one place: an epoch improves when its validation loss is below the
 * best so far; `patience` epochs in a row without improvement stop training. trainMlp runs it live,
 * replayPatience runs it over a recorded history.
 */
export class EarlyStopping {
  bestLoss = Infinity;
  bestEpoch = 0;
  /** Epoch at which the rule stopped; null while it has not. */
  stopEpoch: number | null = null;
  private since = 0;

  constructor(readonly patience: number) {}

  get stopped(): boolean {
    return this.stopEpoch !== null;
  }

  /** Records one epoch; true when it is the new best (the caller snapshots weights then). */
  update(epoch: number, valLoss: number): boolean {
    if (this.stopped) return false;
    if (valLoss < this.bestLoss) {
      this.bestLoss = valLoss;
      this.bestEpoch = epoch;
      this.since = 0;
      return true;
    }
    if (++this.since >= this.patience) this.stopEpoch = epoch;
    return false;
  }
}

/** A trained network with the scalers that map raw features → raw spectra. */
export class XanesMlp {
  constructor(
    readonly net: tf.LayersModel,
    readonly config: MlpConfig,
    readonly shape: MlpShape,
    readonly inputScaler: StandardScaler,
    readonly outputScaler: StandardScaler | null,
    /** outputScaling "pca": the network's outputs are coefficients on this basis (standardised units). */
    readonly outputPca: PcaBasis | null = null,
  ) {
    if ((outputPca !== null) !== (config.outputScaling === "pca")) throw new Error(`XanesMlp: outputScaling '${config.outputScaling}' ${outputPca ? "with" : "without"} a PCA basis`);
    if (outputPca && (!outputScaler || outputPca.nColumns !== shape.nOutputs)) throw new Error(`XanesMlp: the PCA basis needs the output scaler and ${shape.nOutputs} columns`);
  }

  /** Width of the network's last layer (nOutputs, or the number of PCA coefficients). */
  get networkOutputs(): number {
    return this.outputPca ? this.outputPca.k : this.shape.nOutputs;
  }

  get nFeatures(): number {
    return this.shape.nFeatures;
  }

  get nOutputs(): number {
    return this.shape.nOutputs;
  }

  /** ±bound on standardised inputs (null: none); the bounds themselves are in inputScaler. */
  get inputClip(): number | null {
    return this.config.inputClip;
  }

  /**
   * Spectra (n × nOutputs, original units) for raw feature rows (n × nFeatures). The input scaler
   * standardises and clips (inputClip) before the network. A non-finite output raises: a caller
   * never receives NaN/∞ as a spectrum (e.g. from corrupted weights).
   */
  predict(X: Matrix, batchSize = 4096): Matrix {
    const d = this.nFeatures;
    const m = this.nOutputs;
    const w = this.networkOutputs;
    if (X.cols !== d) throw new Error(`XanesMlp.predict: input has ${X.cols} features, the model expects ${d}`);
    const n = X.rows;
    const Xs = this.inputScaler.transform(X.data);
    const net = new Float32Array(n * w);
    for (let start = 0; start < n; start += batchSize) {
      const rows = Math.min(batchSize, n - start);
      const y = tf.tidy(() => forward(this.net, tf.tensor2d(Xs.subarray(start * d, (start + rows) * d), [rows, d]), 0, null));
      net.set(y.dataSync() as Float32Array, start * w);
      y.dispose();
    }
    const out = this.outputPca ? this.outputPca.inverseTransform(net) : net;
    if (this.outputScaler) this.outputScaler.inverseTransform(out, out);
    for (let i = 0; i < out.length; i++) {
      if (!Number.isFinite(out[i])) throw new Error(`XanesMlp.predict: row ${Math.floor(i / m)} output ${i % m} is ${out[i]} (non-finite weights or inputs)`);
    }
    return { data: out, rows: n, cols: m };
  }

  /**
   * `samples` Monte Carlo dropout predictions (Gal & Ghahramani, ICML 2016): the training dropout
   * left on, masks seeded by `seed` (sample k uses seed + 7919·k). Dropout acts after the hidden
   * layers only, so the first layer (the largest product) is computed once for all samples.
   */
  predictDropoutSamples(X: Matrix, samples: number, seed: number): Float32Array[] {
    const d = this.nFeatures;
    const m = this.nOutputs;
    if (X.cols !== d) throw new Error(`XanesMlp.predictDropoutSamples: input has ${X.cols} features, the model expects ${d}`);
    const rate = this.config.dropout;
    const layers = this.net.layers.filter((l) => l.getClassName() !== "InputLayer");
    const out = Array.from({ length: samples }, () => new Float32Array(X.rows * m));
    if (X.rows === 0) return out;
    const first = tf.tidy(() => layers[0].apply(tf.tensor2d(this.inputScaler.transform(X.data), [X.rows, d])) as tf.Tensor);
    try {
      for (let k = 0; k < samples; k++) {
        const base = seed + 7919 * k;
        // The first layer's dropout (seed base + 0, as forward() draws it), then the rest of forward().
        const y = tf.tidy(() => forward(this.net, (layers.length > 1 && rate > 0 ? tf.dropout(first, rate, undefined, base) : first) as tf.Tensor2D, rate, base, 1));
        const raw = y.dataSync() as Float32Array;
        // PCA outputs: the net predicts coefficients, put back on the mesh as in predict().
        out[k].set(this.outputPca ? this.outputPca.inverseTransform(raw) : raw);
        y.dispose();
        if (this.outputScaler) this.outputScaler.inverseTransform(out[k], out[k]);
        for (let i = 0; i < out[k].length; i++) {
          if (!Number.isFinite(out[k][i])) throw new Error(`XanesMlp.predictDropoutSamples: row ${Math.floor(i / m)} output ${i % m} is ${out[k][i]}`);
        }
      }
    } finally {
      first.dispose();
    }
    return out;
  }

  /** Copies of the current weights (kernel, bias per layer), e.g. to compare runs. */
  weightsSnapshot(): Float32Array[] {
    return this.net.getWeights().map((w) => w.dataSync() as Float32Array).map((a) => Float32Array.from(a));
  }

  dispose(): void {
    this.net.dispose();
  }
}

/** Builds the Dense stack with seeded Glorot-uniform kernels and zero biases. */
export function buildMlpNetwork(nFeatures: number, nOutputs: number, hidden: number[], activation: MlpActivation, seed: number): tf.Sequential {
  const net = tf.sequential();
  const widths = [...hidden, nOutputs];
  widths.forEach((units, i) => {
    if (!Number.isInteger(units) || units <= 0) throw new Error(`buildMlpNetwork: layer width ${units} must be a positive integer`);
    net.add(
      tf.layers.dense({
        units,
        activation: i < hidden.length ? activation : "linear",
        inputShape: i === 0 ? [nFeatures] : undefined,
        // Distinct per-layer seeds derived from the run seed.
        kernelInitializer: tf.initializers.glorotUniform({ seed: (seed * 7919 + i * 104729) % 2147483647 }),
        biasInitializer: "zeros",
      }),
    );
  });
  return net;
}

/** Forward pass from layer `from`; dropout (seeded per call) after each hidden layer when `dropout` > 0 and seeds are given. */
function forward(net: tf.LayersModel, x: tf.Tensor2D, dropout: number, dropoutSeed: number | null, from = 0): tf.Tensor2D {
  let h: tf.Tensor = x;
  // A model loaded from JSON may list its InputLayer; applying it is not a computation.
  const layers = net.layers.filter((l) => l.getClassName() !== "InputLayer");
  // `from` > 0: x is already the (dropped-out) output of layer from − 1.
  for (let i = from; i < layers.length; i++) {
    h = layers[i].apply(h) as tf.Tensor;
    if (dropout > 0 && dropoutSeed !== null && i < layers.length - 1) h = tf.dropout(h, dropout, undefined, dropoutSeed + i);
  }
  return h as tf.Tensor2D;
}

interface OutputUnits {
  mean: tf.Tensor1D;
  scale: tf.Tensor1D;
}

/** The training objective (see MlpLoss); pred/y are in scaled units, `units` undoes the scaling. */
function objective(pred: tf.Tensor2D, y: tf.Tensor2D, loss: MlpLoss, lambda: number, units: OutputUnits | null): tf.Scalar {
  const mse = tf.mean(tf.squaredDifference(pred, y)) as tf.Scalar;
  if (loss === "mse") return mse;
  const p = units ? pred.mul(units.scale).add(units.mean) : pred;
  const t = units ? y.mul(units.scale).add(units.mean) : y;
  let term: tf.Scalar;
  if (loss === "mse+cosine") {
    const dot = tf.sum(tf.mul(p, t), 1);
    const norms = tf.mul(tf.norm(p, "euclidean", 1), tf.norm(t, "euclidean", 1));
    term = tf.mean(tf.sub(1, tf.div(dot, tf.add(norms, 1e-12)))) as tf.Scalar;
  } else if (loss === "mse+derivative") {
    const m = pred.shape[1];
    if (m < 2) throw new Error("loss 'mse+derivative' needs at least 2 outputs");
    const dp = tf.sub(tf.slice(p, [0, 1], [-1, m - 1]), tf.slice(p, [0, 0], [-1, m - 1]));
    const dt = tf.sub(tf.slice(t, [0, 1], [-1, m - 1]), tf.slice(t, [0, 0], [-1, m - 1]));
    term = tf.mean(tf.squaredDifference(dp, dt)) as tf.Scalar;
  } else {
    throw new Error(`unknown loss '${loss as string}' (expected mse, mse+cosine, mse+derivative)`);
  }
  return tf.add(mse, tf.mul(term, lambda)) as tf.Scalar;
}

/** Copies rows `idx[from..from+count)` of a row-major matrix into `buf` (no per-row allocation). */
function gatherRows(src: Float32Array, width: number, idx: ArrayLike<number>, from: number, count: number, buf: Float32Array): Float32Array {
  for (let k = 0; k < count; k++) {
    const r = idx[from + k];
    buf.set(src.subarray(r * width, (r + 1) * width), k * width);
  }
  return count * width === buf.length ? buf : buf.subarray(0, count * width);
}

/** Checked row-index lists of a split (`where` names the caller in messages). */
export function checkSplit(split: FitSplit, n: number, where: string): { train: Int32Array; val: Int32Array } {
  const train = Int32Array.from(split.train);
  const val = Int32Array.from(split.val ?? []);
  if (train.length === 0) throw new Error(`${where}: the training split is empty`);
  for (const [name, idx] of [["train", train], ["val", val]] as const) {
    for (let k = 0; k < idx.length; k++) {
      const r = idx[k];
      if (!(r >= 0 && r < n)) throw new Error(`${where}: ${name}[${k}] = ${r} is not a row index in 0..${n - 1}`);
    }
  }
  return { train, val };
}

/** Mean objective over `idx` rows, evaluated in chunks without dropout. */
function evaluateRows(net: tf.LayersModel, data: ScaledData, idx: ArrayLike<number>, cfg: MlpConfig): number {
  const { Xs, Ys, d, m, units } = data;
  const chunk = 2048;
  const xb = new Float32Array(Math.min(chunk, idx.length) * d);
  const yb = new Float32Array(Math.min(chunk, idx.length) * m);
  let sum = 0;
  for (let s = 0; s < idx.length; s += chunk) {
    const rows = Math.min(chunk, idx.length - s);
    const xv = gatherRows(Xs, d, idx, s, rows, xb);
    const yv = gatherRows(Ys, m, idx, s, rows, yb);
    const l = tf.tidy(() => objective(forward(net, tf.tensor2d(xv, [rows, d]), 0, null), tf.tensor2d(yv, [rows, m]), cfg.loss, cfg.lossWeight, units));
    sum += l.dataSync()[0] * rows;
    l.dispose();
  }
  return sum / idx.length;
}

/** Standardised training data: scalers fitted on the training rows only. */
interface ScaledData {
  Xs: Float32Array;
  /** Targets as the network predicts them (standardised values, or PCA coefficients). */
  Ys: Float32Array;
  d: number;
  /** Network outputs per row (mesh points, or PCA coefficients). */
  m: number;
  inputScaler: StandardScaler;
  outputScaler: StandardScaler | null;
  outputPca: PcaBasis | null;
  /** De-standardisation for the shape-aware losses (null for plain mse or raw targets). */
  units: OutputUnits | null;
}

/** The target scaler of MlpConfig.outputScaleExponent γ: per-point scales c·σ_j^γ (γ = 1: the z-score scaler itself). */
export function outputTargetScaler(z: StandardScaler, exponent: number): StandardScaler {
  if (exponent === 1) return z;
  let acc = 0;
  for (const v of z.scale) acc += v ** (2 - 2 * exponent);
  const c = Math.sqrt(acc / z.scale.length);
  return new StandardScaler(z.mean, Array.from(z.scale, (v) => c * v ** exponent));
}

function scaleData(X: Matrix, Y: Matrix, train: Int32Array, cfg: MlpConfig): ScaledData {
  const d = X.cols;
  const m = Y.cols;
  const inputScaler = cfg.inputClip == null ? StandardScaler.fit(X.data, d, train) : StandardScaler.fitClipped(X.data, d, train, cfg.inputClip);
  const outputScaler = cfg.outputScaling !== "none" ? outputTargetScaler(StandardScaler.fit(Y.data, m, train), cfg.outputScaleExponent) : null;
  const units: OutputUnits | null =
    outputScaler && cfg.loss !== "mse"
      ? { mean: tf.tensor1d(Float32Array.from(outputScaler.mean)), scale: tf.tensor1d(Float32Array.from(outputScaler.scale)) }
      : null;
  const Yz = outputScaler ? outputScaler.transform(Y.data) : Y.data;
  // checkMlpConfig: pcaComponents is set whenever outputScaling is "pca"
  const outputPca = cfg.outputScaling === "pca" ? PcaBasis.fit(Yz, m, train, cfg.pcaComponents!) : null;
  const Ys = outputPca ? outputPca.transform(Yz) : Yz;
  return { Xs: inputScaler.transform(X.data), Ys, d, m: outputPca ? outputPca.k : m, inputScaler, outputScaler, outputPca, units };
}

/** One pass over the shuffled training rows; returns the mean training objective. */
function trainEpoch(
  net: tf.LayersModel, vars: tf.Variable[], optimizer: AdamStepper, data: ScaledData, order: Int32Array, rng: () => number,
  cfg: MlpConfig, buffers: { xb: Float32Array; yb: Float32Array; bs: number }, nativeStep: NativeTrainStep | null, learningRate: number,
): number {
  const { Xs, Ys, d, m, units } = data;
  const { xb, yb, bs } = buffers;
  shuffleInPlace(order, rng);
  (nativeStep ?? optimizer).setLearningRate(learningRate);
  let lossSum = 0;
  for (let s = 0; s < order.length; s += bs) {
    const rows = Math.min(bs, order.length - s);
    const xv = gatherRows(Xs, d, order, s, rows, xb);
    const yv = gatherRows(Ys, m, order, s, rows, yb);
    const dropSeed = cfg.dropout > 0 ? Math.floor(rng() * 2147483647) : null;
    if (nativeStep) {
      lossSum += nativeStep.step(xv, yv, rows, dropSeed) * rows;
      continue;
    }
    const xt = tf.tensor2d(xv, [rows, d]);
    const yt = tf.tensor2d(yv, [rows, m]);
    const batchLoss = optimizer.minimize(() => objective(forward(net, xt, cfg.dropout, dropSeed), yt, cfg.loss, cfg.lossWeight, units), vars);
    lossSum += batchLoss * rows;
    xt.dispose();
    yt.dispose();
  }
  nativeStep?.syncWeights();
  return lossSum / order.length;
}

/**
 * Trains an MLP on rows `split.train` of X → Y with early stopping on `split.val` (config.patience;
 * the best epoch's weights are restored). Scalers are fitted on the training rows only;
 * standardised inputs are clipped (config.inputClip). Requires an initialised tfjs backend (see
 * initBackend); the backend name is recorded in the timing.
 */
export async function trainMlp(X: Matrix, Y: Matrix, config: MlpConfig, split: FitSplit, hooks: TrainHooks = {}): Promise<TrainMlpResult> {
  const cfg: MlpConfig = { ...config, hidden: [...config.hidden] };
  checkMlpConfig(cfg, "trainMlp");
  if (Y.rows !== X.rows) throw new Error(`trainMlp: Y has ${Y.rows} rows, X has ${X.rows}`);
  const { train, val } = checkSplit(split, X.rows, "trainMlp");
  const recordUntil = Math.max(cfg.patience, hooks.recordUntilPatience ?? 0);

  const t0 = performance.now();
  const data = scaleData(X, Y, train, cfg);
  const net = buildMlpNetwork(X.cols, data.m, cfg.hidden, cfg.activation, cfg.seed);
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = createAdam(cfg.learningRate, "auto", cfg.weightDecay);
  // Whole training step in native code when it applies (lib/model/train_step.ts); else tfjs below.
  const nativeStep = createNativeTrainStep(net, { ...cfg, batchSize: Math.min(cfg.batchSize, train.length) });
  const rng = createRng(cfg.seed);
  const order = Int32Array.from(train);
  const bs = Math.min(cfg.batchSize, order.length);
  const buffers = { xb: new Float32Array(bs * X.cols), yb: new Float32Array(bs * data.m), bs };

  const history: EpochLog[] = [];
  const stopping = new EarlyStopping(cfg.patience);
  const recording = new EarlyStopping(recordUntil);
  let best: tf.Tensor[] | null = null;
  let bestEpoch = 0;
  let stepMs = 0;
  let stepSamples = 0;
  let firstEpochMs = 0;
  try {
    for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
      const te = performance.now();
      const loss = trainEpoch(net, vars, optimizer, data, order, rng, cfg, buffers, nativeStep, lrAt(cfg, epoch));
      const trainMs = performance.now() - te;
      if (epoch === 1) firstEpochMs = trainMs;
      else {
        stepMs += trainMs;
        stepSamples += order.length;
      }
      if (!Number.isFinite(loss)) throw new Error(`trainMlp: training loss became ${loss} at epoch ${epoch} (lower learningRate?)`);
      const valLoss = val.length > 0 ? evaluateRows(net, data, val, cfg) : NaN;
      const log: EpochLog = { epoch, loss, valLoss, elapsedMs: performance.now() - t0 };
      history.push(log);

      if (val.length > 0) {
        if (stopping.update(epoch, valLoss)) {
          bestEpoch = epoch;
          best?.forEach((t) => t.dispose());
          best = net.getWeights().map((w) => w.clone());
        }
        recording.update(epoch, valLoss);
      } else {
        bestEpoch = epoch;
      }
      const stop = hooks.onEpoch?.(log) === false || recording.stopped;
      // Let notebook progress output and timers run between epochs.
      await new Promise((r) => setImmediate(r));
      if (stop) break;
    }
    if (best && bestEpoch !== history.length) net.setWeights(best);
  } finally {
    best?.forEach((t) => t.dispose());
    optimizer.dispose();
    data.units?.mean.dispose();
    data.units?.scale.dispose();
  }
  const model = new XanesMlp(net, cfg, { nFeatures: X.cols, nOutputs: Y.cols }, data.inputScaler, data.outputScaler, data.outputPca);
  return {
    model,
    history,
    bestEpoch,
    stopEpoch: stopping.stopEpoch ?? history.length,
    timing: {
      totalMs: performance.now() - t0,
      epochsRun: history.length,
      // Only one epoch ran: report it, warm-up included.
      samplesPerSec: stepSamples > 0 ? (stepSamples / stepMs) * 1000 : (order.length / firstEpochMs) * 1000,
      backend: tf.getBackend(),
      optimizer: nativeStep?.name ?? optimizer.name,
    },
  };
}

/** Early-stopping outcome of one patience, replayed from a validation-loss history. */
export interface PatienceOutcome {
  patience: number;
  /** Epoch at which training stops (patience epochs after the best, or the last epoch run). */
  stopEpoch: number;
  /** Epoch whose weights are restored (lowest validation loss up to stopEpoch). */
  bestEpoch: number;
  valLoss: number;
  /** False when the history ends before this patience would have stopped (outcome unknown). */
  complete: boolean;
}

/**
 * What early stopping with each candidate patience would have done, replayed (EarlyStopping, the
 * rule trainMlp runs) from one run's per-epoch validation losses: a seeded run follows the same
 * trajectory whatever its patience, up to where it stops. `maxEpochs`: the run's epoch limit
 * (reaching it also stops a run).
 */
export function replayPatience(history: readonly EpochLog[], candidates: readonly number[], maxEpochs: number): PatienceOutcome[] {
  const last = history.length ? history[history.length - 1].epoch : 0;
  return candidates.map((patience) => {
    const rule = new EarlyStopping(patience);
    for (const h of history) {
      rule.update(h.epoch, h.valLoss);
      if (rule.stopped) break;
    }
    const complete = rule.stopped || last >= maxEpochs;
    return { patience, stopEpoch: rule.stopEpoch ?? last, bestEpoch: rule.bestEpoch, valLoss: rule.bestLoss, complete };
  });
}
