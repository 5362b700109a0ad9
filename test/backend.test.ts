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
import { buildMlpNetwork, mlpConfig, trainMlp } from "../lib/model/mlp";
import { NativeTrainStep, nativeTrainStepUnavailable } from "../lib/model/train_step";
import { createAdam } from "../lib/model/optimizer";

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
    assert.deepEqual(withBlas.kernelsPatched, ["BatchMatMul(openblas)", "_FusedMatMul(openblas)", "Slice"]);
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

test("fused matMul (bias, every fused activation) with transposed operands", async () => {
  const a = randomArray(9 * 13, 3);
  const b = randomArray(13 * 6, 4);
  const bias = randomArray(6, 5);
  const acts = ["relu", "linear", "elu", "sigmoid", "relu6", "leakyrelu"] as const; // the last two stay on wasm
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    for (const activation of acts) {
      for (const withBias of [true, false]) {
        await compareBackends(`fused tA=${ta} tB=${tb} ${activation} bias=${withBias}`, () =>
          tf.fused.matMul({
            a: tf.tensor(a, ta ? [13, 9] : [9, 13]),
            b: tf.tensor(b, tb ? [6, 13] : [13, 6]),
            transposeA: ta,
            transposeB: tb,
            bias: withBias ? tf.tensor1d(bias) : undefined,
            activation,
          }),
        );
      }
    }
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

// ---- native training step (lib/model/train_step.ts, native/blas/trainer.cc) ----

/** Gradients and loss of a Dense stack's MSE on the cpu backend (the reference). */
async function cpuGradients(net: tf.LayersModel, x: Float32Array, y: Float32Array, n: number): Promise<{ loss: number; grads: Float32Array[] }> {
  await initBackend({ backend: "cpu" });
  const d = net.inputs[0].shape[1]!;
  const m = net.outputs[0].shape[1]!;
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () => tf.mean(tf.squaredDifference(net.apply(tf.tensor2d(x, [n, d])) as tf.Tensor, tf.tensor2d(y, [n, m]))) as tf.Scalar,
    vars,
  );
  const res = { loss: value.dataSync()[0], grads: vars.map((v) => Float32Array.from(grads[v.name].dataSync() as Float32Array)) };
  tf.dispose([value, ...Object.values(grads)]);
  return res;
}

test("native training step: loss and gradients match the cpu backend for every activation, 1 and 2 threads", async (t) => {
  const blas = loadNativeBlas();
  if (!blas) return t.skip("native addon not built (npm run build:native)");
  const d = 37;
  const m = 11;
  for (const n of [50, 1]) {
    const x = randomArray(n * d, 20 + n);
    const y = randomArray(n * m, 21 + n);
    for (const act of ["relu", "tanh", "sigmoid", "elu", "linear"] as const) {
      // widths not multiples of the SIMD width; several layers so dX chains through activations
      const net = buildMlpNetwork(d, m, [40, 23, 17], act, 5);
      const ref = await cpuGradients(net, x, y, n);
      const byThreads: Float32Array[][] = [];
      for (const threads of [1, 2] as const) {
        const step = new NativeTrainStep(blas, net, { activation: act, dropout: 0, loss: "mse", learningRate: 1e-3, batchSize: 64, threads });
        const loss = step.step(x, y, n, null);
        assert.ok(Math.abs(loss - ref.loss) <= 1e-6 * ref.loss, `${act} n=${n} loss ${loss} vs cpu ${ref.loss}`);
        const g = step.gradients();
        g.forEach((a, i) => assertClose(a, ref.grads[i], `${act} n=${n} threads=${threads} gradient ${i}`));
        byThreads.push(g.map((a) => a.slice()));
      }
      // the thread count changes who computes what, never the arithmetic
      byThreads[0].forEach((a, i) => assert.deepEqual(byThreads[1][i], a, `${act}: 1 vs 2 threads, gradient ${i}`));
    }
  }
});

test("native training step: Adam matches tf.train.adam; dropout is seeded and independent of threads", async (t) => {
  const blas = loadNativeBlas();
  if (!blas) return t.skip("native addon not built (npm run build:native)");
  const d = 9;
  const m = 5;
  const n = 16;
  const x = randomArray(n * d, 30);
  const y = randomArray(n * m, 31);
  // 4 steps of tf.train.adam on the cpu backend vs 4 native steps on the same batch
  const net = buildMlpNetwork(d, m, [12], "relu", 2);
  const start = net.getWeights().map((w) => w.clone());
  await initBackend({ backend: "cpu" });
  const opt = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  for (let s = 0; s < 4; s++) {
    opt.minimize(() => tf.mean(tf.squaredDifference(net.apply(tf.tensor2d(x, [n, d])) as tf.Tensor, tf.tensor2d(y, [n, m]))) as tf.Scalar, false, vars);
  }
  const ref = net.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
  net.setWeights(start);
  const step = new NativeTrainStep(blas, net, { activation: "relu", dropout: 0, loss: "mse", learningRate: 0.01, batchSize: n, threads: 2 });
  for (let s = 0; s < 4; s++) step.step(x, y, n, null);
  step.syncWeights();
  net.getWeights().forEach((w, i) => assertClose(w.dataSync() as Float32Array, ref[i], `weights after 4 Adam steps, tensor ${i}`));
  opt.dispose();

  // dropout: same seed → same weights; another seed → different; rate 0.5 keeps about half the units
  const runDropout = (seed: number, threads: 1 | 2): Float32Array[] => {
    net.setWeights(start);
    const st = new NativeTrainStep(blas, net, { activation: "relu", dropout: 0.5, loss: "mse", learningRate: 0.01, batchSize: n, threads });
    st.step(x, y, n, seed);
    return st.gradients().map((a) => a.slice());
  };
  const a = runDropout(7, 1);
  assert.deepEqual(runDropout(7, 2), a);
  assert.notDeepEqual(runDropout(8, 1), a);
  net.setWeights(start);
  const noDrop = new NativeTrainStep(blas, net, { activation: "relu", dropout: 0.5, loss: "mse", learningRate: 0.01, batchSize: n, threads: 1 });
  noDrop.step(x, y, n, null); // a null seed means no dropout (trainMlp passes null when dropout is 0)
  assert.notDeepEqual(noDrop.gradients()[0], a[0]);
  const nonzero = a[2].filter((v) => v !== 0).length;
  assert.ok(nonzero > 0 && nonzero < a[2].length, `with dropout some second-layer weight gradients are zero, not all (${nonzero}/${a[2].length})`);
});

test("trainMlp: native step vs the tfjs step on the same data (seeded, deterministic, close)", async (t) => {
  if (!loadNativeBlas()) return t.skip("native addon not built (npm run build:native)");
  const d = 12;
  const m = 8;
  const n = 300;
  const X = randomArray(n * d, 40);
  const Y = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) Y[i * m + j] = Math.sin(X[i * d] * (j + 1)) + 0.5 * X[i * d + 1];
  const Xm = { data: X, rows: n, cols: d };
  const Ym = { data: Y, rows: n, cols: m };
  const cfg = mlpConfig({ hidden: [32, 16], batchSize: 32, epochs: 4, seed: 3 });
  const split = { train: Array.from({ length: 240 }, (_, i) => i), val: Array.from({ length: 60 }, (_, i) => 240 + i) };
  await initBackend({ backend: "wasm", nativeBlas: true });
  assert.equal(nativeTrainStepUnavailable({ activation: "relu", loss: "mse" }), null);
  const a = await trainMlp(Xm, Ym, cfg, split);
  const b = await trainMlp(Xm, Ym, cfg, split);
  assert.match(a.timing.optimizer, /^native-step/);
  const wa = a.model.weightsSnapshot();
  b.model.weightsSnapshot().forEach((w, i) => assert.deepEqual(w, wa[i], `same seed, same weights (tensor ${i})`));
  const saved = process.env.XANES_TRAIN_STEP;
  process.env.XANES_TRAIN_STEP = "tfjs";
  let c;
  try {
    c = await trainMlp(Xm, Ym, cfg, split);
  } finally {
    if (saved === undefined) delete process.env.XANES_TRAIN_STEP;
    else process.env.XANES_TRAIN_STEP = saved;
  }
  assert.equal(c.timing.optimizer, "native-adam");
  // 4 epochs × 8 steps: different summation orders drift, but only at float32-rounding scale
  let worst = 0;
  c.model.weightsSnapshot().forEach((w, i) => {
    let maxAbs = 0;
    for (let k = 0; k < w.length; k++) maxAbs = Math.max(maxAbs, Math.abs(w[k]));
    for (let k = 0; k < w.length; k++) worst = Math.max(worst, Math.abs(w[k] - wa[i][k]) / maxAbs);
  });
  assert.ok(worst < 1e-3, `native vs tfjs weights after 32 steps differ by ${worst} of the largest weight`);
  for (let e = 0; e < a.history.length; e++) {
    assert.ok(Math.abs(a.history[e].valLoss - c.history[e].valLoss) <= 1e-3 * c.history[e].valLoss, `epoch ${e + 1} validation loss`);
  }
  console.log(`native vs tfjs step after 32 Adam steps: max |Δw| = ${worst.toExponential(2)} of the largest weight`);
  a.model.dispose();
  b.model.dispose();
  c.model.dispose();
});

test("native training step: refuses what it cannot train, and says why", async (t) => {
  const blas = loadNativeBlas();
  if (!blas) return t.skip("native addon not built (npm run build:native)");
  await initBackend({ backend: "wasm", nativeBlas: true });
  assert.match(nativeTrainStepUnavailable({ activation: "relu", loss: "mse+cosine" }) ?? "", /loss 'mse\+cosine' runs on tfjs/);
  assert.match(nativeTrainStepUnavailable({ activation: "gelu", loss: "mse" }) ?? "", /activation 'gelu' runs on tfjs/);
  await initBackend({ backend: "cpu" });
  assert.match(nativeTrainStepUnavailable({ activation: "relu", loss: "mse" }) ?? "", /wasm backend/);
  // a network whose hidden activation differs from the one asked for
  const net = buildMlpNetwork(5, 3, [4], "tanh", 1);
  assert.throws(() => new NativeTrainStep(blas, net, { activation: "relu", dropout: 0, loss: "mse", learningRate: 1e-3, batchSize: 8 }), /layer 0 is Dense\/tanh, expected Dense\/relu/);
  // rows beyond the batch the step was built for
  const ok = new NativeTrainStep(blas, net, { activation: "tanh", dropout: 0, loss: "mse", learningRate: 1e-3, batchSize: 8 });
  assert.throws(() => ok.step(new Float32Array(9 * 5), new Float32Array(9 * 3), 9, null), /rows out of range/);
  assert.throws(() => ok.step(new Float32Array(4 * 5), new Float32Array(8 * 3), 8, null), /shorter than rows/);
});

test("native training step with AdamW decay and a changed rate matches tf.train.adam + decay on the cpu backend", async (t) => {
  const blas = loadNativeBlas();
  if (!blas) return t.skip("native addon not built (npm run build:native)");
  const d = 9;
  const m = 5;
  const n = 16;
  const x = randomArray(n * d, 50);
  const y = randomArray(n * m, 51);
  const net = buildMlpNetwork(d, m, [12], "relu", 4);
  const start = net.getWeights().map((w) => w.clone());
  const wd = 2;
  const rates = [0.01, 0.01, 0.004, 0.001];
  // reference: the tfjs stepper of trainMlp (createAdam "tfjs"), rate set per step as the schedule does
  await initBackend({ backend: "cpu" });
  const ref = createAdam(rates[0], "tfjs", wd);
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  for (const lr of rates) {
    ref.setLearningRate(lr);
    ref.minimize(() => tf.mean(tf.squaredDifference(net.apply(tf.tensor2d(x, [n, d])) as tf.Tensor, tf.tensor2d(y, [n, m]))) as tf.Scalar, vars);
  }
  ref.dispose();
  const want = net.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
  // the decay is visible: without it the same steps end elsewhere
  net.setWeights(start);
  const plain = createAdam(rates[0], "tfjs", 0);
  for (const lr of rates) {
    plain.setLearningRate(lr);
    plain.minimize(() => tf.mean(tf.squaredDifference(net.apply(tf.tensor2d(x, [n, d])) as tf.Tensor, tf.tensor2d(y, [n, m]))) as tf.Scalar, vars);
  }
  plain.dispose();
  const noDecay = net.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
  const gap = Math.max(...want[0].map((v, k) => Math.abs(v - noDecay[0][k])));
  assert.ok(gap > 1e-4, `decay changes the weights (max |Δ| ${gap})`);
  for (const threads of [1, 2] as const) {
    net.setWeights(start);
    const step = new NativeTrainStep(blas, net, { activation: "relu", dropout: 0, loss: "mse", learningRate: rates[0], weightDecay: wd, batchSize: n, threads });
    for (const lr of rates) {
      step.setLearningRate(lr);
      step.step(x, y, n, null);
    }
    step.syncWeights();
    net.getWeights().forEach((w, i) => assertClose(w.dataSync() as Float32Array, want[i], `${threads} thread(s): weights after 4 AdamW steps, tensor ${i}`));
  }
});

test("trainMlp with a cosine schedule and weight decay: native step vs the tfjs step vs the cpu backend", async (t) => {
  if (!loadNativeBlas()) return t.skip("native addon not built (npm run build:native)");
  const d = 12;
  const m = 8;
  const n = 300;
  const X = randomArray(n * d, 60);
  const Y = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) Y[i * m + j] = Math.cos(X[i * d] * (j + 1)) - 0.5 * X[i * d + 2];
  const Xm = { data: X, rows: n, cols: d };
  const Ym = { data: Y, rows: n, cols: m };
  const cfg = mlpConfig({ hidden: [32, 16], batchSize: 32, epochs: 4, seed: 5, learningRate: 3e-3, weightDecay: 0.5, lrSchedule: { kind: "cosine", minFactor: 0.1, warmupEpochs: 1 } });
  const split = { train: Array.from({ length: 240 }, (_, i) => i), val: Array.from({ length: 60 }, (_, i) => 240 + i) };
  const withStep = async (step: string | undefined) => {
    const saved = process.env.XANES_TRAIN_STEP;
    if (step) process.env.XANES_TRAIN_STEP = step;
    try {
      return await trainMlp(Xm, Ym, cfg, split);
    } finally {
      if (saved === undefined) delete process.env.XANES_TRAIN_STEP;
      else process.env.XANES_TRAIN_STEP = saved;
    }
  };
  await initBackend({ backend: "wasm", nativeBlas: true });
  const a = await withStep(undefined);
  assert.match(a.timing.optimizer, /^native-step/);
  const c = await withStep("tfjs");
  assert.equal(c.timing.optimizer, "native-adam");
  await initBackend({ backend: "cpu" });
  const r = await withStep(undefined);
  assert.equal(r.timing.optimizer, "tfjs-adam");
  const wa = a.model.weightsSnapshot();
  for (const [name, other] of [["native Adam (wasm)", c], ["tf.train.adam (cpu)", r]] as const) {
    let worst = 0;
    other.model.weightsSnapshot().forEach((w, i) => {
      let maxAbs = 0;
      for (let k = 0; k < w.length; k++) maxAbs = Math.max(maxAbs, Math.abs(w[k]));
      for (let k = 0; k < w.length; k++) worst = Math.max(worst, Math.abs(w[k] - wa[i][k]) / maxAbs);
    });
    assert.ok(worst < 1e-3, `native step vs ${name}: weights after 32 steps differ by ${worst} of the largest weight`);
    for (let e = 0; e < a.history.length; e++) {
      assert.ok(Math.abs(a.history[e].valLoss - other.history[e].valLoss) <= 1e-3 * other.history[e].valLoss, `${name}: epoch ${e + 1} validation loss`);
    }
  }
  // the schedule and the decay act: the same run without them ends elsewhere
  await initBackend({ backend: "wasm", nativeBlas: true });
  const plain = await trainMlp(Xm, Ym, { ...cfg, weightDecay: 0, lrSchedule: { kind: "constant" } }, split);
  assert.notDeepEqual(plain.model.weightsSnapshot()[0], wa[0]);
  [a, c, r, plain].forEach((x) => x.model.dispose());
});
