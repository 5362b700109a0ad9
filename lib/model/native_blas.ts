/**
 * Optional native GEMM (OpenBLAS through the N-API addon in native/blas, built by
 * `npm run build:native`). Loaded only when the compiled addon exists; nothing else depends on it.
 */
import * as fs from "fs";
import * as path from "path";

export interface NativeBlas {
  /** C (M×N) = op(A)·op(B), row-major float32; op = transpose when the flag is set. */
  sgemm(transA: boolean, transB: boolean, M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array): void;
  /**
   * One fused Adam step (tf.train.adam's rule): m, v updated in place, new weights written to `out`
   * (must not alias w). c1 = 1 − β1^t, c2 = 1 − β2^t.
   */
  adamUpdate(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, out: Float32Array,
    lr: number, beta1: number, beta2: number, c1: number, c2: number, eps: number): void;
  setNumThreads(n: number): void;
  /**
   * Native MLP trainer (native/blas/trainer.cc; used through lib/model/train_step.ts). `arena` holds
   * [params | Adam m | Adam v | gradients], each in tfjs weight order (kernel in×out, bias per layer).
   * activation: 0 linear, 1 relu, 2 tanh, 3 sigmoid, 4 elu (hidden layers; the last is linear).
   */
  trainerCreate(widths: Int32Array, activation: number, maxRows: number, arena: Float32Array, threads: 1 | 2): object;
  /**
   * One forward/backward/Adam step on `rows` rows; returns the MSE before the update. `keep`: the
   * AdamW factor 1 − lr·λ applied to every weight before the update (1: plain Adam, the same code as before).
   */
  trainerStep(handle: object, x: Float32Array, y: Float32Array, rows: number, lr: number, beta1: number, beta2: number,
    c1: number, c2: number, eps: number, dropout: number, seed: number, keep?: number): number;
  /** Forward pass without dropout: out (rows × last width) from x (rows × first width). */
  trainerPredict(handle: object, x: Float32Array, rows: number, out: Float32Array): void;
  /** C (rows × cols, row-major) ← act(C + bias) in place; bias null: none. Activation codes as trainerCreate. */
  biasActivate(C: Float32Array, bias: Float32Array | null, rows: number, cols: number, activation: number): void;
  /** OpenBLAS build description (version, kernel). */
  config(): string;
}

let cached: NativeBlas | null | undefined;
let loadError = "";

/** Where the addon may be: source tree (lib/model) or compiled tree (lib/dist/model). */
function candidates(): string[] {
  const rel = path.join("native", "blas", "build", "Release", "xanes_blas.node");
  return [path.resolve(__dirname, "..", "..", rel), path.resolve(__dirname, "..", "..", "..", rel)];
}

/** The addon, or null when it is not built / does not load (reason in nativeBlasStatus()). */
export function loadNativeBlas(): NativeBlas | null {
  if (cached !== undefined) return cached;
  const file = candidates().find((f) => fs.existsSync(f));
  if (!file) {
    loadError = "addon not built (run `npm run build:native`)";
    cached = null;
    return null;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const addon = require(file) as NativeBlas;
    for (const fn of ["sgemm", "adamUpdate", "setNumThreads", "config", "trainerCreate", "trainerStep", "trainerPredict", "biasActivate"] as const) {
      if (typeof addon[fn] !== "function") throw new Error(`addon lacks ${fn}() (stale build? run \`npm run build:native\`)`);
    }
    // One thread: the machine's cores are shared, and the comparison peer runs single-threaded.
    addon.setNumThreads(Number(process.env.XANES_BLAS_THREADS ?? 1));
    cached = addon;
  } catch (e) {
    loadError = `${file}: ${(e as Error).message.split("\n")[0]}`;
    cached = null;
  }
  return cached;
}

/** "OpenBLAS …" when loaded, else why not. */
export function nativeBlasStatus(): string {
  const b = loadNativeBlas();
  return b ? b.config() : loadError;
}
