/**
 * The training step of trainMlp in native code (native/blas/trainer.cc) for the configurations the
 * study trains: a Dense stack with one hidden activation (relu, tanh, sigmoid, elu, linear), MSE,
 * Adam, optional dropout. One call per batch does the forward pass (OpenBLAS sgemm with the bias,
 * activation and dropout fused into one pass), the loss, the backward pass (activation gradient and
 * bias column sums fused) and the Adam update in place, on buffers allocated once; with two
 * threads the calling thread and one worker share every phase. The tfjs LayersModel stays the model:
 * its weights are read at the start and written back by syncWeights() (each epoch, before
 * validation), so saving, loading and prediction are unchanged.
 *
 * Numerics: the same rule as tf.train.adam (β^t accumulated in float32) and tfjs's MSE; products
 * and sums run in a different order than tfjs's kernels, so weights agree with the tfjs path to
 * float32 rounding after one step and drift apart slowly (test/backend.test.ts measures it). Dropout
 * masks come from a counter-based hash of the per-batch seed, not tfjs's random stream: seeded and
 * reproducible, but not the masks of the tfjs path. Results do not depend on the thread count.
 */
import * as tf from "@tensorflow/tfjs";
import { loadNativeBlas, NativeBlas } from "./native_blas";
import { secondCoreIdle } from "../util/load";
import { wasmKernelPatches } from "./wasm_kernels";
import { decayFactor } from "./optimizer";

const ACTIVATION_CODES: Record<string, number> = { linear: 0, relu: 1, tanh: 2, sigmoid: 3, elu: 4 };
const BETA1 = 0.9;
const BETA2 = 0.999;
/** tf.train.adam's default ε for float32 backends (as createAdam). */
const EPSILON = 1e-7;

export interface NativeTrainStepOptions {
  activation: string;
  dropout: number;
  loss: string;
  learningRate: number;
  /** Decoupled (AdamW) weight decay λ: w ← w·(1 − lr·λ) before the Adam update (default 0; see optimizer.ts). */
  weightDecay?: number;
  /** Largest batch (rows per step). */
  batchSize: number;
  /**
   * 1 or 2; default XANES_TRAIN_THREADS, else 2 when other processes leave a second core idle
   * (lib/util/load secondCoreIdle, asked at each training): on busy shared cores the two threads wait
   * on each other and one thread is faster.
   * Results are bitwise the same either way.
   */
  threads?: 1 | 2;
}

/** Why the native step cannot train this configuration here, or null when it can. */
export function nativeTrainStepUnavailable(opts: Pick<NativeTrainStepOptions, "activation" | "loss">): string | null {
  if (process.env.XANES_TRAIN_STEP === "tfjs") return "XANES_TRAIN_STEP=tfjs";
  if (tf.getBackend() !== "wasm" || !wasmKernelPatches().includes("BatchMatMul(openblas)")) return "needs the wasm backend with the OpenBLAS addon active";
  if (!loadNativeBlas()) return "native addon not built";
  if (opts.loss !== "mse") return `loss '${opts.loss}' runs on tfjs`;
  if (!(opts.activation in ACTIVATION_CODES)) return `activation '${opts.activation}' runs on tfjs`;
  return null;
}

function defaultThreads(): 1 | 2 {
  const env = process.env.XANES_TRAIN_THREADS;
  if (env === "1" || env === "2") return Number(env) as 1 | 2;
  // Per training, with this process's own use taken out of the load average (lib/util/load): an
  // idle machine gets two threads even right after this process trained with two.
  return secondCoreIdle() ? 2 : 1;
}

interface DenseLike {
  getClassName(): string;
  getConfig(): tf.serialization.ConfigDict;
}

/** Trains the weights of a Dense-stack LayersModel (as built by buildMlpNetwork) with native steps. */
export class NativeTrainStep {
  readonly name: string;
  readonly widths: number[];
  /** [params | m | v | grads], each in the order of net.getWeights(). */
  private readonly arena: Float32Array;
  private readonly nParams: number;
  private readonly handle: object;
  private accBeta1 = Math.fround(BETA1);
  private accBeta2 = Math.fround(BETA2);
  private dirty = false;
  private learningRate: number;

  constructor(
    private readonly blas: NativeBlas,
    private readonly net: tf.LayersModel,
    private readonly opts: NativeTrainStepOptions,
  ) {
    const layers = net.layers.filter((l) => l.getClassName() !== "InputLayer") as unknown as DenseLike[];
    const weights = net.getWeights();
    if (layers.length === 0 || weights.length !== 2 * layers.length) throw new Error("native train step: expected Dense layers with kernel and bias");
    this.widths = [weights[0].shape[0]];
    layers.forEach((l, i) => {
      const c = l.getConfig();
      const act = String(c.activation);
      const want = i < layers.length - 1 ? opts.activation : "linear";
      if (l.getClassName() !== "Dense" || act !== want) throw new Error(`native train step: layer ${i} is ${l.getClassName()}/${act}, expected Dense/${want}`);
      const [k, b] = [weights[2 * i], weights[2 * i + 1]];
      if (k.shape[0] !== this.widths[i] || b.shape[0] !== k.shape[1]) throw new Error(`native train step: layer ${i} shapes ${k.shape} / ${b.shape} do not chain`);
      this.widths.push(k.shape[1]);
    });
    this.nParams = weights.reduce((s, w) => s + w.size, 0);
    this.arena = new Float32Array(4 * this.nParams);
    let off = 0;
    for (const w of weights) {
      this.arena.set(w.dataSync() as Float32Array, off);
      off += w.size;
    }
    this.learningRate = opts.learningRate;
    if (!((opts.weightDecay ?? 0) >= 0)) throw new Error(`native train step: weightDecay ${opts.weightDecay} must be ≥ 0`);
    const threads = opts.threads ?? defaultThreads();
    this.handle = blas.trainerCreate(Int32Array.from(this.widths), ACTIVATION_CODES[opts.activation], opts.batchSize, this.arena, threads);
    this.name = `native-step(${threads} thread${threads > 1 ? "s" : ""})`;
  }

  /** The rate of the following steps (a learning-rate schedule sets it each epoch). */
  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
  }

  /** One step on the first `rows` rows of x (rows × widths[0]) and y; returns the loss before the update. */
  step(x: Float32Array, y: Float32Array, rows: number, dropoutSeed: number | null): number {
    const c1 = Math.fround(1 - this.accBeta1);
    const c2 = Math.fround(1 - this.accBeta2);
    this.accBeta1 = Math.fround(this.accBeta1 * Math.fround(BETA1));
    this.accBeta2 = Math.fround(this.accBeta2 * Math.fround(BETA2));
    const rate = dropoutSeed === null ? 0 : this.opts.dropout;
    this.dirty = true;
    const keep = decayFactor(this.learningRate, this.opts.weightDecay ?? 0);
    const args = [this.handle, x, y, rows, this.learningRate, BETA1, BETA2, c1, c2, EPSILON, rate, dropoutSeed ?? 0] as const;
    // the 13th argument only with decay: an addon built before it existed still trains without
    return keep === 1 ? this.blas.trainerStep(...args) : this.blas.trainerStep(...args, keep);
  }

  /** Forward pass without dropout on the current weights (rows × widths[0] → rows × last width). */
  predict(x: Float32Array, rows: number, out = new Float32Array(rows * this.widths[this.widths.length - 1])): Float32Array {
    this.blas.trainerPredict(this.handle, x, rows, out);
    return out;
  }

  /** Gradients of the last step's loss (tfjs weight order), views into the arena. */
  gradients(): Float32Array[] {
    return this.views(3 * this.nParams);
  }

  /** Writes the current weights into the tfjs model (no-op when unchanged since the last sync). */
  syncWeights(): void {
    if (!this.dirty) return;
    // The wasm backend copies a new tensor's values into its heap at creation, so views suffice
    // (≈ 1.5 ms for the study MLP; slice copies or setWeights cost 3–4× that).
    const copy = tf.getBackend() !== "wasm";
    const vars = this.net.trainableWeights.map((w) => w.read() as tf.Variable);
    this.views(0).forEach((v, i) => {
      const t = tf.tensor(copy ? v.slice() : v, vars[i].shape);
      vars[i].assign(t);
      t.dispose();
    });
    this.dirty = false;
  }

  private views(base: number): Float32Array[] {
    const out: Float32Array[] = [];
    let off = base;
    for (let i = 0; i + 1 < this.widths.length; i++) {
      const nk = this.widths[i] * this.widths[i + 1];
      out.push(this.arena.subarray(off, off + nk));
      off += nk;
      out.push(this.arena.subarray(off, off + this.widths[i + 1]));
      off += this.widths[i + 1];
    }
    return out;
  }
}

/** The native step for this network and configuration, or null when it does not apply (see nativeTrainStepUnavailable). */
export function createNativeTrainStep(net: tf.LayersModel, opts: NativeTrainStepOptions): NativeTrainStep | null {
  if (nativeTrainStepUnavailable(opts) !== null) return null;
  return new NativeTrainStep(loadNativeBlas()!, net, opts);
}
