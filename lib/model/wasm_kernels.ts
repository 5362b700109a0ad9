/**
 * Faster replacements for stock tfjs-backend-wasm kernels that dominate MLP training.
 *
 * - BatchMatMul / _FusedMatMul with a transposed operand: the stock wasm kernel is 10–20× slower
 *   than the plain product (every backward pass uses dy·Wᵀ and xᵀ·dy). We transpose the operand
 *   explicitly with the wasm Transpose kernel and call the stock kernel with both flags false.
 * - Slice: the stock kernel reads the whole source out of the wasm heap (`readSync` copies it)
 *   before copying the slice. We copy only the sliced elements from a heap view.
 *
 * - Optionally (nativeBlas) BatchMatMul runs OpenBLAS sgemm from the native addon directly on the
 *   wasm heap (float32 views, no copies); transposes are passed to sgemm. _FusedMatMul (what Dense
 *   layers call in every forward pass) does the same, then adds the bias and applies linear, relu,
 *   elu or sigmoid in one native pass; other activations and batched bias shapes go to wasm.
 *
 * The replacements reuse the stock kernels (looked up from the registry), so they inherit their
 * numerics; tests compare against the cpu backend.
 */
import * as tf from "@tensorflow/tfjs";
import { loadNativeBlas, NativeBlas } from "./native_blas";

type KernelConfig = tf.KernelConfig;
type TensorInfo = tf.TensorInfo;

/** Minimal view of the wasm backend internals the replacements touch. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): boolean;
}

const PATCHED = ["BatchMatMul", "_FusedMatMul", "Slice"] as const;
const stock = new Map<string, KernelConfig>();
let patched = false;
let blasActive = false;

function stockKernel(name: string): KernelConfig {
  const k = stock.get(name);
  if (!k) throw new Error(`wasm kernel ${name} not captured; call setWasmKernelPatches first`);
  return k;
}

function swapLastTwoPerm(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return perm;
}

/** Runs the stock matmul-like kernel on explicitly transposed operands (flags cleared). */
function transposeThenMultiply(kernelName: string): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const transposeA = Boolean(attrs?.transposeA);
    const transposeB = Boolean(attrs?.transposeB);
    const base = stockKernel(kernelName).kernelFunc;
    if (!transposeA && !transposeB) return base(args);
    const transpose = stockKernel("Transpose").kernelFunc;
    const wasm = backend as unknown as WasmBackendLike;
    const temps: TensorInfo[] = [];
    const explicit = (x: TensorInfo): TensorInfo => {
      const t = transpose({ inputs: { x }, backend, attrs: { perm: swapLastTwoPerm(x.shape.length) } }) as TensorInfo;
      temps.push(t);
      return t;
    };
    const a2 = transposeA ? explicit(a) : a;
    const b2 = transposeB ? explicit(b) : b;
    try {
      return base({
        inputs: { ...inputs, a: a2, b: b2 },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
    } finally {
      for (const t of temps) wasm.disposeData(t.dataId);
    }
  };
}

/** BatchMatMul through native sgemm on heap views; falls back to `fallback` for other dtypes/broadcasts. */
function blasBatchMatMul(blas: NativeBlas, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    if (a.dtype !== "float32" || b.dtype !== "float32") return fallback(args);
    const ta = Boolean(attrs?.transposeA);
    const tb = Boolean(attrs?.transposeB);
    const ra = a.shape.length;
    const rb = b.shape.length;
    const M = ta ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = ta ? a.shape[ra - 2] : a.shape[ra - 1];
    const Kb = tb ? b.shape[rb - 1] : b.shape[rb - 2];
    const N = tb ? b.shape[rb - 2] : b.shape[rb - 1];
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    // Only same-size or single-matrix batches; general outer-dim broadcasting goes to wasm.
    if (K !== Kb || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return fallback(args);
    const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const batch = Math.max(batchA, batchB);
    if (tf.util.sizeFromShape(outer) !== batch) return fallback(args);
    const wasm = backend as unknown as WasmBackendLike;
    const out = wasm.makeOutput([...outer, M, N], "float32"); // allocate before taking heap views
    const A = wasm.typedArrayFromHeap(a) as Float32Array;
    const B = wasm.typedArrayFromHeap(b) as Float32Array;
    const C = wasm.typedArrayFromHeap(out) as Float32Array;
    for (let i = 0; i < batch; i++) {
      const ia = batchA === 1 ? 0 : i;
      const ib = batchB === 1 ? 0 : i;
      blas.sgemm(ta, tb, M, N, K, A.subarray(ia * M * K, (ia + 1) * M * K), B.subarray(ib * K * N, (ib + 1) * K * N), C.subarray(i * M * N, (i + 1) * M * N));
    }
    return out;
  };
}

/** tfjs fused activation → the addon's activation code (others stay on wasm). */
const FUSED_ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, sigmoid: 3, elu: 4 };

/** _FusedMatMul (2-D operands, 1-D bias) as sgemm + native bias/activation on heap views. */
function blasFusedMatMul(blas: NativeBlas, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const bias = inputs.bias as TensorInfo | undefined;
    const activation = String(attrs?.activation ?? "linear");
    const code = FUSED_ACTIVATIONS[activation];
    const ta = Boolean(attrs?.transposeA);
    const tb = Boolean(attrs?.transposeB);
    if (code === undefined || a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length !== 2 || b.shape.length !== 2) return fallback(args);
    const M = ta ? a.shape[1] : a.shape[0];
    const K = ta ? a.shape[0] : a.shape[1];
    const N = tb ? b.shape[0] : b.shape[1];
    if ((tb ? b.shape[1] : b.shape[0]) !== K) return fallback(args);
    if (bias && (bias.dtype !== "float32" || tf.util.sizeFromShape(bias.shape) !== N || (bias.shape.length > 1 && bias.shape[bias.shape.length - 1] !== N))) return fallback(args);
    const wasm = backend as unknown as WasmBackendLike;
    const out = wasm.makeOutput([M, N], "float32"); // allocate before taking heap views
    const C = wasm.typedArrayFromHeap(out) as Float32Array;
    blas.sgemm(ta, tb, M, N, K, wasm.typedArrayFromHeap(a) as Float32Array, wasm.typedArrayFromHeap(b) as Float32Array, C);
    if (bias || code !== 0) blas.biasActivate(C, bias ? (wasm.typedArrayFromHeap(bias) as Float32Array) : null, M, N, code);
    return out;
  };
}

/** Slice copying only the selected elements; contiguous slices (row ranges) are one memcpy. */
const fastSlice: tf.KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  if (x.dtype === "string") return stockKernel("Slice").kernelFunc(args);
  const [begin, size] = tf.slice_util.parseSliceParams(
    x as unknown as tf.Tensor,
    attrs!.begin as number | number[],
    attrs!.size as number | number[] | undefined,
  );
  const wasm = backend as unknown as WasmBackendLike;
  // Allocate first: malloc may grow (and detach) the heap, invalidating earlier views.
  const out = wasm.makeOutput(size, x.dtype);
  const total = size.reduce((p, s) => p * s, 1);
  if (total === 0) return out;
  const src = wasm.typedArrayFromHeap(x);
  const dst = wasm.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const off = tf.slice_util.computeFlatOffset(begin, strides);
    dst.set(src.subarray(off, off + total));
    return out;
  }
  // Copy runs along the last axis; odometer over the leading axes.
  const run = size[rank - 1];
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let o = 0;
  for (;;) {
    let off = begin[rank - 1];
    for (let d = 0; d < rank - 1; d++) off += (begin[d] + idx[d]) * strides[d];
    dst.set(src.subarray(off, off + run), o);
    o += run;
    let d = rank - 2;
    while (d >= 0) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
  return out;
};

/**
 * Swaps the wasm backend's BatchMatMul, _FusedMatMul and Slice kernels for the faster versions
 * (`enabled`) or restores the stock ones; with `nativeBlas` (and the addon built) BatchMatMul uses
 * OpenBLAS. Requires @tensorflow/tfjs-backend-wasm to be loaded. Returns the replaced kernels' names.
 */
export function setWasmKernelPatches(enabled: boolean, nativeBlas = false): string[] {
  if (stock.size === 0) {
    for (const name of [...PATCHED, "Transpose"]) {
      const k = tf.getKernel(name, "wasm");
      if (!k) throw new Error(`wasm backend has no ${name} kernel registered (is tfjs-backend-wasm loaded?)`);
      stock.set(name, { ...k });
    }
  }
  const blas = enabled && nativeBlas ? loadNativeBlas() : null;
  if (enabled === patched && Boolean(blas) === blasActive) return wasmKernelPatches();
  for (const name of PATCHED) {
    const original = stockKernel(name);
    tf.unregisterKernel(name, "wasm");
    if (!enabled) {
      tf.registerKernel(original);
      continue;
    }
    let kernelFunc = name === "Slice" ? fastSlice : transposeThenMultiply(name);
    if (name === "BatchMatMul" && blas) kernelFunc = blasBatchMatMul(blas, kernelFunc);
    if (name === "_FusedMatMul" && blas) kernelFunc = blasFusedMatMul(blas, kernelFunc);
    // Keep the stock setupFunc: it binds the wasm function the stock kernel calls into.
    tf.registerKernel({ ...original, kernelFunc });
  }
  patched = enabled;
  blasActive = Boolean(blas);
  return wasmKernelPatches();
}

/** Names of wasm kernels currently replaced by this module ("BatchMatMul(openblas)", "_FusedMatMul(openblas)" when native). */
export function wasmKernelPatches(): string[] {
  if (!patched) return [];
  return PATCHED.map((n) => (n !== "Slice" && blasActive ? `${n}(openblas)` : n));
}
