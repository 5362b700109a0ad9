/**
 * The wasm backend with our replacement kernels (lib/model/wasm_kernels) must compute what the
 * reference cpu backend computes. Tolerance for float32 results: max |wasm − cpu| ≤ 1e-5 × max |cpu|
 * over the tensor (relative to the output's magnitude; summation order differs between backends).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend, backendInfo, BackendName } from "../lib/model/backend";
import { createRng } from "../lib/util/random";
import { loadNativeBlas } from "../lib/model/native_blas";

const REL_TOL = 1e-5;
/** wasm configurations under test: replacement kernels alone, and with native BLAS when built. */
const WASM_MODES: boolean[] = loadNativeBlas() ? [false, true] : [false];

function randomArray(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng() * 2 - 1;
  return a;
}

/** Runs `fn` on a backend and returns the values and shapes of its outputs. */
async function runOn(backend: BackendName, fn: () => tf.Tensor | tf.Tensor[], nativeBlas = false): Promise<{ values: Float32Array | Int32Array; shape: number[] }[]> {
  await initBackend({ backend, nativeBlas });
  assert.equal(tf.getBackend(), backend);
  const outs = tf.tidy(() => {
    const r = fn();
    return Array.isArray(r) ? r : [r];
  });
  const res = outs.map((t) => ({ values: t.dataSync() as Float32Array | Int32Array, shape: t.shape.slice() }));
  tf.dispose(outs);
  return res;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
  const tol = REL_TOL * Math.max(maxAbs, 1e-30);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= tol)) assert.fail(`${what}: element ${i}: wasm ${actual[i]} vs cpu ${expected[i]} (|Δ| ${d} > ${tol})`);
  }
}

async function compareBackends(what: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const ref = await runOn("cpu", fn);
  for (const blas of WASM_MODES) {
    const got = await runOn("wasm", fn, blas);
    const tag = blas ? " [openblas]" : "";
    assert.equal(got.length, ref.length);
    for (let k = 0; k < ref.length; k++) {
      assert.deepEqual(got[k].shape, ref[k].shape, `${what}${tag} output ${k} shape`);
      assertClose(got[k].values, ref[k].values, `${what}${tag} output ${k}`);
    }
  }
}

test("wasm backend loads with the replacement kernels installed", async () => {
  const sel = await initBackend({ backend: "wasm", nativeBlas: false });
  assert.equal(sel.name, "wasm");
  assert.deepEqual(sel.kernelsPatched, ["BatchMatMul", "_FusedMatMul", "Slice"]);
  assert.equal(backendInfo().active, "wasm");
  // idempotent: same request, same selection object, no re-initialisation
  assert.equal(await initBackend({ backend: "wasm", nativeBlas: false }), sel);
  if (WASM_MODES.includes(true)) {
    const withBlas = await initBackend({ backend: "wasm", nativeBlas: true });
    assert.deepEqual(withBlas.kernelsPatched, ["BatchMatMul(openblas)", "_FusedMatMul", "Slice"]);
    assert.match(withBlas.reason, /OpenBLAS/);
  }
  const stock = await initBackend({ backend: "wasm", patchKernels: false });
  assert.deepEqual(stock.kernelsPatched, []);
});

test("matMul: every transpose combination, batched and not, odd shapes", async () => {
  // [m, k, n] including 1-sized and non-multiple-of-SIMD-width dimensions
  const dims: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [17, 1, 9], [33, 65, 19], [64, 128, 31]];
  for (const [m, k, n] of dims) {
    for (const batch of [null, [2], [3, 2]] as (number[] | null)[]) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const bs = batch ?? [];
          const aShape = [...bs, ...(ta ? [k, m] : [m, k])];
          const bShape = [...bs, ...(tb ? [n, k] : [k, n])];
          const aVals = randomArray(aShape.reduce((p, s) => p * s, 1), m * 1000 + k);
          const bVals = randomArray(bShape.reduce((p, s) => p * s, 1), n * 1000 + k + 1);
          await compareBackends(`matMul ${aShape}×${bShape} tA=${ta} tB=${tb}`, () =>
            tf.matMul(tf.tensor(aVals, aShape), tf.tensor(bVals, bShape), ta, tb),
          );
        }
      }
    }
  }
});

test("matMul broadcasts a 2-D operand against a batch", async () => {
  const a = randomArray(4 * 6 * 5, 1);
  const b = randomArray(7 * 5, 2);
  await compareBackends("batched a × shared bᵀ", () => tf.matMul(tf.tensor(a, [4, 6, 5]), tf.tensor(b, [7, 5]), false, true));
});

test("fused matMul (bias, relu) with transposed operands", async () => {
  const a = randomArray(9 * 13, 3);
  const b = randomArray(13 * 6, 4);
  const bias = randomArray(6, 5);
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    await compareBackends(`fused tA=${ta} tB=${tb}`, () =>
      tf.fused.matMul({
        a: tf.tensor(a, ta ? [13, 9] : [9, 13]),
        b: tf.tensor(b, tb ? [6, 13] : [13, 6]),
        transposeA: ta,
        transposeB: tb,
        bias: tf.tensor1d(bias),
        activation: "relu",
      }),
    );
  }
});

test("gradients of a small dense net's loss w.r.t. its weights", async () => {
  const x = randomArray(32 * 10, 6);
  const y = randomArray(32 * 4, 7);
  const w1 = randomArray(10 * 16, 8);
  const w2 = randomArray(16 * 4, 9);
  const b1 = randomArray(16, 10);
  await compareBackends("dense net grads", () => {
    const W1 = tf.variable(tf.tensor2d(w1, [10, 16]));
    const B1 = tf.variable(tf.tensor1d(b1));
    const W2 = tf.variable(tf.tensor2d(w2, [16, 4]));
    const { value, grads } = tf.variableGrads(() => {
      const h = tf.relu(tf.add(tf.matMul(tf.tensor2d(x, [32, 10]), W1), B1));
      const out = tf.fused.matMul({ a: h, b: W2, activation: "linear" });
      return tf.mean(tf.squaredDifference(out, tf.tensor2d(y, [32, 4]))) as tf.Scalar;
    }, [W1, B1, W2]);
    const res = [value, grads[W1.name], grads[B1.name], grads[W2.name]];
    W1.dispose(); B1.dispose(); W2.dispose();
    return res;
  });
  // tf.grads of a function of two matrices, both transposed internally in the backward pass
  await compareBackends("tf.grads", () => {
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a, b, true, false))));
    return g([tf.tensor2d(w1, [10, 16]), tf.tensor2d(x.subarray(0, 10 * 4), [10, 4])]);
  });
});

test("slice: 1-D..5-D, row fast path, non-contiguous, -1 sizes, int32, empty", async () => {
  const cases: { shape: number[]; begin: number[] | number; size?: number[] | number }[] = [
    { shape: [10], begin: 3, size: 5 },
    { shape: [10], begin: [4], size: [-1] },
    { shape: [10], begin: [2] },
    { shape: [8, 6], begin: [2, 0], size: [3, 6] }, // whole rows: contiguous fast path
    { shape: [8, 6], begin: [5, 0], size: [-1, -1] },
    { shape: [8, 6], begin: [0, 1], size: [-1, 2] }, // column block: strided copy
    { shape: [8, 6], begin: [3, 2], size: [1, 3] }, // part of one row: contiguous
    { shape: [4, 5, 6], begin: [1, 0, 0], size: [2, 5, 6] },
    { shape: [4, 5, 6], begin: [1, 2, 1], size: [2, 2, 4] },
    { shape: [4, 5, 6], begin: [0, 4, 0], size: [-1, 1, -1] },
    { shape: [3, 4, 5, 6], begin: [1, 1, 2, 3], size: [2, 2, 2, 2] },
    { shape: [3, 4, 5, 6], begin: [2, 0, 0, 0], size: [1, 4, 5, 6] },
    { shape: [2, 3, 2, 3, 4], begin: [0, 1, 0, 1, 1], size: [2, 2, 2, 2, 3] },
    { shape: [8, 6], begin: [2, 0], size: [0, 6] },
  ];
  for (const c of cases) {
    const n = c.shape.reduce((p, s) => p * s, 1);
    const vals = randomArray(n, n);
    await compareBackends(`slice ${c.shape} begin ${c.begin} size ${c.size}`, () => tf.slice(tf.tensor(vals, c.shape), c.begin, c.size));
    const ints = Int32Array.from(vals, (v) => Math.round(v * 1000));
    await compareBackends(`int32 slice ${c.shape}`, () => tf.slice(tf.tensor(ints, c.shape, "int32"), c.begin, c.size));
  }
  // a slice of a large matrix must not depend on memory growth in between (views re-taken after malloc)
  const big = randomArray(512 * 300, 11);
  await compareBackends("row slice of a large matrix", () => tf.slice(tf.tensor2d(big, [512, 300]), [100, 0], [256, 300]));
});

test("XANES_BACKEND forces a backend; bad names and unavailable backends give clear errors", async () => {
  const saved = process.env.XANES_BACKEND;
  try {
    process.env.XANES_BACKEND = "cpu";
    const sel = await initBackend();
    assert.equal(sel.name, "cpu");
    assert.match(sel.reason, /XANES_BACKEND/);
    process.env.XANES_BACKEND = "gpu9000";
    await assert.rejects(initBackend({}), /XANES_BACKEND: unknown backend 'gpu9000'/);
    delete process.env.XANES_BACKEND;
    let tfjsNode = true;
    try {
      require.resolve("@tensorflow/tfjs-node");
    } catch {
      tfjsNode = false;
    }
    if (!tfjsNode) await assert.rejects(initBackend({ backend: "tensorflow" }), /tfjs-node does not load/);
    const auto = await initBackend();
    assert.equal(auto.name, tfjsNode ? auto.name : "wasm", "without tfjs-node the automatic choice is wasm");
    assert.ok(auto.reason.length > 0);
  } finally {
    if (saved === undefined) delete process.env.XANES_BACKEND;
    else process.env.XANES_BACKEND = saved;
  }
});
