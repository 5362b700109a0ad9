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
import { createAdam } from "./optimizer";
import { createNativeTrainStep } from "./train_step";

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

export interface MlpConfig {
  nFeatures: number;
  nOutputs: number;
  hidden: number[];
  activation: MlpActivation;
  dropout: number;
  /** "standard": targets z-scored per mesh point on the training rows; "none": raw targets. */
  outputScaling: "standard" | "none";
  loss: MlpLoss;
  /** λ of the shape-aware term (ignored for "mse"). */
  lossWeight: number;
  learningRate: number;
  batchSize: number;
  epochs: number;
  patience: number;
  seed: number;
  /**
   * Standardised inputs are clipped to ±inputClip training standard deviations (see
   * StandardScaler.fitClipped); null: no clipping. Absent in models saved before the option.
   */
  inputClip?: number | null;
}

export interface EpochLog {
  epoch: number;
  /** Mean training objective over the epoch's batches (dropout active). */
  loss: number;
  /** Objective on the validation rows (no dropout); NaN without a validation split. */
  valLoss: number;
  elapsedMs: number;
}

export interface TrainMlpOptions {
  /** Rows used to fit scalers and weights. */
  trainIdx: ArrayLike<number>;
  /** Rows for early stopping; empty/omitted disables early stopping. */
  valIdx?: ArrayLike<number>;
  hidden?: number[];
  activation?: MlpActivation;
  dropout?: number;
  learningRate?: number;
  batchSize?: number;
  epochs?: number;
  /** Epochs without validation improvement before stopping; best weights are restored. */
  patience?: number;
  seed?: number;
  loss?: MlpLoss;
  lossWeight?: number;
  outputScaling?: "standard" | "none";
  /**
   * Clip each standardised input to ±inputClip training standard deviations, in training and in
   * every later prediction (the bounds live in the model's input scaler, so save/load and
   * XanesPredictor apply them); null disables. Default 5 (DEFAULT_INPUT_CLIP, measured there).
   */
  inputClip?: number | null;
  /** Called after each epoch; return false to stop training. */
  onEpoch?: (log: EpochLog) => void | boolean;
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
  timing: TrainTiming;
}

/**
 * Default `inputClip`. Why clip: descriptor columns nearly constant on the training rows (rare
 * elements, some OFM entries) give test sites standardised values up to ~1000; the unclipped MLP
 * extrapolates wildly there and a handful of such spectra dominate the mean test MSE. Why 5:
 * measured on the Cu K set (grouped split, final net of experimentConfig("full"), seed 42):
 * unclipped, mean test MSE 4.9e-3 (one spectrum at 2.8), validation loss 0.201; clip 3 / 5 / 10:
 * test 2.09e-3 / 1.98e-3 / 1.95e-3, validation loss 0.191 / 0.185 / 0.187 — the bound matters, its
 * exact value does not (clip 5 with seeds 1, 2: test 1.93e-3, 2.11e-3). ±5 leaves columns whose
 * training values are roughly normal untouched (|z| > 5 for < 1e-6 of a normal sample) and
 * bounds only the heavy-tailed rare columns.
 */
export const DEFAULT_INPUT_CLIP = 5;

const DEFAULTS = {
  hidden: [512, 512, 256],
  activation: "relu" as MlpActivation,
  dropout: 0,
  learningRate: 1e-3,
  batchSize: 64,
  epochs: 200,
  patience: 20,
  seed: 0,
  loss: "mse" as MlpLoss,
  lossWeight: 1,
  outputScaling: "standard" as const,
  inputClip: DEFAULT_INPUT_CLIP as number | null,
};

/** A trained network with the scalers that map raw features → raw spectra. */
export class XanesMlp {
  constructor(
    readonly net: tf.LayersModel,
    readonly config: MlpConfig,
    readonly inputScaler: StandardScaler,
    readonly outputScaler: StandardScaler | null,
  ) {}

  get nFeatures(): number {
    return this.config.nFeatures;
  }

  get nOutputs(): number {
    return this.config.nOutputs;
  }

  /** ±bound on standardised inputs (null: none); the bounds themselves are in inputScaler. */
  get inputClip(): number | null {
    return this.config.inputClip ?? null;
  }

  /**
   * Predicts spectra for raw feature rows (n × nFeatures, row-major) → n × nOutputs, original units.
   * The input scaler standardises and clips (trainMlp's inputClip) before the network.
   */
  predict(X: Float32Array, batchSize = 4096): Float32Array {
    const d = this.config.nFeatures;
    const m = this.config.nOutputs;
    if (X.length % d !== 0) throw new Error(`XanesMlp.predict: input length ${X.length} is not a multiple of ${d} features`);
    const n = X.length / d;
    const Xs = this.inputScaler.transform(X);
    const out = new Float32Array(n * m);
    for (let start = 0; start < n; start += batchSize) {
      const rows = Math.min(batchSize, n - start);
      const y = tf.tidy(() => forward(this.net, tf.tensor2d(Xs.subarray(start * d, (start + rows) * d), [rows, d]), 0, null));
      out.set(y.dataSync() as Float32Array, start * m);
      y.dispose();
    }
    return this.outputScaler ? this.outputScaler.inverseTransform(out, out) : out;
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

/** Forward pass; dropout (seeded per call) after each hidden layer when `dropout` > 0 and seeds are given. */
function forward(net: tf.LayersModel, x: tf.Tensor2D, dropout: number, dropoutSeed: number | null): tf.Tensor2D {
  let h: tf.Tensor = x;
  // A model loaded from JSON may list its InputLayer; applying it is not a computation.
  const layers = net.layers.filter((l) => l.getClassName() !== "InputLayer");
  for (let i = 0; i < layers.length; i++) {
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

function checkIndices(idx: ArrayLike<number>, n: number, name: string): void {
  for (let k = 0; k < idx.length; k++) {
    const r = idx[k];
    if (!Number.isInteger(r) || r < 0 || r >= n) throw new Error(`trainMlp: ${name}[${k}] = ${r} is not a row index in 0..${n - 1}`);
  }
}

/** Mean objective over `idx` rows, evaluated in chunks without dropout. */
function evaluateRows(
  net: tf.LayersModel, Xs: Float32Array, d: number, Ys: Float32Array, m: number, idx: ArrayLike<number>,
  cfg: MlpConfig, units: OutputUnits | null,
): number {
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

/**
 * Trains an MLP on rows `trainIdx` of X (n × nFeatures) → Y (n × nOutputs), with early stopping on
 * `valIdx`. Scalers are fitted on the training rows only; standardised inputs are clipped
 * (options.inputClip). Requires an initialised tfjs backend (see initBackend); the backend name
 * is recorded in the timing.
 */
export async function trainMlp(
  X: Float32Array, nFeatures: number, Y: Float32Array, nOutputs: number, options: TrainMlpOptions,
): Promise<TrainMlpResult> {
  const cfg: MlpConfig = {
    nFeatures,
    nOutputs,
    hidden: options.hidden ?? DEFAULTS.hidden,
    activation: options.activation ?? DEFAULTS.activation,
    dropout: options.dropout ?? DEFAULTS.dropout,
    outputScaling: options.outputScaling ?? DEFAULTS.outputScaling,
    loss: options.loss ?? DEFAULTS.loss,
    lossWeight: options.lossWeight ?? DEFAULTS.lossWeight,
    learningRate: options.learningRate ?? DEFAULTS.learningRate,
    batchSize: options.batchSize ?? DEFAULTS.batchSize,
    epochs: options.epochs ?? DEFAULTS.epochs,
    patience: options.patience ?? DEFAULTS.patience,
    seed: options.seed ?? DEFAULTS.seed,
    inputClip: options.inputClip === undefined ? DEFAULTS.inputClip : options.inputClip,
  };
  if (X.length % nFeatures !== 0) throw new Error(`trainMlp: X length ${X.length} is not a multiple of nFeatures ${nFeatures}`);
  const n = X.length / nFeatures;
  if (Y.length !== n * nOutputs) throw new Error(`trainMlp: Y length ${Y.length} ≠ ${n} rows × ${nOutputs} outputs`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new Error(`trainMlp: dropout ${cfg.dropout} must be in [0, 1)`);
  if (!(cfg.batchSize >= 1)) throw new Error(`trainMlp: batchSize ${cfg.batchSize} must be ≥ 1`);
  if (!["mse", "mse+cosine", "mse+derivative"].includes(cfg.loss)) {
    throw new Error(`trainMlp: unknown loss '${cfg.loss}' (expected mse, mse+cosine, mse+derivative)`);
  }
  if (!(cfg.lossWeight >= 0)) throw new Error(`trainMlp: lossWeight ${cfg.lossWeight} must be ≥ 0`);
  if (cfg.inputClip !== null && !(cfg.inputClip! > 0)) throw new Error(`trainMlp: inputClip ${cfg.inputClip} must be > 0 or null`);
  if (!(cfg.epochs >= 1) || !(cfg.patience >= 1)) throw new Error(`trainMlp: epochs (${cfg.epochs}) and patience (${cfg.patience}) must be ≥ 1`);
  const trainIdx = Int32Array.from(options.trainIdx);
  const valIdx = Int32Array.from(options.valIdx ?? []);
  if (trainIdx.length === 0) throw new Error("trainMlp: trainIdx is empty");
  checkIndices(trainIdx, n, "trainIdx");
  checkIndices(valIdx, n, "valIdx");

  const t0 = performance.now();
  const inputScaler =
    cfg.inputClip == null ? StandardScaler.fit(X, nFeatures, trainIdx) : StandardScaler.fitClipped(X, nFeatures, trainIdx, cfg.inputClip);
  const outputScaler = cfg.outputScaling === "standard" ? StandardScaler.fit(Y, nOutputs, trainIdx) : null;
  const Xs = inputScaler.transform(X);
  const Ys = outputScaler ? outputScaler.transform(Y) : Y;
  const units: OutputUnits | null =
    outputScaler && cfg.loss !== "mse"
      ? { mean: tf.tensor1d(Float32Array.from(outputScaler.mean)), scale: tf.tensor1d(Float32Array.from(outputScaler.scale)) }
      : null;

  const net = buildMlpNetwork(nFeatures, nOutputs, cfg.hidden, cfg.activation, cfg.seed);
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = createAdam(cfg.learningRate);
  // Whole training step in native code when it applies (lib/model/train_step.ts); else tfjs below.
  const nativeStep = createNativeTrainStep(net, { ...cfg, batchSize: Math.min(cfg.batchSize, trainIdx.length) });
  const rng = createRng(cfg.seed);
  const order = Int32Array.from(trainIdx);
  const bs = Math.min(cfg.batchSize, order.length);
  const xb = new Float32Array(bs * nFeatures);
  const yb = new Float32Array(bs * nOutputs);

  const history: EpochLog[] = [];
  let best: tf.Tensor[] | null = null;
  let bestLoss = Infinity;
  let bestEpoch = 0;
  let sinceBest = 0;
  let stepMs = 0;
  let stepSamples = 0;
  let firstEpochMs = 0;
  try {
    for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
      shuffleInPlace(order, rng);
      const te = performance.now();
      let lossSum = 0;
      for (let s = 0; s < order.length; s += bs) {
        const rows = Math.min(bs, order.length - s);
        const xv = gatherRows(Xs, nFeatures, order, s, rows, xb);
        const yv = gatherRows(Ys, nOutputs, order, s, rows, yb);
        const dropSeed = cfg.dropout > 0 ? Math.floor(rng() * 2147483647) : null;
        if (nativeStep) {
          lossSum += nativeStep.step(xv, yv, rows, dropSeed) * rows;
          continue;
        }
        const xt = tf.tensor2d(xv, [rows, nFeatures]);
        const yt = tf.tensor2d(yv, [rows, nOutputs]);
        const batchLoss = optimizer.minimize(
          () => objective(forward(net, xt, cfg.dropout, dropSeed), yt, cfg.loss, cfg.lossWeight, units),
          vars,
        );
        lossSum += batchLoss * rows;
        xt.dispose();
        yt.dispose();
      }
      nativeStep?.syncWeights();
      const trainMs = performance.now() - te;
      if (epoch === 1) firstEpochMs = trainMs;
      else {
        stepMs += trainMs;
        stepSamples += order.length;
      }
      const loss = lossSum / order.length;
      if (!Number.isFinite(loss)) throw new Error(`trainMlp: training loss became ${loss} at epoch ${epoch} (lower learningRate?)`);
      const valLoss = valIdx.length > 0 ? evaluateRows(net, Xs, nFeatures, Ys, nOutputs, valIdx, cfg, units) : NaN;
      const log: EpochLog = { epoch, loss, valLoss, elapsedMs: performance.now() - t0 };
      history.push(log);

      let stop = false;
      if (valIdx.length > 0) {
        if (valLoss < bestLoss) {
          bestLoss = valLoss;
          bestEpoch = epoch;
          sinceBest = 0;
          best?.forEach((t) => t.dispose());
          best = net.getWeights().map((w) => w.clone());
        } else if (++sinceBest >= cfg.patience) {
          stop = true;
        }
      } else {
        bestEpoch = epoch;
      }
      if (options.onEpoch?.(log) === false) stop = true;
      // Let notebook progress output and timers run between epochs.
      await new Promise((r) => setImmediate(r));
      if (stop) break;
    }
    if (best && bestEpoch !== history.length) net.setWeights(best);
  } finally {
    best?.forEach((t) => t.dispose());
    optimizer.dispose();
    units?.mean.dispose();
    units?.scale.dispose();
  }
  const model = new XanesMlp(net, cfg, inputScaler, outputScaler);
  return {
    model,
    history,
    bestEpoch,
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

