/**
 * The Adam step used by trainMlp. On the wasm backend with the native addon active (BatchMatMul on
 * OpenBLAS) the update runs as one fused native pass per variable; elsewhere tf.train.adam.
 * tf.train.adam issues ~12 tensor ops per variable per step (each a full pass plus an allocation),
 * which costs about as much as the backward matmuls of the 1500-512-512-256-150 MLP.
 *
 * Weight decay is decoupled (AdamW, Loshchilov & Hutter 2019): with rate lr and decay λ, each step
 * is w ← w·(1 − lr·λ) − lr·m̂/(√v̂ + ε), the gradient taken at the old w. λ = 0 runs exactly the
 * plain Adam code (bit-identical results).
 */
import * as tf from "@tensorflow/tfjs";
import { loadNativeBlas, NativeBlas } from "./native_blas";
import { wasmKernelPatches } from "./wasm_kernels";

export interface AdamStepper {
  /** "native-adam" or "tfjs-adam". */
  readonly name: string;
  /** One step minimising `f` over `vars`; returns the loss before the update. */
  minimize(f: () => tf.Scalar, vars: tf.Variable[]): number;
  /** The rate of the following steps (a learning-rate schedule sets it each epoch). */
  setLearningRate(learningRate: number): void;
  dispose(): void;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
/** tf.train.adam's default ε for float32 backends. */
const EPSILON = 1e-7;

interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/** The AdamW factor 1 − lr·λ as the float32 both steps multiply by (1 when λ = 0). */
export function decayFactor(learningRate: number, weightDecay: number): number {
  return Math.fround(1 - Math.fround(learningRate) * weightDecay);
}

class TfjsAdam implements AdamStepper {
  readonly name = "tfjs-adam";
  private readonly opt: tf.AdamOptimizer;
  private learningRate: number;
  constructor(learningRate: number, private readonly weightDecay: number) {
    this.learningRate = learningRate;
    this.opt = tf.train.adam(learningRate, BETA1, BETA2, EPSILON);
  }
  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
    // tf.train.adam reads its rate at every applyGradients
    (this.opt as unknown as { learningRate: number }).learningRate = learningRate;
  }
  minimize(f: () => tf.Scalar, vars: tf.Variable[]): number {
    if (this.weightDecay === 0) {
      const cost = this.opt.minimize(f, true, vars)!;
      const loss = cost.dataSync()[0];
      cost.dispose();
      return loss;
    }
    const { value, grads } = this.opt.computeGradients(f, vars);
    const loss = value.dataSync()[0];
    value.dispose();
    const keep = decayFactor(this.learningRate, this.weightDecay);
    tf.tidy(() => vars.forEach((v) => v.assign(tf.mul(v, tf.scalar(keep)))));
    // minimize() hands the same map to applyGradients (its type names variables, the values are gradients)
    this.opt.applyGradients(grads as unknown as Parameters<tf.AdamOptimizer["applyGradients"]>[0]);
    tf.dispose(grads);
    return loss;
  }
  dispose(): void {
    this.opt.dispose();
  }
}

/** Adam on wasm-heap views through the addon; moments in plain Float32Arrays (never on the heap). */
class NativeAdam implements AdamStepper {
  readonly name = "native-adam";
  private readonly m: Float32Array[] = [];
  private readonly v: Float32Array[] = [];
  // β^t accumulated in float32 as tf.train.adam does, so both agree to float32 rounding.
  private accBeta1 = Math.fround(BETA1);
  private accBeta2 = Math.fround(BETA2);
  /** Decayed weights (AdamW), one buffer per variable, when weightDecay > 0. */
  private readonly decayed: Float32Array[] = [];
  constructor(private readonly blas: NativeBlas, private learningRate: number, private readonly weightDecay: number) {}

  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
  }

  minimize(f: () => tf.Scalar, vars: tf.Variable[]): number {
    const { value, grads } = tf.variableGrads(f, vars);
    const loss = value.dataSync()[0];
    value.dispose();
    const c1 = Math.fround(1 - this.accBeta1);
    const c2 = Math.fround(1 - this.accBeta2);
    this.accBeta1 = Math.fround(this.accBeta1 * Math.fround(BETA1));
    this.accBeta2 = Math.fround(this.accBeta2 * Math.fround(BETA2));
    const heap = tf.backend() as unknown as WasmHeap;
    for (let i = 0; i < vars.length; i++) {
      const x = vars[i];
      const g = grads[x.name];
      if (!this.m[i]) {
        this.m[i] = new Float32Array(x.size);
        this.v[i] = new Float32Array(x.size);
      } else if (this.m[i].length !== x.size) {
        throw new Error("native Adam: variable list changed between steps");
      }
      // New weights go to a fresh tensor (new id): the wasm backend caches packed weights by id.
      const out = heap.makeOutput(x.shape.slice(), "float32"); // allocate before taking heap views
      let w = heap.typedArrayFromHeap(x);
      if (this.weightDecay > 0) {
        const keep = decayFactor(this.learningRate, this.weightDecay);
        const wd = (this.decayed[i] ??= new Float32Array(x.size));
        for (let j = 0; j < wd.length; j++) wd[j] = w[j] * keep;
        w = wd;
      }
      this.blas.adamUpdate(
        w, heap.typedArrayFromHeap(g), this.m[i], this.v[i], heap.typedArrayFromHeap(out),
        this.learningRate, BETA1, BETA2, c1, c2, EPSILON,
      );
      const next = tf.engine().makeTensorFromTensorInfo(out);
      x.assign(next);
      next.dispose();
      g.dispose();
    }
    return loss;
  }
  dispose(): void {}
}

/**
 * Adam for the active backend: "auto" (default) picks native when the wasm backend runs with the
 * OpenBLAS kernels, else tfjs; "native" throws when that is not the case.
 */
export function createAdam(learningRate: number, kind: "auto" | "tfjs" | "native" = "auto", weightDecay = 0): AdamStepper {
  if (!(learningRate > 0)) throw new Error(`learningRate ${learningRate} must be > 0`);
  if (!(weightDecay >= 0)) throw new Error(`weightDecay ${weightDecay} must be ≥ 0`);
  const nativeOk = tf.getBackend() === "wasm" && wasmKernelPatches().includes("BatchMatMul(openblas)");
  const blas = kind !== "tfjs" && nativeOk ? loadNativeBlas() : null;
  if (kind === "native" && !blas) throw new Error("native Adam needs the wasm backend with the OpenBLAS addon active (initBackend({ backend: 'wasm', nativeBlas: true }))");
  return blas ? new NativeAdam(blas, learningRate, weightDecay) : new TfjsAdam(learningRate, weightDecay);
}
