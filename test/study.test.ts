/**
 * The estimator contract on real data (every estimator fitted on a small Cu K subset, toJSON/load
 * and model-folder round trips bit-identical), the model folder written before the spectral
 * contract (format 1, test/fixtures/model-v1), model-folder validation (issue 15: each fault names
 * the file and the field), and a fast-check property: a damaged folder never loads as a different model.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { sharedDataDir } from "../lib/config";
import { initBackend } from "../lib/model/backend";
import { estimatorFromJSON, MlpRegressor, type Estimator } from "../lib/model/estimator";
import { SeedEnsemble } from "../lib/model/ensemble";
import { mlpConfig } from "../lib/model/mlp";
import { loadModel } from "../lib/model/io";
import { loadPredictor, XanesPredictor } from "../lib/model/predictor";
import { KnnRegressor, MeanSpectrumRegressor } from "../lib/eval/baselines";
import { studyConfig } from "../lib/study/config";
import { buildStudyDataset, studySplit } from "../lib/study/features";
import { featurizeDataset, type FeatureTable } from "../lib/descriptors/table";
import { datasetSpectral } from "../lib/model/spectral";
import { readPoscarFile } from "../lib/structure/poscar";
import { InputError } from "../lib/util/errors";
import { takeRows } from "../lib/util/matrix";
import { tempDirFactory } from "./helpers/files";
import type { Dataset } from "../lib/data/dataset";

const tmp = tempDirFactory("xanes-study-");
const FIXTURES = path.join(__dirname, "fixtures");
const haveData = fs.existsSync(path.join(sharedDataDir(), "feff-cu-k-oxides"));
const skip = haveData ? false : "shared data not found (set XAS_DATA_DIR)";

let ds: Dataset;
let table: FeatureTable;
let predictorDir: string;

before(async () => {
  await initBackend();
  if (!haveData) return;
  const cfg = studyConfig("quick");
  cfg.dataset.maxMaterials = 30;
  ds = await buildStudyDataset(cfg);
  table = featurizeDataset(ds, [{ name: "composition" }, { name: "rdf", options: { rMax: 5 } }], "Cu");
  // One saved predictor for the folder tests below.
  const mlp = await new MlpRegressor(mlpConfig({ hidden: [8], epochs: 2, seed: 4 })).fit(table.X, table.Y, { train: table.X.rows > 40 ? [...Array(40).keys()] : [0] });
  predictorDir = path.join(tmp("predictor"), "model");
  await new XanesPredictor(mlp.fitted(), table.featurizer, datasetSpectral(ds, "Cu", "K"), { note: "test" }).save(predictorDir);
  mlp.dispose();
});

test("every estimator fits through one contract on real data; toJSON → load predicts bit-identically", { skip }, async () => {
  const split = studySplit(table.groups, studyConfig("quick"));
  const fitSplit = { train: split.train, val: split.val };
  const Xtest = takeRows(table.X, split.test);
  const cfg = mlpConfig({ hidden: [16], epochs: 3, seed: 1 });
  const estimators: Estimator[] = [
    new MlpRegressor(cfg),
    new SeedEnsemble(cfg, [1, 2]),
    new KnnRegressor({ kCandidates: [1, 3], weightings: ["uniform", "distance"] }),
    new MeanSpectrumRegressor(),
  ];
  for (const est of estimators) {
    await est.fit(table.X, table.Y, fitSplit);
    const pred = est.predict(Xtest);
    assert.equal(pred.rows, split.test.length, est.kind);
    assert.equal(pred.cols, table.Y.cols, est.kind);
    assert.ok(pred.data.every(Number.isFinite), est.kind);
    const json = JSON.parse(JSON.stringify(est.toJSON()));
    const back = await estimatorFromJSON(json);
    assert.equal(back.kind, est.kind);
    assert.deepEqual(back.predict(Xtest).data, pred.data, `${est.kind}: reloaded predictions`);
    back.dispose();
    est.dispose();
  }
  // The ensemble's prediction is the mean of its members; its spread is their sample std.
  const ens = await new SeedEnsemble(cfg, [1, 2]).fit(table.X, table.Y, fitSplit);
  const [a, b] = ens.predictMembers(Xtest);
  const { mean, std } = ens.predictWithSpread(Xtest);
  for (const i of [0, 7, 100]) {
    assert.ok(Math.abs(mean.data[i] - (a.data[i] + b.data[i]) / 2) < 1e-6);
    assert.ok(Math.abs(std.data[i] - Math.abs(a.data[i] - b.data[i]) / Math.SQRT2) < 1e-6);
  }
  ens.dispose();
  await assert.rejects(estimatorFromJSON({ kind: "svm" }), /kind "svm" is not a known estimator/);
});

test("a saved predictor folder reloads bit-identically with its spectral contract and descriptor citations", { skip }, async () => {
  const p = await loadPredictor(predictorDir);
  const s = ds.structures.get(ds.meta[table.rows[0]].materialId)!;
  const site = ds.meta[table.rows[0]].site;
  const direct = p.model.predict(takeRows(table.X, [0])).data;
  assert.deepEqual(p.predict(s, site).mu, direct);
  assert.deepEqual(p.spectral.mesh, { start: 8983, step: 0.5, count: 275, kind: "absolute", element: "Cu", edge: "K" });
  assert.equal(p.spectral.normalisation, "edge-step");
  assert.equal(p.meta.note, "test");
  const { file } = await loadModel(predictorDir);
  assert.deepEqual(file.descriptors.map((d) => d.name), ["composition", "rdf"]);
  assert.equal(file.descriptors[1].options.rMax, 5);
  assert.match(file.descriptors[1].citation, /Phys\. Rev\. B/);
  p.dispose();
});

test("a model folder written by the format-1 code (commit e844085) is upgraded with the facts it lacks, or rejected naming them", async () => {
  const dir = path.join(FIXTURES, "model-v1");
  await assert.rejects(loadPredictor(dir), (e: unknown) =>
    e instanceof InputError && e.message.includes(path.join(dir, "xanes-model.json")) && /mesh kind/.test(e.message) && /absorption edge/.test(e.message) && !/normalisation,/.test(e.message));
  const p = await loadPredictor(dir, { legacy: { meshKind: "absolute", edge: "K" } });
  // Element from the featurizer's absorber and normalisation from meta: both recorded by format 1.
  assert.deepEqual(p.spectral.mesh, { start: 8990, step: 0.5, count: 261, kind: "absolute", element: "Cu", edge: "K" });
  assert.equal(p.spectral.normalisation, "max");
  assert.equal(p.model.inputClip, 5);
  const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, "model-v1-expected.json"), "utf8"));
  const mu = p.predict(readPoscarFile(path.join(__dirname, "..", expected.structure)), expected.site).mu;
  const scale = Math.max(...expected.mu.map(Math.abs));
  mu.forEach((v, j) => assert.ok(Math.abs(v - expected.mu[j]) <= 1e-6 * scale, `mesh point ${j}: ${v} vs ${expected.mu[j]} (written by the old code)`));
  // Re-saved, it is a current folder that loads without the legacy facts.
  const again = path.join(tmp("resaved"), "m");
  await p.save(again);
  const q = await loadPredictor(again);
  assert.deepEqual(q.spectral, p.spectral);
  p.dispose();
  q.dispose();
});

/** A copy of the saved predictor with `edit` applied to one file. */
function tampered(name: string, file: string, edit: (text: Buffer) => Buffer | string): string {
  const dir = tmp(name);
  for (const f of fs.readdirSync(predictorDir)) fs.copyFileSync(path.join(predictorDir, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, file), edit(fs.readFileSync(path.join(dir, file))));
  return dir;
}

function editJson(edit: (o: any) => void): (b: Buffer) => string {
  return (b) => {
    const o = JSON.parse(b.toString("utf8"));
    edit(o);
    return JSON.stringify(o);
  };
}

test("tampered model folders: each fault is an InputError naming the file and the field", { skip }, async () => {
  const cases: [string, string, (b: Buffer) => Buffer | string, RegExp][] = [
    ["nan-weight", "weights.bin", (b) => (b.writeFloatLE(NaN, 8), b), /weights\.bin: weight ".*" entry 2 is NaN/],
    ["inf-weight", "weights.bin", (b) => (b.writeFloatLE(Infinity, 40), b), /weights\.bin: weight .* is Infinity/],
    ["cut-weights", "weights.bin", (b) => b.subarray(0, b.length - 6), /weights\.bin: hold \d+ bytes, .*model\.json weightsManifest lists/],
    ["flipped-weight", "weights.bin", (b) => (b.writeFloatLE(b.readFloatLE(12) + 0.5, 12), b), /weights\.bin: content does not match xanes-model\.json integrity/],
    ["scale-null", "xanes-model.json", editJson((o) => (o.estimator.inputScaler.scale[3] = null)), /xanes-model\.json: estimator\.inputScaler\.scale\[3\] must be a finite number, got null/],
    ["scale-text", "xanes-model.json", editJson((o) => (o.estimator.outputScaler.scale[0] = "1")), /estimator\.outputScaler\.scale\[0\] must be a finite number, got "1"/],
    ["scale-zero", "xanes-model.json", editJson((o) => (o.estimator.inputScaler.scale[1] = 0)), /estimator\.inputScaler\.scale\[1\] must be positive, got 0/],
    ["scale-negative", "xanes-model.json", editJson((o) => (o.estimator.outputScaler.scale[2] *= -1)), /estimator\.outputScaler\.scale\[2\] must be positive/],
    ["mean-short", "xanes-model.json", editJson((o) => o.estimator.inputScaler.mean.pop()), /estimator\.inputScaler\.mean has \d+ entries, expected \d+/],
    ["version-0", "xanes-model.json", editJson((o) => (o.version = 0)), /xanes-model\.json: version is 0; this lib reads version 2/],
    ["version-missing", "xanes-model.json", editJson((o) => delete o.version), /version is undefined/],
    ["version-abc", "xanes-model.json", editJson((o) => (o.version = "abc")), /version is "abc"/],
    ["version-3", "xanes-model.json", editJson((o) => (o.version = 3)), /version is 3/],
    ["mesh-reversed", "xanes-model.json", editJson((o) => (o.spectral.mesh.step = -0.5)), /spectral\.mesh\.step must be positive, got -0\.5/],
    ["mesh-constant", "xanes-model.json", editJson((o) => (o.spectral.mesh.step = 0)), /spectral\.mesh\.step must be positive, got 0/],
    ["mesh-text", "xanes-model.json", editJson((o) => (o.spectral.mesh.start = "8990")), /spectral\.mesh\.start must be a finite number/],
    ["mesh-kind", "xanes-model.json", editJson((o) => (o.spectral.mesh.kind = "relative")), /spectral\.mesh\.kind must be one of absolute, edge-relative/],
    ["mesh-count", "xanes-model.json", editJson((o) => (o.spectral.mesh.count = 260)), /spectral\.mesh\.count is 260, the network has 275 outputs/],
    ["normalisation", "xanes-model.json", editJson((o) => (o.spectral.normalisation = "sum")), /spectral\.normalisation must be one of/],
    ["clip-config", "xanes-model.json", editJson((o) => (o.estimator.config.inputClip = null)), /estimator\.inputScaler clip bounds present but config\.inputClip is null/],
    ["digit-changed", "xanes-model.json", editJson((o) => (o.estimator.inputScaler.mean[0] += 1e-3)), /xanes-model\.json: integrity does not match/],
    ["manifest-escape", "model.json", editJson((o) => (o.weightsManifest[0].paths = ["../../../../etc/hostname"])), /model\.json: weightsManifest\[0\]\.paths\[0\] \("\.\.\/\.\.\/\.\.\/\.\.\/etc\/hostname"\) points outside the model folder/],
    ["manifest-absolute", "model.json", editJson((o) => (o.weightsManifest[0].paths = ["/etc/hostname"])), /points outside the model folder/],
    ["manifest-dtype", "model.json", editJson((o) => (o.weightsManifest[0].weights[0].dtype = "int32")), /weightsManifest\[0\]\.weights\[0\]\.dtype must be one of float32/],
    ["activation", "model.json", (b) => b.toString().replace('"activation":"relu"', '"activation":"selu"'), /model\.json: content does not match xanes-model\.json integrity/],
    ["cut-json", "xanes-model.json", (b) => b.subarray(0, 200), /xanes-model\.json: invalid JSON/],
    ["cut-model-json", "model.json", (b) => b.subarray(0, 100), /model\.json: invalid JSON/],
  ];
  for (const [name, file, edit, expected] of cases) {
    const dir = tampered(name, file, edit);
    await assert.rejects(loadPredictor(dir), (e: unknown) => {
      assert.ok(e instanceof InputError, `${name}: ${String(e)}`);
      assert.match((e as Error).message, expected, name);
      return true;
    });
  }
});

test("a predictor never hands back non-finite spectra: an overflowing network raises", { skip }, async () => {
  const p = await loadPredictor(predictorDir);
  // Weights damaged in memory after loading (the loader rejects such files): NaN/∞ outputs.
  const last = p.model.net.layers[p.model.net.layers.length - 1];
  last.setWeights(last.getWeights().map((t) => t.mul(Infinity)));
  const s = ds.structures.get(ds.meta[table.rows[0]].materialId)!;
  assert.throws(() => p.predict(s, ds.meta[table.rows[0]].site), /XanesMlp\.predict: row 0 output \d+ is (NaN|-?Infinity)/);
  p.dispose();
});

test("property: a randomly cut, corrupted or retyped model folder gives an InputError naming a folder file, or the same model", { skip }, async () => {
  const original = await loadPredictor(predictorDir);
  const X = takeRows(table.X, [0, 1, 2]);
  const ref = original.model.predict(X).data;
  original.dispose();
  const files = ["xanes-model.json", "model.json", "weights.bin"];
  const junk = ["", " ", "0", "-1", "1e999", "null", '"x"', "[]", "{}", "NaN", ",", "}", "\u0000"];
  const damage = fc.oneof(
    fc.record({ kind: fc.constant("cut" as const), file: fc.constantFrom(...files), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({ kind: fc.constant("replace" as const), file: fc.constantFrom(...files), at: fc.double({ min: 0, max: 1, noNaN: true }), junk: fc.constantFrom(...junk) }),
    fc.record({ kind: fc.constant("byte" as const), file: fc.constantFrom(...files), at: fc.double({ min: 0, max: 1, noNaN: true }), value: fc.integer({ min: 0, max: 255 }) }),
  );
  let round = 0;
  await fc.assert(
    fc.asyncProperty(damage, async (d) => {
      const dir = tampered(`prop-${round++}`, d.file, (b) => {
        const i = Math.min(b.length - 1, Math.floor(d.at * b.length));
        if (d.kind === "cut") return b.subarray(0, i);
        if (d.kind === "byte") return (b[i] = d.value, b);
        return Buffer.concat([b.subarray(0, i), Buffer.from(d.junk), b.subarray(i + 1)]);
      });
      let p: XanesPredictor;
      try {
        p = await loadPredictor(dir);
      } catch (e) {
        assert.ok(e instanceof InputError, `${JSON.stringify(d)}: ${String(e)}`);
        assert.ok(files.some((f) => (e as Error).message.includes(path.join(dir, f))), `${JSON.stringify(d)}: message names no file: ${(e as Error).message}`);
        return;
      }
      // It loaded: then it must be the same model (e.g. a byte rewritten with its own value).
      try {
        assert.deepEqual(p.model.predict(X).data, ref, `${JSON.stringify(d)} loaded a different model`);
      } finally {
        p.dispose();
      }
    }),
    { numRuns: 120, seed: 20261201 },
  );
});

test("runStudy: tables (markdown, danfojs), figures and metrics from one result; a second run reuses the cached final run", { skip, timeout: 120_000 }, async () => {
  const { runStudy } = await import("../lib/study/study");
  const { markdownTable, tableDataFrame } = await import("../lib/study/tables");
  const saved = process.env.XANES_WORK_DIR;
  process.env.XANES_WORK_DIR = tmp("work");
  try {
    const cfg = studyConfig("quick");
    cfg.dataset.maxMaterials = 40;
    const logs: string[] = [];
    const a = await runStudy(cfg, { stages: ["final", "errors"], log: (s) => logs.push(s) });
    const b = await runStudy(cfg, { stages: ["final", "errors"], log: (s) => logs.push(s) });
    assert.ok(logs.some((l) => /final run: reused the cached run/.test(l)), logs.join("\n"));
    // The reused run is the same model: same test predictions and metrics, no second training.
    assert.deepEqual(b.final!.models.mlp.pred.data, a.final!.models.mlp.pred.data);
    assert.deepEqual(b.final!.training.history, JSON.parse(JSON.stringify(a.final!.training.history)));
    const t = a.table("comparison");
    assert.deepEqual(t.rows.map((r) => r[0]), ["MLP", a.final!.models.knn.name, "mean training spectrum"]);
    assert.equal(markdownTable(t).split("\n").length, 2 + 3);
    const df = tableDataFrame(t);
    assert.deepEqual(df.shape, [3, t.columns.length]);
    assert.ok(a.figures().some((f) => f.name === "examples-best-median-worst"));
    const m = a.toJSON() as { final: { mlp: { summary: { mse: { mean: number } } } }; timings: Record<string, number> };
    assert.equal(m.final.mlp.summary.mse.mean, a.final!.models.mlp.summary.mse.mean);
    assert.ok(m.timings.final >= 0 && m.timings.total >= m.timings.final);
    assert.throws(() => a.table("nope"), /no table "nope"/);
    a.dispose();
    b.dispose();
  } finally {
    if (saved === undefined) delete process.env.XANES_WORK_DIR;
    else process.env.XANES_WORK_DIR = saved;
  }
});

test("ablation runs spread over two child processes give the same scores as in one process", { skip }, async () => {
  const { runAblation } = await import("../lib/study/ablation");
  const { laneShares } = await import("../lib/study/ablation-lane");
  const mlp = mlpConfig({ hidden: [8], epochs: 2, patience: 2, dropout: 0.1 });
  const base = {
    X: table.X, Y: table.Y, blocks: table.blocks, energy: ds.energy, groups: table.groups, seeds: [1, 2],
    fractions: studyConfig("quick").split.fractions, estimator: (seed: number) => new MlpRegressor({ ...mlp, seed }),
  };
  const inProcess = await runAblation(base);
  let progress = 0;
  const lanes = await runAblation({ ...base, lanes: { count: 2, mlp }, onProgress: () => progress++ });
  const scores = (a: typeof inProcess) => a.rows.map((r) => r.runs.map(({ seconds: _s, ...s }) => s));
  assert.deepEqual(scores(lanes), scores(inProcess));
  assert.equal(progress, 3 * 2);
  assert.equal(lanes.mostImportant, inProcess.mostImportant);
  // Shares cover every run once, largest subsets first, and balance the feature counts.
  const shares = laneShares([[1, 2, 3], [1], [1, 2]], 2, 2);
  assert.deepEqual(shares.flat().sort(), [0, 1, 2, 3, 4, 5]);
});

test("Monte Carlo dropout: seeded samples are reproducible, differ from the mean net, and give a band calibrated on validation only", { skip }, async () => {
  const { dropoutUncertainty } = await import("../lib/study/final");
  const split = studySplit(table.groups, studyConfig("quick"));
  const mlp = await new MlpRegressor(mlpConfig({ hidden: [32], epochs: 3, dropout: 0.2, seed: 3 })).fit(table.X, table.Y, { train: split.train, val: split.val });
  const Xt = takeRows(table.X, split.test);
  const mean = mlp.predict(Xt);
  const [a, c] = mlp.fitted().predictDropoutSamples(Xt, 2, 11);
  assert.deepEqual(mlp.fitted().predictDropoutSamples(Xt, 1, 11)[0], a);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a, mean.data);
  // Dropout off: every sample is the mean net.
  const noDrop = await new MlpRegressor(mlpConfig({ hidden: [8], epochs: 1, seed: 3 })).fit(table.X, table.Y, { train: split.train });
  const plainPred = noDrop.predict(Xt).data;
  for (const s of noDrop.fitted().predictDropoutSamples(Xt, 2, 1)) assert.ok(s.every((v, i) => Math.abs(v - plainPred[i]) < 1e-6));
  noDrop.dispose();
  const u = dropoutUncertainty(mlp, table.X, table.Y, split, mean, { samples: 8, seed: 5 });
  assert.equal(u.test.n, split.test.length);
  assert.equal(u.testSigma.length, mean.data.length);
  assert.ok(u.chosen.calibration.scale > 0 && u.testSigma.every((s) => s > 0));
  for (const x of [u.test.coverage1, u.test.coverage2, u.chosen.val.coverage1]) assert.ok(x >= 0 && x <= 1);
  assert.ok(u.test.coverage2 >= u.test.coverage1);
  // Changing the test truth does not change the calibration: it is fitted on validation rows only.
  const Y2 = { ...table.Y, data: Float32Array.from(table.Y.data) };
  for (const r of split.test) Y2.data[r * Y2.cols] += 1;
  assert.deepEqual(dropoutUncertainty(mlp, table.X, Y2, split, mean, { samples: 8, seed: 5 }).chosen, u.chosen);
  mlp.dispose();
});

test("a saved model's band: dropout samples or members, calibrated as recorded; a malformed record names the field", { skip }, async () => {
  const { bandRecord, drawSigma, predictDraws } = await import("../lib/model/band");
  const { calibratedSigma, ensembleMeanStd } = await import("../lib/eval/uncertainty");
  const mlp = await new MlpRegressor(mlpConfig({ hidden: [16], epochs: 2, dropout: 0.2, seed: 9 })).fit(table.X, table.Y, { train: [...Array(Math.min(40, table.X.rows)).keys()] });
  const rec = { spread: "monte-carlo dropout", samples: 5, seed: 3, scale: 1.7, floor: 0.01 };
  const p = new XanesPredictor(mlp.fitted(), table.featurizer, datasetSpectral(ds, "Cu", "K"), { uncertainty: rec });
  const X = takeRows(table.X, [0, 1, 2]);
  const d = predictDraws([p], X);
  assert.equal(d.draws.length, 5);
  assert.deepEqual(d.mean, mlp.predict(X).data);
  const sigma = drawSigma(d.draws, d.mean.length, d.band);
  assert.deepEqual(sigma, calibratedSigma(ensembleMeanStd(d.draws).std, rec));
  assert.ok(sigma.every((s) => s >= 0.01 - 1e-7));
  // Without a record: no draws for a single net, raw population spread for an ensemble.
  const plain = new XanesPredictor(mlp.fitted(), table.featurizer, datasetSpectral(ds, "Cu", "K"));
  assert.equal(predictDraws([plain], X).draws.length, 0);
  const two = predictDraws([plain, p], X);
  assert.equal(two.band, null);
  assert.deepEqual(drawSigma(two.draws, two.mean.length, two.band), new Float32Array(two.mean.length));
  assert.throws(() => bandRecord({ uncertainty: { ...rec, scale: "2" } }), /meta\.uncertainty\.scale must be a finite number/);
  assert.throws(() => bandRecord({ uncertainty: { ...rec, spread: "bootstrap" } }), /meta\.uncertainty\.spread/);
  assert.throws(() => bandRecord({ uncertainty: { ...rec, samples: 1 } }), /samples must be an integer ≥ 2/);
  assert.equal(bandRecord({}), null);
  mlp.dispose();
});

test("benchmark report tables: the recorded runs give eta rows with n; a file that is not a report is an InputError naming it", () => {
  const { benchmarkEtaTable, benchmarkBandTable, readBenchmarkReport, recordedBenchmarkReports } = require("../lib/study/benchmark-tables") as typeof import("../lib/study/benchmark-tables");
  const reports = recordedBenchmarkReports();
  const t = benchmarkEtaTable(reports);
  assert.equal(t.rows.filter((r) => r[1] === "mean training spectrum").length, new Set(reports.map((r) => r.benchmark)).size);
  for (const r of t.rows) assert.match(r[2], /^\d+\.\d\d \(\d+\.\d\d\)$/);
  // Only OmniXAS rows are compared with the published eta.
  for (const r of t.rows) assert.equal(r[4] !== "", r[0].startsWith("omnixas"));
  assert.ok(benchmarkBandTable(reports).rows.every((r) => /%$/.test(r[4])));
  // The grouped goal's figure: the MLP ensemble's test mean MSE over kNN's, from the recorded report.
  const grouped = reports.find((r) => r.runs[0].mlp.settings && (r.runs[0].mlp.settings as { outputScaleExponent?: number }).outputScaleExponent === 0)!;
  const run = grouped.runs[0];
  const row = t.rows.find((r) => r[0] === `grouped, ${run.label}` && r[1].startsWith("MLP ensemble of 5") && r[1].includes("output scale γ 0"))!;
  assert.equal(row[5], (run.mlp.ensemble.testMeanMse! / run.knn.testMeanMse!).toFixed(3));
  assert.ok(Number(row[5]) <= 0.4, `grouped MLP / kNN ${row[5]}`);
  const bad = path.join(tmp("bench"), "not-a-report.json");
  fs.writeFileSync(bad, JSON.stringify({ benchmark: "omnixas", runs: [{ label: "x", mean: { testEta: 1, valEta: 1, nTest: 3 }, knn: {} }] }));
  assert.throws(() => readBenchmarkReport(bad), (e: unknown) => e instanceof InputError && e.message.includes(bad) && /runs\[0\]\.knn/.test(e.message));
});

test("withFileLock: a second caller waits for the holder's result instead of computing it again; a dead holder's lock is taken over", async () => {
  const { withFileLock } = await import("../lib/util/fs");
  const { spawn } = await import("node:child_process");
  const dir = tmp("lock");
  const lock = path.join(dir, "run.lock");
  const result = path.join(dir, "result.txt");
  // A live holder: a child process that writes the result after 1 s and then releases the lock.
  const child = spawn(process.execPath, ["-e", `
    const fs = require("fs");
    fs.writeFileSync(${JSON.stringify(lock)}, String(process.pid));
    setTimeout(() => { fs.writeFileSync(${JSON.stringify(result)}, "from child"); fs.rmSync(${JSON.stringify(lock)}); }, 1000);`]);
  const exited = new Promise((r) => child.on("exit", r));
  while (!fs.existsSync(lock)) await new Promise((r) => setTimeout(r, 20));
  const logs: string[] = [];
  let computed = 0;
  const got = await withFileLock(lock, async () => (computed++, "computed"), {
    ready: () => fs.existsSync(result), whenReady: async () => fs.readFileSync(result, "utf8"), pollMs: 50, log: (s) => logs.push(s),
  });
  assert.equal(got, "from child");
  assert.equal(computed, 0);
  assert.ok(logs.some((l) => /is computing the same result; waiting/.test(l)));
  await exited;
  // A lock left by a process that is gone is taken over, and released afterwards.
  fs.writeFileSync(lock, String(child.pid));
  fs.rmSync(result);
  const again = await withFileLock(lock, async () => "computed", { ready: () => fs.existsSync(result), whenReady: async () => "cached", pollMs: 50, log: (s) => logs.push(s) });
  assert.equal(again, "computed");
  assert.ok(logs.some((l) => /which is gone; taking it over/.test(l)));
  assert.equal(fs.existsSync(lock), false);
});

test("load rule: this process's own CPU use is taken out of the load average before asking for a second core", async () => {
  const { otherLoad, secondCoreIdle } = await import("../lib/util/load");
  // Idle machine, this process busy on ~1.6 cores for its whole life: the load 1.6 is its own.
  assert.ok(secondCoreIdle({ loadavg: 1.6, ownCpuSeconds: 160, uptime: 100, cores: 2 }));
  // Another job on one core besides this process's one: no second core.
  assert.equal(otherLoad({ loadavg: 2, ownCpuSeconds: 100, uptime: 100, cores: 2 }), 1);
  assert.ok(!secondCoreIdle({ loadavg: 2, ownCpuSeconds: 100, uptime: 100, cores: 2 }));
  // A fresh process on a loaded machine, and a one-core machine.
  assert.ok(!secondCoreIdle({ loadavg: 0.9, ownCpuSeconds: 0, uptime: 0, cores: 2 }));
  assert.ok(!secondCoreIdle({ loadavg: 0, ownCpuSeconds: 0, uptime: 10, cores: 1 }));
});

test("a weight file that is a link to a file outside the model folder is refused, even with matching bytes", { skip }, async () => {
  const dir = path.join(tmp("link"), "model");
  fs.cpSync(predictorDir, dir, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8")).weightsManifest[0].paths[0] as string;
  const outside = path.join(path.dirname(dir), "elsewhere.bin");
  fs.renameSync(path.join(dir, manifest), outside);
  fs.symlinkSync(outside, path.join(dir, manifest));
  await assert.rejects(loadPredictor(dir), (e: unknown) => e instanceof InputError && /points outside the model folder/.test(e.message) && e.message.includes(path.join(dir, "model.json")));
  // The same bytes as a plain file inside load.
  fs.rmSync(path.join(dir, manifest));
  fs.copyFileSync(outside, path.join(dir, manifest));
  (await loadPredictor(dir)).dispose();
});
