/**
 * MLP lib: learns a synthetic spectrum mapping, early stopping restores the best epoch, seeded runs
 * are identical, save→load round trips (also across backends), scalers see training rows only.
 * Nets are small so each test takes a second or two.
 */
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { initBackend } from "../lib/model/backend";
import { StandardScaler } from "../lib/model/scaler";
import { buildMlpNetwork, lrAt, mlpConfig, outputTargetScaler, trainMlp, XanesMlp, type MlpConfig, type EpochLog } from "../lib/model/mlp";
import { PcaBasis, symmetricEigen } from "../lib/model/pca";
import { MlpRegressor } from "../lib/model/estimator";
import * as crypto from "node:crypto";
import { spectralContract } from "../lib/model/spectral";
import { matrix, type Matrix } from "../lib/util/matrix";
import { createAdam } from "../lib/model/optimizer";
import { loadNativeBlas } from "../lib/model/native_blas";
import { loadModel, saveModel } from "../lib/model/io";
import { loadPredictor, XanesPredictor } from "../lib/model/predictor";
import { Featurizer } from "../lib/descriptors/featurizer";
import { Structure } from "../lib/structure/types";
import { InputError } from "../lib/util/errors";
import { createRng } from "../lib/util/random";

const MESH = 40;

/**
 * n samples of 4 features in [0,1); target: a Gaussian peak on a 40-point mesh whose position is
 * linear in f0, f1 and whose height is linear in f2; f3 is irrelevant.
 */
function synthetic(n: number, seed: number): { X: Float32Array; Y: Float32Array } {
  const rng = createRng(seed);
  const X = new Float32Array(n * 4);
  const Y = new Float32Array(n * MESH);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 4; j++) X[i * 4 + j] = rng();
    const centre = 8 + 18 * X[i * 4] + 6 * X[i * 4 + 1];
    const height = 1 + 0.5 * X[i * 4 + 2];
    for (let e = 0; e < MESH; e++) Y[i * MESH + e] = height * Math.exp(-0.5 * ((e - centre) / 3) ** 2);
  }
  return { X, Y };
}


const mat = (data: Float32Array, cols: number): Matrix => ({ data, rows: data.length / cols, cols });

/** trainMlp on flat arrays: hyperparameters over the defaults, rows of the split, epoch hook. */
async function fit(
  X: Float32Array, d: number, Y: Float32Array, m: number,
  o: Partial<MlpConfig> & { trainIdx: number[]; valIdx?: number[]; onEpoch?: (l: EpochLog) => void },
) {
  const { trainIdx, valIdx, onEpoch, ...cfg } = o;
  return trainMlp(mat(X, d), mat(Y, m), mlpConfig(cfg), { train: trainIdx, val: valIdx }, { onEpoch });
}

/** Predictions of a fitted network for flat feature rows. */
const pred = (model: XanesMlp, X: Float32Array): Float32Array => model.predict(mat(X, model.nFeatures)).data;

/** The spectral contract of an absolute Cu K mesh of MESH points. */
const spectral = (start: number, step: number) => spectralContract({ start, step, points: MESH, relative: false }, "Cu", "K", "max");

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

function mse(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

function rows(M: Float32Array, width: number, idx: number[]): Float32Array {
  const out = new Float32Array(idx.length * width);
  idx.forEach((r, k) => out.set(M.subarray(r * width, (r + 1) * width), k * width));
  return out;
}

function tmpDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `xanes-${name}-`));
}

test("StandardScaler: fits on the given rows only, zero-variance columns map to 0, inverse round trip", () => {
  // 4 rows × 3 columns; column 1 constant on the training rows; row 3 is a wild validation row
  const X = Float32Array.from([1, 5, 10, 3, 5, 20, 5, 5, 30, 1000, -7, 1e6]);
  const s = StandardScaler.fit(X, 3, [0, 1, 2]);
  assert.deepEqual(Array.from(s.mean), [3, 5, 20]);
  assert.ok(Math.abs(s.scale[0] - Math.sqrt(8 / 3)) < 1e-12);
  assert.equal(s.scale[1], 1, "zero-variance column gets scale 1");
  const Z = s.transform(X);
  assert.equal(Z[1], 0);
  assert.equal(Z[4], 0);
  assert.ok(Number.isFinite(Z[10]));
  const back = s.inverseTransform(Z);
  for (let i = 0; i < X.length; i++) assert.ok(Math.abs(back[i] - X[i]) <= 1e-6 * Math.max(1, Math.abs(X[i])), `round trip ${i}`);
  assert.throws(() => StandardScaler.fit(X, 5), /not a multiple of 5 columns/);
  assert.throws(() => StandardScaler.fit(X, 3, [0, 9]), /row index 9 out of range/);
  const again = StandardScaler.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
  assert.deepEqual(Array.from(again.scale), Array.from(s.scale));
});

test("StandardScaler.fitClipped = z-score → clip → re-standardise, as one scaler with per-column bounds", () => {
  const rng = createRng(3);
  const n = 60;
  const d = 4;
  const X = Float32Array.from({ length: n * d }, () => rng());
  // Column 3 is zero on every training row but one: the "rare element" case (that row has z ≈ 7).
  for (let i = 0; i < n; i++) X[i * d + 3] = i === 5 ? 1 : 0;
  X[55 * d + 3] = 50; // a held-out row far outside the training range (z ≈ 350)
  const train = range(0, 50);
  const c = 3;
  const s1 = StandardScaler.fit(X, d, train);
  const z = s1.transform(X).map((v) => Math.min(c, Math.max(-c, v)));
  const s2 = StandardScaler.fit(z, d, train);
  const expected = s2.transform(z);
  const sc = StandardScaler.fitClipped(X, d, train, c);
  const got = sc.transform(X);
  for (let i = 0; i < X.length; i++) assert.ok(Math.abs(got[i] - expected[i]) < 1e-4, `feature ${i}: ${got[i]} vs ${expected[i]}`);
  // The rare column's held-out outlier lands on the bound, like a training z of exactly c.
  assert.ok(Math.abs(got[55 * d + 3] - (c - s2.mean[3]) / s2.scale[3]) < 1e-4);
  // Roughly uniform columns (|z| ≤ 1.8) are untouched by the clip: same as plain standardisation.
  const plain = s1.transform(X);
  for (let i = 0; i < n; i++) for (let j = 0; j < 3; j++) assert.ok(Math.abs(got[i * d + j] - plain[i * d + j]) < 1e-5);
  const again = StandardScaler.fromJSON(JSON.parse(JSON.stringify(sc.toJSON())));
  assert.deepEqual(again.transform(X), got);
  assert.throws(() => StandardScaler.fitClipped(X, d, train, 0), /clip must be > 0/);
});

test("inputClip: a feature far outside the training range gives a bounded prediction; save/load and XanesPredictor keep the clip", async () => {
  await initBackend();
  const n = 150;
  const { X: X4, Y } = synthetic(n, 21);
  // A fifth, "rare element" column: 0 on all rows but three.
  const d = 5;
  const X = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    X.set(X4.subarray(i * 4, i * 4 + 4), i * d);
    X[i * d + 4] = i % 50 === 7 ? 0.2 : 0;
  }
  const opts = { trainIdx: range(0, 120), valIdx: range(120, 150), hidden: [32, 32], epochs: 30, seed: 5 };
  const clipped = await fit(X, d, Y, MESH, opts);
  const raw = await fit(X, d, Y, MESH, { ...opts, inputClip: null });
  assert.equal(clipped.model.inputClip, 5);
  assert.equal(raw.model.inputClip, null);
  assert.equal(raw.model.inputScaler.clipLow, null);
  // An unseen site: ordinary features, the rare column at 1000 (z ≈ 5e4 on the training rows).
  const outlier = Float32Array.from([0.5, 0.5, 0.5, 0.5, 1000]);
  const yMax = Math.max(...Y.map(Math.abs));
  const maxAbs = (a: Float32Array) => Math.max(...a.map(Math.abs));
  const pc = pred(clipped.model, outlier);
  const pr = pred(raw.model, outlier);
  assert.ok(pc.every(Number.isFinite));
  assert.ok(maxAbs(pc) < 3 * yMax, `clipped prediction bounded: max |ŷ| ${maxAbs(pc)} vs max |y| ${yMax}`);
  assert.ok(maxAbs(pr) > 100 * yMax, `without clipping the net extrapolates: max |ŷ| ${maxAbs(pr)}`);
  // Clipped, the outlier is treated exactly like a site 5 training sd out in that column.
  const s1 = StandardScaler.fit(X, d, opts.trainIdx);
  const atBound = Float32Array.from(outlier);
  atBound[4] = s1.mean[4] + 5 * s1.scale[4] * 1.001;
  const pb = pred(clipped.model, atBound);
  for (let e = 0; e < MESH; e++) assert.ok(Math.abs(pc[e] - pb[e]) < 1e-5 * yMax, `mesh ${e}`);
  // save → load keeps the clip (config + bounds), and a predictor built on the reloaded model applies it.
  const fake = { length: d, featurizeSite: (_s: Structure, _i: number, out = new Float32Array(d), off = 0) => (out.set(outlier, off), out), toJSON: () => ({ fake: true }) };
  const dir = tmpDir("clip");
  try {
    await new XanesPredictor(clipped.model, fake, spectral(0, 1)).save(dir);
    const { model: back, file } = await loadModel(dir);
    assert.equal(file.estimator.config.inputClip, 5);
    assert.equal(back.inputClip, 5);
    assert.deepEqual(Array.from(back.inputScaler.clipLow!), Array.from(clipped.model.inputScaler.clipLow!));
    assert.deepEqual(Array.from(back.inputScaler.clipHigh!), Array.from(clipped.model.inputScaler.clipHigh!));
    assert.deepEqual(pred(back, outlier), pc);
    back.dispose();
    const predictor = await loadPredictor(dir, { featurizer: fake });
    assert.deepEqual(predictor.predict(cuprite(), 2).mu, pc);
    predictor.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    clipped.model.dispose();
    raw.model.dispose();
  }
  await assert.rejects(fit(X, d, Y, MESH, { ...opts, inputClip: -1 }), /inputClip -1 must be > 0 or null/);
});

test("learns a peak-position mapping far below the mean predictor", async () => {
  await initBackend();
  const { X, Y } = synthetic(700, 1);
  const train = range(0, 500), val = range(500, 600), testIdx = range(600, 700);
  const { model, history, bestEpoch } = await fit(X, 4, Y, MESH, {
    trainIdx: train, valIdx: val, hidden: [64, 64], learningRate: 3e-3, batchSize: 32, epochs: 80, patience: 15, seed: 3,
  });
  // mean predictor: the mean training spectrum
  const meanSpec = new Float32Array(MESH);
  for (const r of train) for (let e = 0; e < MESH; e++) meanSpec[e] += Y[r * MESH + e] / train.length;
  const yTest = rows(Y, MESH, testIdx);
  const baseline = mse(yTest, rows(new Float32Array(700 * MESH).map((_, i) => meanSpec[i % MESH]), MESH, testIdx));
  const err = mse(pred(model, rows(X, 4, testIdx)), yTest);
  assert.ok(err < 0.05 * baseline, `test MSE ${err} should be < 5% of mean-predictor MSE ${baseline}`);
  assert.ok(history[bestEpoch - 1].valLoss < history[0].valLoss);
  model.dispose();
});

test("early stopping stops after `patience` epochs without improvement and restores the best weights", async () => {
  await initBackend();
  // targets unrelated to the features: validation loss soon rises while training loss falls
  const rng = createRng(9);
  const n = 160;
  const X = new Float32Array(n * 8).map(() => rng());
  const Y = new Float32Array(n * 6).map(() => rng());
  const patience = 4;
  const { model, history, bestEpoch } = await fit(X, 8, Y, 6, {
    trainIdx: range(0, 80), valIdx: range(80, n), hidden: [128, 128], learningRate: 1e-2, batchSize: 16, epochs: 200, patience, seed: 1,
  });
  assert.ok(history.length < 200, "stopped early");
  assert.equal(history.length, bestEpoch + patience);
  const best = Math.min(...history.map((h) => h.valLoss));
  assert.equal(history[bestEpoch - 1].valLoss, best);
  // the restored model reproduces the best epoch's validation loss (objective = MSE in standardised units)
  const yVal = model.outputScaler!.transform(rows(Y, 6, range(80, n)));
  const predVal = model.outputScaler!.transform(pred(model, rows(X, 8, range(80, n))));
  const restored = mse(predVal, yVal);
  assert.ok(Math.abs(restored - best) <= 1e-4 * best, `restored val loss ${restored} vs best ${best}`);
  assert.ok(Math.abs(restored - history[history.length - 1].valLoss) > 1e-4 * best, "differs from the last epoch");
  model.dispose();
});

test("same seed, same backend → identical weights (with dropout); another seed differs; no leaked tensors", async () => {
  await initBackend();
  const tensorsBefore = tf.memory().numTensors;
  const { X, Y } = synthetic(200, 2);
  const opts = { trainIdx: range(0, 150), valIdx: range(150, 200), hidden: [32, 16], dropout: 0.2, batchSize: 16, epochs: 5, seed: 42 };
  const a = await fit(X, 4, Y, MESH, opts);
  const b = await fit(X, 4, Y, MESH, opts);
  const c = await fit(X, 4, Y, MESH, { ...opts, seed: 43 });
  const wa = a.model.weightsSnapshot(), wb = b.model.weightsSnapshot(), wc = c.model.weightsSnapshot();
  assert.equal(wa.length, wb.length);
  for (let k = 0; k < wa.length; k++) assert.deepEqual(wa[k], wb[k], `weights ${k} identical`);
  assert.deepEqual(a.history.map((h) => h.loss), b.history.map((h) => h.loss));
  assert.notDeepEqual(wa[0], wc[0]);
  [a, b, c].forEach((r) => r.model.dispose());
  assert.equal(tf.memory().numTensors, tensorsBefore, "training + dispose leaves no tensors behind");
});

test("shape-aware losses: λ = 0 equals plain MSE; λ > 0 adds a positive term and still trains", async () => {
  await initBackend();
  const { X, Y } = synthetic(200, 4);
  const base = { trainIdx: range(0, 160), valIdx: range(160, 200), hidden: [32], batchSize: 32, epochs: 4, seed: 5 };
  const plain = await fit(X, 4, Y, MESH, { ...base, loss: "mse" });
  for (const loss of ["mse+cosine", "mse+derivative"] as const) {
    const zero = await fit(X, 4, Y, MESH, { ...base, loss, lossWeight: 0 });
    zero.history.forEach((h, i) => assert.ok(Math.abs(h.loss - plain.history[i].loss) <= 1e-5 * plain.history[i].loss, `${loss} λ=0 epoch ${i + 1}`));
    const shaped = await fit(X, 4, Y, MESH, { ...base, loss, lossWeight: 1 });
    assert.ok(shaped.history[0].loss > plain.history[0].loss, `${loss} adds a positive term`);
    assert.ok(shaped.history[3].loss < shaped.history[0].loss, `${loss} decreases`);
    zero.model.dispose();
    shaped.model.dispose();
  }
  plain.model.dispose();
});

test("scalers are fitted on training rows only", async () => {
  await initBackend();
  const { X, Y } = synthetic(120, 6);
  // poison the validation rows: a leak into the scalers would move mean/scale far away
  for (let r = 100; r < 120; r++) {
    X[r * 4] = 1e4;
    Y[r * MESH] = -1e4;
  }
  const train = range(0, 100);
  const { model } = await fit(X, 4, Y, MESH, { trainIdx: train, valIdx: range(100, 120), hidden: [8], epochs: 1, seed: 1 });
  // Default inputClip (5): the input scaler is fitClipped on the training rows.
  const expectX = StandardScaler.fitClipped(X, 4, train, 5);
  const expectY = StandardScaler.fit(Y, MESH, train);
  assert.deepEqual(Array.from(model.inputScaler.mean), Array.from(expectX.mean));
  assert.deepEqual(Array.from(model.inputScaler.scale), Array.from(expectX.scale));
  assert.equal(model.inputClip, 5);
  assert.deepEqual(Array.from(model.outputScaler!.mean), Array.from(expectY.mean));
  assert.ok(model.inputScaler.mean[0] < 1, "validation rows did not enter the feature mean");
  model.dispose();
});

test("save on wasm → load on wasm (identical) and on cpu (same within 1e-5 relative)", async () => {
  await initBackend({ backend: "wasm" });
  const { X, Y } = synthetic(150, 7);
  const { model } = await fit(X, 4, Y, MESH, { trainIdx: range(0, 120), valIdx: range(120, 150), hidden: [24, 12], epochs: 3, seed: 8 });
  const expected = pred(model, X);
  const dir = tmpDir("model");
  try {
    const mesh = range(0, MESH).map((e) => 8980 + e);
    await saveModel(dir, model, { meta: { energyMesh: mesh, normalisation: "edge-step" } });
    for (const f of ["model.json", "weights.bin", "xanes-model.json"]) assert.ok(fs.existsSync(path.join(dir, f)), f);
    const same = await loadModel(dir);
    assert.deepEqual(pred(same.model, X), expected);
    assert.deepEqual(same.file.meta.energyMesh, mesh);
    assert.equal(same.file.backend, "wasm");
    assert.deepEqual(same.model.config, model.config);
    same.model.dispose();

    await initBackend({ backend: "cpu" });
    const onCpu = await loadModel(dir);
    const got = pred(onCpu.model, X);
    const maxAbs = Math.max(...expected.map(Math.abs));
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - expected[i]) <= 1e-5 * maxAbs, `prediction ${i}`);
    onCpu.model.dispose();
    await assert.rejects(loadModel(path.join(dir, "missing")), /cannot read .*xanes-model\.json/);
  } finally {
    model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
    await initBackend();
  }
});

function cuprite(): Structure {
  // Cu2O (cuprite), a = 4.27 Å: O at (0,0,0), (½,½,½); Cu at the four (¼|¾) positions
  const a = 4.27;
  return {
    lattice: Float64Array.from([a, 0, 0, 0, a, 0, 0, 0, a]),
    species: ["O", "O", "Cu", "Cu", "Cu", "Cu"],
    frac: Float64Array.from([0, 0, 0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.75, 0.75, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0.75]),
    source: "test:cuprite",
  };
}

test("XanesPredictor: structure + site → spectrum on the mesh; bad sites skipped; save/loadPredictor rebuilds the featurizer", async () => {
  await initBackend();
  const featurizer = new Featurizer({ descriptors: [{ name: "composition" }, { name: "rdf" }], absorber: "Cu" });
  const d = featurizer.length;
  const rng = createRng(3);
  const n = 64;
  const X = new Float32Array(n * d).map(() => rng());
  const Y = new Float32Array(n * MESH).map(() => rng());
  const { model } = await fit(X, d, Y, MESH, { trainIdx: range(0, n), hidden: [16], epochs: 2, seed: 2 });
  const mesh = range(0, MESH).map((e) => 8970 + 2 * e);
  const predictor = new XanesPredictor(model as XanesMlp, featurizer, spectral(8970, 2));
  const s = cuprite();
  const one = predictor.predict(s, 2);
  assert.equal(one.mu.length, MESH);
  assert.deepEqual(Array.from(one.energy), mesh);
  assert.deepEqual(one.mu, pred(model, featurizer.featurizeSite(s, 2)));
  assert.throws(() => predictor.predict(s, 0), (e: unknown) => e instanceof InputError && /site 0.*expected Cu/.test((e as Error).message));
  const batch = predictor.predictSites(s, [2, 3, 0, 99]);
  assert.deepEqual(batch.spectra.map((p) => p.site), [2, 3]);
  assert.deepEqual(batch.skipped.map((p) => p.site), [0, 99]);
  assert.match(batch.skipped[1].reason, /test:cuprite: site 99 out of range/);
  // cuprite Cu sites are equivalent
  for (let e = 0; e < MESH; e++) assert.ok(Math.abs(batch.spectra[0].mu[e] - batch.spectra[1].mu[e]) < 1e-4);
  const dir = tmpDir("predictor");
  try {
    await predictor.save(dir, { normalisation: "none" });
    const loaded = await loadPredictor(dir);
    assert.deepEqual(loaded.featurizer.toJSON(), featurizer.toJSON());
    assert.deepEqual(loaded.predict(s, 2).mu, one.mu);
    assert.equal(loaded.meta.normalisation, "none");
    loaded.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    predictor.dispose();
  }
});

test("native Adam (wasm + OpenBLAS addon) matches tf.train.adam step for step", async (t) => {
  if (!loadNativeBlas()) return t.skip("native addon not built (npm run build:native)");
  await initBackend({ backend: "wasm", nativeBlas: true });
  const { X, Y } = synthetic(64, 12);
  const runSteps = (kind: "tfjs" | "native"): Float32Array[] => {
    const net = buildMlpNetwork(4, MESH, [32, 16], "relu", 7);
    const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
    const opt = createAdam(1e-2, kind);
    assert.equal(opt.name, kind === "native" ? "native-adam" : "tfjs-adam");
    const x = tf.tensor2d(X, [64, 4]);
    const y = tf.tensor2d(Y, [64, MESH]);
    for (let s = 0; s < 6; s++) {
      opt.minimize(() => tf.mean(tf.squaredDifference(net.apply(x) as tf.Tensor, y)) as tf.Scalar, vars);
    }
    const w = net.getWeights().map((v) => Float32Array.from(v.dataSync() as Float32Array));
    tf.dispose([x, y]);
    opt.dispose();
    net.dispose();
    return w;
  };
  const ref = runSteps("tfjs");
  const got = runSteps("native");
  // same kernels for the gradients, so only the update arithmetic differs: float32 rounding,
  // measured ≤ 3e-7 of the largest weight after 20 steps; tolerance 1e-6 of it
  for (let k = 0; k < ref.length; k++) {
    const maxAbs = Math.max(...ref[k].map(Math.abs));
    for (let i = 0; i < ref[k].length; i++) {
      assert.ok(Math.abs(got[k][i] - ref[k][i]) <= 1e-6 * maxAbs, `weight ${k}[${i}]: native ${got[k][i]} vs tfjs ${ref[k][i]}`);
    }
  }
  await initBackend();
});

test("trainMlp rejects inconsistent input with messages naming the problem", async () => {
  await initBackend();
  const { X, Y } = synthetic(20, 1);
  const ok = { trainIdx: range(0, 16), valIdx: range(16, 20), epochs: 1, hidden: [4] };
  await assert.rejects(trainMlp(mat(X, 4), mat(Y.subarray(MESH), MESH), mlpConfig(), { train: [0] }), /Y has 19 rows, X has 20/);
  await assert.rejects(fit(X, 4, Y, MESH, { ...ok, valIdx: [16, 25] }), /val\[1\] = 25 is not a row index in 0\.\.19/);
  await assert.rejects(fit(X, 4, Y, MESH, { ...ok, trainIdx: [] }), /training split is empty/);
  await assert.rejects(fit(X, 4, Y, MESH, { ...ok, loss: "huber" as never }), /unknown loss 'huber'/);
  await assert.rejects(fit(X, 4, Y, MESH, { ...ok, dropout: 1 }), /dropout 1 must be in \[0, 1\)/);
  assert.throws(() => matrix(X, 20, 3), /80 values cannot be 20×3/);
});

test("recordUntilPatience trains on for the patience replay but restores exactly the weights of config.patience (dropout on)", async () => {
  await initBackend();
  const rng = createRng(9);
  const n = 160;
  const X = new Float32Array(n * 8).map(() => rng());
  const Y = new Float32Array(n * 6).map(() => rng());
  const opts = { trainIdx: range(0, 80), valIdx: range(80, n), hidden: [64, 64], learningRate: 1e-2, batchSize: 16, epochs: 60, patience: 3, dropout: 0.2, seed: 2 };
  const plain = await fit(X, 8, Y, 6, opts);
  const { trainIdx, valIdx, ...hyper } = opts;
  const longer = await trainMlp(mat(X, 8), mat(Y, 6), mlpConfig(hyper), { train: trainIdx, val: valIdx }, { recordUntilPatience: 12 });
  assert.ok(plain.history.length < 60, "patience 3 stops early");
  assert.ok(longer.history.length > plain.history.length, "recording goes on past the stop");
  assert.equal(longer.stopEpoch, plain.history.length);
  assert.equal(longer.bestEpoch, plain.bestEpoch);
  // Same trajectory up to the stop, and the same restored weights: predictions are bit-identical.
  assert.deepEqual(longer.history.slice(0, plain.history.length).map((h) => h.valLoss), plain.history.map((h) => h.valLoss));
  assert.deepEqual(pred(longer.model, X), pred(plain.model, X));
  // The replay of patience 3 over the longer history finds the live run's stop and best epoch.
  const { replayPatience } = await import("../lib/model/mlp");
  const [r] = replayPatience(longer.history, [3], 60);
  assert.deepEqual([r.stopEpoch, r.bestEpoch], [plain.history.length, plain.bestEpoch]);
  plain.model.dispose();
  longer.model.dispose();
});

test("lrSchedule: the rate per epoch of each kind; bad schedules, decays and PCA settings are rejected naming the field", () => {
  const base = { learningRate: 0.01, epochs: 12 };
  for (let e = 1; e <= 12; e++) assert.equal(lrAt({ ...base, lrSchedule: { kind: "constant" } }, e), 0.01);
  const cos = { ...base, lrSchedule: { kind: "cosine" as const, minFactor: 0.1, warmupEpochs: 2 } };
  assert.equal(lrAt(cos, 1), 0.005);
  assert.equal(lrAt(cos, 2), 0.01);
  assert.equal(lrAt(cos, 3), 0.01);
  assert.ok(Math.abs(lrAt(cos, 12) - 0.001) < 1e-15, `last epoch at minFactor (${lrAt(cos, 12)})`);
  for (let e = 3; e < 12; e++) assert.ok(lrAt(cos, e + 1) < lrAt(cos, e), `cosine decreases after the warm-up (epoch ${e})`);
  const step = { ...base, lrSchedule: { kind: "step" as const, everyEpochs: 3, factor: 0.5 } };
  assert.deepEqual([1, 3, 4, 6, 7].map((e) => lrAt(step, e)), [0.01, 0.01, 0.005, 0.005, 0.0025]);
  const bad: [Partial<MlpConfig>, RegExp][] = [
    [{ lrSchedule: { kind: "cosine", minFactor: 2 } }, /lrSchedule .*minFactor must be in \[0, 1\]/],
    [{ lrSchedule: { kind: "cosine", minFactor: 0.1, warmupEpochs: 1.5 } }, /warmupEpochs must be an integer/],
    [{ lrSchedule: { kind: "step", everyEpochs: 0, factor: 0.5 } }, /everyEpochs must be an integer ≥ 1/],
    [{ lrSchedule: { kind: "step", everyEpochs: 5, factor: 0 } }, /factor must be in \(0, 1\]/],
    [{ lrSchedule: { kind: "linear" } as never }, /kind must be constant, cosine or step/],
    [{ weightDecay: -1 }, /weightDecay -1 must be ≥ 0/],
    [{ weightDecay: 2000 }, /weightDecay × learningRate < 1/],
    [{ outputScaling: "pca" }, /pcaComponents null must be an integer ≥ 1 or a variance fraction/],
    [{ outputScaling: "pca", pcaComponents: 1.5 }, /pcaComponents 1.5 must be/],
    [{ outputScaling: "pca", pcaComponents: 8, loss: "mse+cosine" }, /'pca' trains on mse only/],
    [{ pcaComponents: 8 }, /pcaComponents 8 is set but outputScaling is 'standard'/],
  ];
  for (const [o, re] of bad) assert.throws(() => mlpConfig(o), re, JSON.stringify(o));
});

test("default settings train bit-identically: a neutral schedule and zero decay run the plain Adam path", async () => {
  const { X, Y } = synthetic(96, 21);
  const o = { trainIdx: range(0, 80), valIdx: range(80, 96), hidden: [24, 12], epochs: 4, batchSize: 16, seed: 4, dropout: 0.1 };
  const backends: [string, () => Promise<unknown>][] = [["cpu", () => initBackend({ backend: "cpu" })], ["wasm", () => initBackend({ backend: "wasm", nativeBlas: false })]];
  if (loadNativeBlas()) backends.push(["wasm + native step", () => initBackend({ backend: "wasm", nativeBlas: true })]);
  for (const [name, init] of backends) {
    await init();
    const ref = await fit(X, 4, Y, MESH, o);
    for (const neutral of [
      { lrSchedule: { kind: "constant" as const }, weightDecay: 0 },
      { lrSchedule: { kind: "step" as const, everyEpochs: 1, factor: 1 } },
      { lrSchedule: { kind: "cosine" as const, minFactor: 1 } },
    ]) {
      const r = await fit(X, 4, Y, MESH, { ...o, ...neutral });
      assert.equal(r.timing.optimizer, ref.timing.optimizer);
      const w = r.model.weightsSnapshot();
      ref.model.weightsSnapshot().forEach((v, i) => assert.deepEqual(w[i], v, `${name}, ${JSON.stringify(neutral)}: tensor ${i}`));
      r.model.dispose();
    }
    const decayed = await fit(X, 4, Y, MESH, { ...o, weightDecay: 1 });
    assert.notDeepEqual(decayed.model.weightsSnapshot()[0], ref.model.weightsSnapshot()[0], `${name}: decay changes the weights`);
    decayed.model.dispose();
    ref.model.dispose();
  }
  await initBackend();
});

test("AdamW step: w ← w·(1 − lr·λ) − lr·m̂/(√v̂ + ε) with the gradient at the old w; native Adam agrees", async () => {
  const kinds: ("tfjs" | "native")[] = loadNativeBlas() ? ["tfjs", "native"] : ["tfjs"];
  await initBackend({ backend: "wasm", nativeBlas: kinds.includes("native") });
  const { X, Y } = synthetic(32, 13);
  const lr = 0.01;
  const wd = 3;
  const result: Record<string, Float32Array[]> = {};
  for (const kind of kinds) {
    const net = buildMlpNetwork(4, MESH, [8], "relu", 3);
    const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
    const x = tf.tensor2d(X, [32, 4]);
    const y = tf.tensor2d(Y, [32, MESH]);
    const f = () => tf.mean(tf.squaredDifference(net.apply(x) as tf.Tensor, y)) as tf.Scalar;
    const w0 = vars.map((v) => Float32Array.from(v.dataSync() as Float32Array));
    const { grads } = tf.variableGrads(f, vars);
    const g = vars.map((v) => Float32Array.from(grads[v.name].dataSync() as Float32Array));
    tf.dispose(Object.values(grads));
    const opt = createAdam(lr, kind, wd);
    opt.minimize(f, vars);
    // first Adam step: m̂ = g, v̂ = g²
    vars.forEach((v, i) => {
      const got = v.dataSync() as Float32Array;
      for (let k = 0; k < got.length; k++) {
        const want = w0[i][k] * (1 - lr * wd) - (lr * g[i][k]) / (Math.abs(g[i][k]) + 1e-7);
        assert.ok(Math.abs(got[k] - want) <= 1e-6, `${kind}: weight ${i}[${k}] ${got[k]} vs ${want}`);
      }
    });
    // a second step at a lower rate (as a schedule sets it)
    opt.setLearningRate(lr / 4);
    opt.minimize(f, vars);
    result[kind] = vars.map((v) => Float32Array.from(v.dataSync() as Float32Array));
    opt.dispose();
    tf.dispose([x, y]);
    net.dispose();
  }
  if (result.native) result.tfjs.forEach((w, i) => w.forEach((v, k) => assert.ok(Math.abs(result.native[i][k] - v) <= 1e-6, `native vs tfjs after 2 steps: ${i}[${k}]`)));
  await initBackend();
});

test("PcaBasis: eigenvectors of a known matrix; fitted on training rows only; a variance fraction picks k; all components round-trip", () => {
  const rng = createRng(17);
  const m = 30;
  // A = B·Bᵀ: symmetric positive semi-definite
  const B = new Float64Array(m * m).map(() => rng() - 0.5);
  const A = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let k = 0; k < m; k++) A[i * m + j] += B[i * m + k] * B[j * m + k];
  const { values, vectors } = symmetricEigen(A.slice(), m);
  for (let r = 0; r < m; r++) {
    if (r > 0) assert.ok(values[r] <= values[r - 1], "decreasing eigenvalues");
    for (let i = 0; i < m; i++) {
      let av = 0;
      for (let j = 0; j < m; j++) av += A[i * m + j] * vectors[r * m + j];
      assert.ok(Math.abs(av - values[r] * vectors[r * m + i]) < 1e-9 * values[0], `A·v = λ·v (vector ${r}, entry ${i})`);
    }
    for (let s = 0; s <= r; s++) {
      let dot = 0;
      for (let j = 0; j < m; j++) dot += vectors[r * m + j] * vectors[s * m + j];
      assert.ok(Math.abs(dot - (r === s ? 1 : 0)) < 1e-12, `orthonormal ${r}, ${s}`);
    }
  }
  // rank-3 rows plus an offset: 3 components explain everything
  const n = 200;
  const Y = new Float32Array(n * m);
  const basis = [0, 1, 2].map((c) => Float64Array.from({ length: m }, (_, j) => Math.sin((c + 1) * (j + 1) * 0.2)));
  for (let i = 0; i < n; i++) {
    const c = [rng() * 4 - 2, rng() - 0.5, rng() * 0.2];
    for (let j = 0; j < m; j++) Y[i * m + j] = 1 + c[0] * basis[0][j] + c[1] * basis[1][j] + c[2] * basis[2][j];
  }
  const train = range(0, 150);
  const p = PcaBasis.fit(Y, m, train, 0.9999);
  assert.equal(p.k, 3);
  assert.ok(Math.abs(p.explainedVarianceRatio.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  const back = p.inverseTransform(p.transform(Y));
  for (let i = 0; i < Y.length; i++) assert.ok(Math.abs(back[i] - Y[i]) < 1e-4, `rank-3 rows rebuilt from 3 coefficients (${i})`);
  // the mean is that of the training rows
  const meanTrain = new Float64Array(m);
  for (const r of train) for (let j = 0; j < m; j++) meanTrain[j] += Y[r * m + j] / train.length;
  p.mean.forEach((v, j) => assert.ok(Math.abs(v - meanTrain[j]) < 1e-5, `training-row mean ${j}`));
  // every component: any rows round-trip
  const noisy = new Float32Array(40 * m).map(() => rng() * 2 - 1);
  const all = PcaBasis.fit(noisy, m, range(0, 40), m);
  assert.equal(all.k, m);
  const again = all.inverseTransform(all.transform(noisy));
  for (let i = 0; i < noisy.length; i++) assert.ok(Math.abs(again[i] - noisy[i]) < 1e-5, `all components round-trip (${i})`);
  const json = JSON.parse(JSON.stringify(all.toJSON()));
  assert.deepEqual(PcaBasis.fromJSON(json).transform(noisy), all.transform(noisy));
  assert.throws(() => PcaBasis.fit(noisy, m, range(0, 40), 0), /must be an integer ≥ 1 or a fraction/);
  assert.throws(() => PcaBasis.fit(noisy, 7, range(0, 40), 2), /not a multiple of 7 columns/);
});

/** Rewrites a saved model's xanes-model.json through `edit` and re-signs it (integrity hash), as a writer of that content would. */
function rewriteModelFile(dir: string, edit: (o: Record<string, any>) => void): void {
  const file = path.join(dir, "xanes-model.json");
  const { integrity, ...content } = JSON.parse(fs.readFileSync(file, "utf8"));
  edit(content);
  integrity["xanes-model.json"] = crypto.createHash("sha256").update(JSON.stringify(content)).digest("hex");
  fs.writeFileSync(file, JSON.stringify({ ...content, integrity }, null, 1));
}

test("outputScaling pca: k = all components ≈ the plain path; fewer components train; save/load and estimator JSON round-trip; a bad basis is rejected", async () => {
  await initBackend({ backend: "wasm" });
  const { X, Y } = synthetic(200, 31);
  const o = { trainIdx: range(0, 160), valIdx: range(160, 200), hidden: [48, 48], epochs: 40, patience: 40, batchSize: 16, learningRate: 3e-3, seed: 6 };
  const val = rows(Y, MESH, range(160, 200));
  const plain = await fit(X, 4, Y, MESH, o);
  const full = await fit(X, 4, Y, MESH, { ...o, outputScaling: "pca", pcaComponents: MESH });
  const few = await fit(X, 4, Y, MESH, { ...o, outputScaling: "pca", pcaComponents: 0.999 });
  assert.equal(full.model.networkOutputs, MESH);
  assert.ok(few.model.networkOutputs < MESH / 2, `0.999 of the variance in ${few.model.networkOutputs} components`);
  const vPlain = mse(rows(pred(plain.model, X), MESH, range(160, 200)), val);
  const vFull = mse(rows(pred(full.model, X), MESH, range(160, 200)), val);
  const vFew = mse(rows(pred(few.model, X), MESH, range(160, 200)), val);
  const vMean = mse(new Float32Array(val.length).fill(val.reduce((a, b) => a + b, 0) / val.length), val);
  console.log(`val MSE: plain ${vPlain.toExponential(3)}, pca all ${vFull.toExponential(3)}, pca 0.999 (${few.model.networkOutputs} comp.) ${vFew.toExponential(3)}, constant ${vMean.toExponential(3)}`);
  // a rotation of the output layer: Adam is not rotation-invariant, so close, not equal
  assert.ok(vFull < 1.5 * vPlain && vPlain < 1.5 * vFull, `all components ≈ plain (${vFull} vs ${vPlain})`);
  assert.ok(vFew < 0.1 * vMean, `fewer components still learn (${vFew} vs ${vMean})`);
  // on the mesh
  assert.equal(pred(few.model, X).length, 200 * MESH);

  const dir = tmpDir("pca");
  try {
    const pcaDir = path.join(dir, "pca");
    await saveModel(pcaDir, few.model, { meta: {} });
    const saved = JSON.parse(fs.readFileSync(path.join(pcaDir, "xanes-model.json"), "utf8"));
    assert.equal(saved.estimator.outputPca.components.length, few.model.networkOutputs);
    const back = await loadModel(pcaDir);
    assert.deepEqual(pred(back.model, X), pred(few.model, X));
    assert.deepEqual(back.model.config, few.model.config);
    back.model.dispose();
    const viaJson = await MlpRegressor.fromJSON(JSON.parse(JSON.stringify(MlpRegressor.of(few.model).toJSON())));
    assert.deepEqual(viaJson.predict(mat(X, 4)).data, pred(few.model, X));
    viaJson.dispose();
    // a plain model's file has no basis, as before
    const plainDir = path.join(dir, "plain");
    await saveModel(plainDir, plain.model, { meta: {} });
    assert.equal("outputPca" in JSON.parse(fs.readFileSync(path.join(plainDir, "xanes-model.json"), "utf8")).estimator, false);
    // a config saved before lrSchedule, weightDecay and pcaComponents existed loads as it was trained
    rewriteModelFile(plainDir, (f) => {
      delete f.estimator.config.lrSchedule;
      delete f.estimator.config.weightDecay;
      delete f.estimator.config.pcaComponents;
      delete f.estimator.config.outputScaleExponent;
    });
    const old = await loadModel(plainDir);
    assert.deepEqual([old.model.config.lrSchedule, old.model.config.weightDecay, old.model.config.pcaComponents, old.model.config.outputScaleExponent], [{ kind: "constant" }, 0, null, 1]);
    assert.deepEqual(pred(old.model, X), pred(plain.model, X));
    old.model.dispose();

    const k = few.model.networkOutputs;
    const damaged: [(f: Record<string, any>) => void, RegExp][] = [
      [(f) => (f.estimator.outputPca.components[1] = f.estimator.outputPca.components[0]), /outputPca\.components\[1\] is not orthonormal to component 0/],
      [(f) => f.estimator.outputPca.components[0].pop(), new RegExp(`outputPca\\.components\\[0\\] has ${MESH - 1} entries, expected ${MESH}`)],
      [(f) => (f.estimator.outputPca.mean[3] = null), /outputPca\.mean\[3\] must be a finite number/],
      [(f) => (f.estimator.outputPca.explainedVarianceRatio[0] = 1.5), /explainedVarianceRatio\[0\] \(1\.5\) must be in \[0, 1\]/],
      [(f) => (f.estimator.outputPca.components.pop(), f.estimator.outputPca.explainedVarianceRatio.pop()), new RegExp(`modelTopology maps 4 → ${k}, xanes-model.json estimator says 4 → ${k - 1}`)],
      [(f) => delete f.estimator.outputPca, /outputPca is absent but config.outputScaling is pca/],
      [(f) => ((f.estimator.config.outputScaling = "standard"), (f.estimator.config.pcaComponents = null)), /outputPca is present but config.outputScaling is standard/],
    ];
    for (const [edit, re] of damaged) {
      const copy = path.join(dir, "damaged");
      fs.rmSync(copy, { recursive: true, force: true });
      fs.cpSync(pcaDir, copy, { recursive: true });
      rewriteModelFile(copy, edit);
      await assert.rejects(loadModel(copy), (e: Error) => e instanceof InputError && re.test(e.message), String(re));
    }
  } finally {
    [plain, full, few].forEach((r) => r.model.dispose());
    fs.rmSync(dir, { recursive: true, force: true });
    await initBackend();
  }
});

test("outputScaleExponent γ: target scales c·σ_j^γ keep the mean predictor's loss at 1 per point (γ = 0: one scale); training uses them, save/load keeps them; out of range is refused", async () => {
  const z = new StandardScaler([0, 1, 2, 3], [0.01, 0.1, 1, 2]);
  assert.equal(outputTargetScaler(z, 1), z);
  for (const g of [0, 0.25, 0.5, 0.75]) {
    const s = outputTargetScaler(z, g);
    assert.deepEqual([...s.mean], [...z.mean]);
    const meanLoss = z.scale.reduce((a, v, j) => a + (v / s.scale[j]) ** 2, 0) / z.scale.length;
    assert.ok(Math.abs(meanLoss - 1) < 1e-12, `γ ${g}: ${meanLoss}`);
    assert.ok(Math.abs(s.scale[3] / s.scale[2] - 2 ** g) < 1e-12);
  }
  const rms = Math.sqrt((0.01 ** 2 + 0.1 ** 2 + 1 + 4) / 4);
  for (const v of outputTargetScaler(z, 0).scale) assert.ok(Math.abs(v - rms) < 1e-12);
  assert.throws(() => mlpConfig({ outputScaleExponent: 1.5 }), /outputScaleExponent 1\.5 must be in \[0, 1\]/);
  assert.throws(() => mlpConfig({ outputScaleExponent: -0.1 }), /outputScaleExponent -0\.1 must be in \[0, 1\]/);
  assert.throws(() => mlpConfig({ outputScaling: "none", outputScaleExponent: 0.5 }), /needs outputScaling 'standard' or 'pca'/);

  await initBackend({ backend: "wasm" });
  const { X, Y } = synthetic(120, 17);
  const trainIdx = range(0, 100);
  const half = await fit(X, 4, Y, MESH, { trainIdx, valIdx: range(100, 120), hidden: [16], epochs: 5, patience: 5, batchSize: 16, seed: 3, outputScaleExponent: 0.5 });
  const want = outputTargetScaler(StandardScaler.fit(Y, MESH, trainIdx), 0.5);
  assert.deepEqual([...half.model.outputScaler!.scale], [...want.scale]);
  const dir = tmpDir("gamma");
  try {
    await saveModel(dir, half.model, { meta: {} });
    const back = await loadModel(dir);
    assert.equal(back.model.config.outputScaleExponent, 0.5);
    assert.deepEqual(pred(back.model, X), pred(half.model, X));
    back.model.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  half.model.dispose();
});
