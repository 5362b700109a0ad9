// The OmniXAS benchmark protocol: processing checked against their own processed spectra, the split
// reader, and the eta score on small cases whose value is known.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { sharedDataDir } from "../lib/config";
import { InputError } from "../lib/util/errors";
import { buildDataset } from "../lib/data/dataset";
import { parseXmuDat } from "../lib/spectra/xmu";
import {
  etaScore,
  median,
  OMNIXAS_MESH,
  omnixasSource,
  parseSplitLine,
  perSpectrumMse,
  readOmnixasSplit,
  readProcessedSpectra,
  readSplitFile,
  splitLineId,
} from "../lib/data/omnixas";
import { tempDirFactory } from "./helpers/files";
import type { Structure } from "../lib/structure/types";
import { Featurizer } from "../lib/descriptors/featurizer";
import { DESCRIPTOR_PRESETS } from "../lib/descriptors/presets";
import { BV_CU_O } from "../lib/descriptors/shell";
import { createRng } from "../lib/util/random";
import { bandCoverage, calibrateBand, calibrateBandCoverage, calibratedSigma, ensembleMeanStd, NOMINAL_COVERAGE, spectrumUncertainty, uncertaintyReport } from "../lib/eval/uncertainty";

const CU = path.join(sharedDataDir(), "feff-cu-k-oxides");
const SPLIT = path.join(sharedDataDir(), "omnixas-cu-feff-split");
const haveData = fs.existsSync(CU) && fs.existsSync(SPLIT);
const tmp = tempDirFactory("benchmark");

test("processing reproduces OmniXAS's processed val and test spectra to better than 1e-3 relative", { skip: !haveData && "shared data not found (set XAS_DATA_DIR)", timeout: 60_000 }, async () => {
  const ref = new Map([...readProcessedSpectra(path.join(SPLIT, "val-y-available.txt")), ...readProcessedSpectra(path.join(SPLIT, "test-y-available.txt"))]);
  assert.ok(ref.size > 700, `${ref.size} processed rows`);
  const materials = [...new Set([...ref.keys()].map((id) => parseSplitLine(id).materialId))].sort();
  const ds = await buildDataset({ name: "omnixas-check", sources: omnixasSource([CU], materials), mesh: OMNIXAS_MESH, normalisation: "none", outOfWindow: "clamp", filters: { elements: ["Cu"] } });
  const rowOf = new Map(ds.meta.map((m, i) => [splitLineId(m.materialId, m.site), i]));
  const M = OMNIXAS_MESH.points;
  let maxRel = 0;
  let compared = 0;
  let heldStart = 0;
  for (const [id, y] of ref) {
    const r = rowOf.get(id);
    assert.ok(r !== undefined, `${id}: no spectrum built`);
    compared++;
    if (y[0] === y[1]) heldStart++;
    for (let j = 0; j < M; j++) maxRel = Math.max(maxRel, Math.abs(ds.spectra[r * M + j] - y[j]) / Math.abs(y[j]));
  }
  assert.equal(compared, ref.size);
  // buildDataset reports the held ends: every spectrum is cut before the last mesh point (their
  // processing), and at least the reference rows that start with a repeated value start late
  const held = ds.config.quality.held!;
  assert.equal(held.end, ds.meta.length);
  assert.ok(held.start >= heldStart && held.start <= ds.meta.length, `held at start ${held.start}`);
  // the held first value (numpy interp end behaviour) is exercised by many rows
  assert.ok(heldStart > 50, `${heldStart} rows start with a held value`);
  // measured 8.6e-7 (their files keep 9 digits; ours are float32)
  assert.ok(maxRel < 1e-5, `max relative deviation ${maxRel}`);
});

test("xmu.dat header: xsedge+ 50 is read, and a bad value is an InputError naming the file", () => {
  const rows = "    8984.506    -11.906  -1.000  4.58134E-02  6.20585E-02 -1.62451E-02\n    8984.805    -11.607  -0.960  4.84682E-02  6.67721E-02 -1.83039E-02\n";
  const good = "#  xsedge+ 50, used to normalize mu           2.4327E-04\n#  omega    e    k    mu    mu0     chi     @#\n" + rows;
  assert.equal(parseXmuDat(good, "a.dat").xsedge50, 2.4327e-4);
  assert.equal(parseXmuDat(rows, "b.dat").xsedge50, undefined);
  assert.throws(() => parseXmuDat(good.replace("2.4327E-04", "-1"), "c.dat"), (e: unknown) => e instanceof InputError && /c\.dat/.test(e.message));
});

test("split files: ids parse, duplicates and a material on two sides are InputErrors", () => {
  assert.deepEqual(parseSplitLine("mp-704645_000"), { id: "mp-704645_000", materialId: "mp-704645", site: 0 });
  assert.deepEqual(parseSplitLine("mvc-6490_018"), { id: "mvc-6490_018", materialId: "mvc-6490", site: 18 });
  assert.equal(splitLineId("mvc-6490", 18), "mvc-6490_018");
  assert.throws(() => parseSplitLine("mp-704645", "s.txt", 3), (e: unknown) => e instanceof InputError && /s\.txt:3/.test(e.message));
  const dir = tmp("split");
  fs.writeFileSync(path.join(dir, "train.txt"), "mp-1_000\nmp-1_001\n\nmp-2_004\n");
  fs.writeFileSync(path.join(dir, "val.txt"), "mp-3_000\n");
  fs.writeFileSync(path.join(dir, "test.txt"), "mp-4_002\n");
  const s = readOmnixasSplit(dir);
  assert.deepEqual(s.train.map((l) => l.id), ["mp-1_000", "mp-1_001", "mp-2_004"]);
  fs.writeFileSync(path.join(dir, "test.txt"), "mp-1_002\n");
  assert.throws(() => readOmnixasSplit(dir), (e: unknown) => e instanceof InputError && /mp-1 is also in train/.test(e.message));
  fs.writeFileSync(path.join(dir, "val.txt"), "mp-3_000\nmp-3_000\n");
  assert.throws(() => readSplitFile(path.join(dir, "val.txt")), (e: unknown) => e instanceof InputError && /listed twice/.test(e.message));
});

test("eta: median per-spectrum MSE of the mean baseline over the model's, on a case computed by hand", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  // 3 test spectra of 2 points; baseline (0, 0)
  const truth = Float32Array.from([1, 1, 2, 2, 3, 3]);
  const base = Float32Array.from([0, 0]);
  const pred = Float32Array.from([1, 2, 2, 2, 3, 5]); // per-spectrum MSE 0.5, 0, 2 → median 0.5
  assert.deepEqual([...perSpectrumMse(pred, truth, 2)], [0.5, 0, 2]);
  const s = etaScore(pred, truth, base); // baseline MSEs 1, 4, 9 → median 4
  assert.equal(s.n, 3);
  assert.equal(s.medianMseBaseline, 4);
  assert.equal(s.medianMseModel, 0.5);
  assert.equal(s.eta, 8);
  // the baseline scored against itself is 1, and eta does not change with the intensity scale
  const tiled = Float32Array.from([0, 0, 0, 0, 0, 0]);
  assert.equal(etaScore(tiled, truth, base).eta, 1);
  const k = 3.7;
  const sc = etaScore(pred.map((v) => v * k), truth.map((v) => v * k), base);
  assert.ok(Math.abs(sc.eta - 8) < 1e-5);
});

/** Cu at the centre of a 12 Å cube with O at the given cartesian offsets (Å). */
function cluster(offsets: number[][]): Structure {
  const a = 12;
  const frac = [0.5, 0.5, 0.5, ...offsets.flatMap((v) => v.map((x) => 0.5 + x / a))];
  return { lattice: Float64Array.from([a, 0, 0, 0, a, 0, 0, 0, a]), species: ["Cu", ...offsets.map(() => "O")], frac: Float64Array.from(frac), source: "synthetic" };
}

test("extended descriptors on a square-planar CuO4: angles at 90° and 180°, bond-valence sum 4 at r = R0, O-only partial RDF", () => {
  const r = BV_CU_O.r0;
  const s = cluster([[r, 0, 0], [-r, 0, 0], [0, r, 0], [0, -r, 0]]);
  const f = new Featurizer({ descriptors: DESCRIPTOR_PRESETS.extended.filter((n) => ["prdf", "adf", "shell"].includes(n)).map((name) => ({ name })), absorber: "Cu" });
  const x = f.featurizeSite(s, 0);
  const at = (label: string) => x[f.labels.indexOf(label)];
  // 4 bonds, all first shell, all O, bond-valence sum 4 × exp(0) = 4
  assert.equal(at("shell_cn"), 4);
  assert.ok(Math.abs(at("shell_bvs") - 4) < 1e-5, `bvs ${at("shell_bvs")}`);
  assert.ok(Math.abs(at("shell_rmean") - r) < 1e-5);
  assert.equal(at("shell_distortion"), 0);
  assert.equal(at("shell_ofrac"), 1);
  assert.equal(at("shell_ncu"), 0);
  // pairs: 4 at 90°, 2 at 180°, each of weight f_c(r)² at its grid point (unit-height Gaussians)
  const fc = 0.5 * (Math.cos((Math.PI * r) / 3.2) + 1);
  assert.ok(Math.abs(at("adf_90.0") - 4 * fc * fc) < 1e-4, `adf(90) ${at("adf_90.0")}`);
  assert.ok(Math.abs(at("adf_180.0") - 2 * fc * fc) < 1e-4);
  assert.ok(at("adf_45.0") < 1e-6 && at("adf_135.0") < 1e-6);
  // partial RDF: O channel peaks at r, Cu and other channels empty within 6 Å (next Cu is 12 Å away)
  const sumOf = (prefix: string) => f.labels.reduce((acc, l, i) => (l.startsWith(prefix) ? acc + x[i] : acc), 0);
  assert.ok(sumOf("prdf_O_") > 0);
  assert.equal(sumOf("prdf_Cu_"), 0);
  assert.equal(sumOf("prdf_other_"), 0);
  // a tetrahedron has its pairs at 109.47°, not at 90°
  const t = r / Math.sqrt(3);
  const tet = f.featurizeSite(cluster([[t, t, t], [t, -t, -t], [-t, t, -t], [-t, -t, t]]), 0);
  assert.ok(tet[f.labels.indexOf("adf_112.5")] > 10 * tet[f.labels.indexOf("adf_90.0")]);
});

test("ensemble band calibration recovers a known spread scale and gives nominal coverage on fresh synthetic data", () => {
  const rng = createRng(7);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  // truth = mean + N(0, (3·spread)²): the calibrated scale should be ≈ 3 and the floor ≈ 0
  const make = (n: number) => {
    const mean = new Float32Array(n), spread = new Float32Array(n), truth = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      spread[i] = 0.01 + 0.1 * rng();
      mean[i] = rng();
      truth[i] = mean[i] + 3 * spread[i] * gauss();
    }
    return { mean, spread, truth };
  };
  const cal = make(20000);
  const c = calibrateBand(cal.mean, cal.spread, cal.truth);
  assert.ok(Math.abs(c.scale - 3) < 0.1, `scale ${c.scale}`);
  assert.ok(c.floor < 0.02, `floor ${c.floor}`);
  const fresh = make(20000);
  const sigma = calibratedSigma(fresh.spread, c);
  assert.ok(Math.abs(bandCoverage(fresh.mean, sigma, fresh.truth, 1) - NOMINAL_COVERAGE.one) < 0.015);
  assert.ok(Math.abs(bandCoverage(fresh.mean, sigma, fresh.truth, 2) - NOMINAL_COVERAGE.two) < 0.01);
  // uncalibrated (scale 1) the band is far too narrow
  assert.ok(bandCoverage(fresh.mean, fresh.spread, fresh.truth, 1) < 0.35);
  // a constant-noise case: spread carries no information, the floor takes over
  const n = 20000;
  const m2 = new Float32Array(n), s2 = new Float32Array(n), t2 = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s2[i] = 0.05 * rng();
    t2[i] = m2[i] + 0.2 * gauss();
  }
  const c2 = calibrateBand(m2, s2, t2);
  assert.ok(Math.abs(c2.floor - 0.2) < 0.02, `floor ${c2.floor}`);
  // coverage matching: on Gaussian data the same scale as the likelihood fit
  const cc = calibrateBandCoverage(cal.mean, cal.spread, cal.truth);
  assert.ok(Math.abs(bandCoverage(cal.mean, calibratedSigma(cal.spread, cc), cal.truth, 1) - NOMINAL_COVERAGE.one) < 0.01);
  assert.ok(Math.abs(cc.scale - 3) < 0.15, `coverage scale ${cc.scale}`);
  // heavy tails (Student t, 3 dof): no Gaussian band fits both levels; coverage matching keeps the
  // worst deviation on fresh data smaller than the likelihood fit does
  const heavy = (n: number) => {
    const mean = new Float32Array(n), spread = new Float32Array(n), truth = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      spread[i] = 0.01 + 0.1 * rng();
      const chi2 = gauss() ** 2 + gauss() ** 2 + gauss() ** 2;
      truth[i] = 2 * spread[i] * (gauss() / Math.sqrt(chi2 / 3));
    }
    return { mean, spread, truth };
  };
  const hc = heavy(20000), hf = heavy(20000);
  const worst = (c: { scale: number; floor: number }) => {
    const sg = calibratedSigma(hf.spread, c);
    return Math.max(Math.abs(bandCoverage(hf.mean, sg, hf.truth, 1) - NOMINAL_COVERAGE.one), Math.abs(bandCoverage(hf.mean, sg, hf.truth, 2) - NOMINAL_COVERAGE.two));
  };
  const wCov = worst(calibrateBandCoverage(hc.mean, hc.spread, hc.truth));
  const wNll = worst(calibrateBand(hc.mean, hc.spread, hc.truth));
  assert.ok(wCov < wNll && wCov < 0.05, `worst coverage deviation: coverage fit ${wCov}, likelihood fit ${wNll}`);
});

test("ensembleMeanStd and the per-spectrum report: uncertainty that tracks the error ranks it", () => {
  const { mean, std } = ensembleMeanStd([Float32Array.from([1, 2]), Float32Array.from([3, 2])]);
  assert.deepEqual([...mean], [2, 2]);
  assert.deepEqual([...std], [1, 0]);
  // 4 spectra of 3 points; errors grow with the predicted sigma
  const M = 3;
  const mu = new Float32Array(12);
  const sig = Float32Array.from([0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.4, 0.4, 0.4, 0.8, 0.8, 0.8]);
  const truth = Float32Array.from([0.05, -0.05, 0.05, 0.1, -0.3, 0.1, 0.2, 0.2, -0.5, 0.5, 0.5, -0.5]);
  const rep = uncertaintyReport(mu, sig, truth, M);
  assert.equal(rep.n, 4);
  assert.equal(rep.spearmanUncertaintyError, 1);
  assert.equal(rep.coverage1, 10 / 12);
  assert.equal(rep.coverage2, 1);
  assert.deepEqual([...spectrumUncertainty(sig, M)].map((v) => +v.toFixed(6)), [0.1, 0.2, 0.4, 0.8]);
});

// ---- CLI: `npm run benchmark` and `npm run evaluate` end to end on a tiny split (child processes) ----

const ROOT = path.resolve(__dirname, "..");

/** Runs a script of scripts/ as `npm run` does; returns exit status and output. */
function runScript(script: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts", script), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, XANES_TRAIN_THREADS: "1" },
    timeout: 180_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A split folder of the first lines of each OmniXAS part whose material is present here. */
function tinySplit(perPart: Record<"train" | "val" | "test", number>): string {
  const dir = tmp("tiny-split");
  const present = new Set(fs.readdirSync(CU));
  for (const part of ["train", "val", "test"] as const) {
    const lines = fs.readFileSync(path.join(SPLIT, `${part}.txt`), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && present.has(parseSplitLine(l).materialId));
    fs.writeFileSync(path.join(dir, `${part}.txt`), lines.slice(0, perPart[part]).join("\n") + "\n");
  }
  return dir;
}

test("CLI: benchmark omnixas on a tiny split prints the summary table and writes the report; evaluate scores the saved ensemble", { skip: !haveData && "shared data not found (set XAS_DATA_DIR)", timeout: 300_000 }, async () => {
  const split = tinySplit({ train: 40, val: 12, test: 12 });
  const out = path.join(tmp("bench-out"), "report.json");
  const saved = tmp("bench-model");
  const b = runScript("benchmark.ts", [
    "omnixas", "--root", CU, "--split", split, "--preset", "study", "--seeds", "1,2", "--hidden", "16", "--epochs", "2", "--patience", "2",
    "--lr-schedule", "cosine:0.1", "--weight-decay", "0.01", "--pca", "4", "--out", out, "--save", saved, "--label", "cli test",
  ]);
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stdout, /split lines found here: train 40\/40, val 12\/12, test 12\/12/);
  // the summary table: header, rule, one row for the study preset with 2 seeds and n = 12
  const rows = b.stdout.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| ---"));
  assert.match(rows[0], /^\| configuration \| seeds \| kNN val eta \| kNN test eta \| MLP member val eta \(mean\) \| MLP ens\. val eta \| MLP ens\. test eta \| n test \|/);
  assert.equal(rows.length, 2);
  const cells = rows[1].split("|").slice(1, -1).map((c) => c.trim());
  assert.deepEqual(cells.slice(0, 2), ["study", "2"]);
  assert.equal(cells[7], "12");
  cells.slice(2, 7).forEach((c) => assert.ok(Number(c) > 0, `eta cell ${c}`));
  const report = JSON.parse(fs.readFileSync(out, "utf8"));
  assert.equal(report.benchmark, "omnixas");
  assert.equal(report.complete, true);
  assert.equal(report.label, "cli test");
  assert.deepEqual(report.rows, { train: 40, val: 12, test: 12, featurisationErrors: [] });
  const run = report.runs[0];
  assert.equal(run.preset, "study");
  assert.deepEqual(run.mlp.settings.lrSchedule, { kind: "cosine", minFactor: 0.1 });
  assert.equal(run.mlp.settings.weightDecay, 0.01);
  assert.deepEqual([run.mlp.settings.outputScaling, run.mlp.settings.pcaComponents, run.mlp.settings.epochs], ["pca", 4, 2]);
  assert.equal(run.mlp.members.length, 2);
  assert.equal(run.mlp.ensemble.nTest, 12);
  // the table prints what the report holds
  assert.equal(Number(cells[6]), Number(run.mlp.ensemble.testEta.toFixed(3)));
  assert.equal(Number(cells[3]), Number(run.knn.testEta.toFixed(3)));
  assert.deepEqual(fs.readdirSync(saved).sort(), ["member-0", "member-1"]);

  // evaluate: the saved ensemble on the same test lines, baselines fitted on the train lines, reproduces the benchmark's eta
  const evalOut = path.join(tmp("eval-out"), "evaluate.json");
  const e = runScript("evaluate.ts", ["--model", saved, "--data", path.join(split, "test.txt"), "--train", path.join(split, "train.txt"), "--root", CU, "--out", evalOut]);
  assert.equal(e.status, 0, e.stderr);
  assert.match(e.stdout, /\| model \| MSE \(mean\) \| MSE \(median\) \| Pearson \|/);
  const ensLine = e.stdout.split("\n").find((l) => /^eta MLP ensemble of 2: /.test(l));
  assert.ok(ensLine, e.stdout);
  assert.match(ensLine!, /\(n 12\)/);
  assert.equal(Number(/: ([\d.]+) /.exec(ensLine!)![1]), Number(run.mlp.ensemble.testEta.toFixed(3)));
  const ev = JSON.parse(fs.readFileSync(evalOut, "utf8"));
  assert.ok(Math.abs(ev.eta["MLP ensemble of 2"].eta - run.mlp.ensemble.testEta) < 1e-4 * run.mlp.ensemble.testEta, "evaluate's eta = the benchmark's");
  // the ensemble's recorded band (calibrated on the val lines by the benchmark) is scored on the test lines
  assert.equal(ev.uncertainty.spread, "seed ensemble");
  assert.equal(ev.uncertainty.draws, 2);
  assert.equal(ev.uncertainty.n, 12);

  // one member re-saved with a Monte Carlo dropout band: evaluate scores that band too (lib/model/band)
  const { initBackend } = await import("../lib/model/backend");
  const { loadPredictor } = await import("../lib/model/predictor");
  await initBackend();
  const one = await loadPredictor(path.join(saved, "member-0"));
  assert.ok(one.model.config.dropout > 0);
  const single = path.join(tmp("single-model"), "model");
  await one.save(single, { uncertainty: { spread: "monte-carlo dropout", samples: 5, seed: 3, scale: 2, floor: 0.001 } });
  one.dispose();
  const sOut = path.join(tmp("eval-single"), "evaluate.json");
  const es = runScript("evaluate.ts", ["--model", single, "--data", path.join(split, "test.txt"), "--root", CU, "--out", sOut]);
  assert.equal(es.status, 0, es.stderr);
  const evs = JSON.parse(fs.readFileSync(sOut, "utf8"));
  assert.deepEqual([evs.uncertainty.spread, evs.uncertainty.draws, evs.uncertainty.calibration], ["monte-carlo dropout", 5, { scale: 2, floor: 0.001 }]);
  assert.ok(evs.uncertainty.coverage2 >= evs.uncertainty.coverage1);
});

test("CLI: benchmark and evaluate reject bad arguments with one-line errors", { timeout: 120_000 }, () => {
  const grid = path.join(tmp("grid"), "grid.json");
  fs.writeFileSync(grid, JSON.stringify([{ label: "a", mlp: { hidden: [8] } }, { label: "a", mlp: {} }]));
  const cases: [string, string[], RegExp][] = [
    ["benchmark.ts", ["nope"], /^error: unknown benchmark "nope" \(known: omnixas, grouped\)/],
    ["benchmark.ts", ["omnixas", "--preset", "huge"], /^error: --preset huge: unknown \(known: /],
    ["benchmark.ts", ["omnixas", "--seeds", "1,x"], /^error: --seeds: expected comma-separated numbers, got "1,x"/],
    ["benchmark.ts", ["omnixas", "--lr-schedule", "cosine"], /^error: --lr-schedule: expected constant, cosine:MIN\[:WARMUP\] or step:EVERY:FACTOR, got "cosine"/],
    ["benchmark.ts", ["omnixas", "--lr-schedule", "step:0:0.5"], /^error: benchmark: lrSchedule .*everyEpochs must be an integer ≥ 1/],
    ["benchmark.ts", ["omnixas", "--pca", "0"], /^error: benchmark: pcaComponents 0 must be an integer ≥ 1 or a variance fraction/],
    ["benchmark.ts", ["omnixas", "--pca", "8", "--output-scaling", "standard"], /^error: --pca needs --output-scaling pca/],
    ["benchmark.ts", ["omnixas", "--weight-decay=-1"], /^error: benchmark: weightDecay -1 must be ≥ 0/],
    ["benchmark.ts", ["omnixas", "--grid", grid], /^error: .*grid\.json: entry 1: label must be a non-empty string, unique in the grid/],
    ["evaluate.ts", ["--model", path.join(ROOT, "no-such-model"), "--data", "x", "--k", "0"], /^error: --k 0: expected a positive integer/],
  ];
  if (haveData) cases.push(["benchmark.ts", ["omnixas", "--root", path.join(ROOT, "no-such-root"), "--seeds", "1"], /^error: .*no-such-root: FEFF data root does not exist/]);
  for (const [script, args, re] of cases) {
    const r = runScript(script, args);
    assert.equal(r.status, 1, `${script} ${args.join(" ")}: exit status (stderr: ${r.stderr})`);
    assert.match(r.stderr.trim(), re, `${script} ${args.join(" ")}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, `one line, no stack: ${r.stderr}`);
  }
  // no arguments: the usage, exit status 1 for evaluate (nothing to score), 0 for benchmark (help)
  const usage = runScript("evaluate.ts", []);
  assert.equal(usage.status, 1);
  assert.match(usage.stdout, /npm run evaluate -- --model DIR --data PATH/);
  assert.match(runScript("benchmark.ts", ["--help"]).stdout, /--lr-schedule constant \| cosine:MIN\[:WARMUP\] \| step:EVERY:FACTOR/);
});

// ---- member predictions: pooling members of several settings or runs into one ensemble (--predictions, --combine) ----

test("member predictions: written as npy, read back in seed order; wrong shapes or missing files are InputErrors naming the file", async () => {
  const { readMemberPredictions, writeMemberPredictions } = await import("../scripts/estimators");
  const dir = path.join(tmp("members"), "cfg");
  const M = 3;
  const val = (s: number) => Float32Array.from({ length: 2 * M }, (_, i) => s + i / 10);
  const testRows = (s: number) => Float32Array.from({ length: 4 * M }, (_, i) => -s - i / 10);
  for (const s of [10, 2]) writeMemberPredictions(dir, s, val(s), testRows(s), M);
  const read = readMemberPredictions([dir], { val: 2, test: 4 }, M);
  assert.deepEqual(read.map((m) => path.basename(m.source)), ["seed-2", "seed-10"]);
  assert.deepEqual([...read[1].val], [...val(10)]);
  assert.deepEqual([...read[1].test], [...testRows(10)]);
  // only the members of the given seeds; none of them is an error
  assert.deepEqual(readMemberPredictions([dir], { val: 2, test: 4 }, M, [10, 3]).map((m) => path.basename(m.source)), ["seed-10"]);
  assert.throws(() => readMemberPredictions([dir], { val: 2, test: 4 }, M, [3]), (e: unknown) => e instanceof InputError && /no member predictions of seeds 3/.test(e.message));
  assert.throws(() => readMemberPredictions([dir], { val: 2, test: 5 }, M), (e: unknown) => e instanceof InputError && /seed-2\.test\.npy: expected float32 5 × 3 predictions/.test(e.message));
  assert.throws(() => readMemberPredictions([dir], { val: 2, test: 4 }, 4), (e: unknown) => e instanceof InputError && /seed-2\.val\.npy/.test(e.message));
  fs.rmSync(path.join(dir, "seed-10.test.npy"));
  assert.throws(() => readMemberPredictions([dir], { val: 2, test: 4 }, M), (e: unknown) => e instanceof InputError && /seed-10\.test\.npy: missing/.test(e.message));
  assert.throws(() => readMemberPredictions([path.join(dir, "none")], { val: 2, test: 4 }, M), (e: unknown) => e instanceof InputError && /does not exist/.test(e.message));
});

test("CLI: benchmark --predictions writes each member's predictions; --combine pools them into the same ensemble scores", { skip: !haveData && "shared data not found (set XAS_DATA_DIR)", timeout: 300_000 }, () => {
  const split = tinySplit({ train: 40, val: 12, test: 12 });
  const out = path.join(tmp("pred-out"), "report.json");
  const preds = tmp("pred-members");
  const common = ["omnixas", "--root", CU, "--split", split, "--preset", "study"];
  const b = runScript("benchmark.ts", [...common, "--seeds", "1,2", "--hidden", "16", "--epochs", "2", "--patience", "2", "--predictions", preds, "--out", out]);
  assert.equal(b.status, 0, b.stderr);
  assert.deepEqual(fs.readdirSync(path.join(preds, "study")).sort(), ["seed-1.test.npy", "seed-1.val.npy", "seed-2.test.npy", "seed-2.val.npy"]);
  const run = JSON.parse(fs.readFileSync(out, "utf8")).runs[0];
  // the val mean MSE of the ensemble and its ratio to kNN's are reported
  assert.ok(run.mlp.ensemble.valMeanMse > 0 && run.knn.valMeanMse > 0);
  assert.match(b.stdout, new RegExp(`val: mean MSE MLP ensemble .*ratio ${(run.mlp.ensemble.valMeanMse / run.knn.valMeanMse).toFixed(3)}`));
  const cOut = path.join(tmp("combine-out"), "report.json");
  const c = runScript("benchmark.ts", [...common, "--combine", path.join(preds, "study"), "--out", cOut]);
  assert.equal(c.status, 0, c.stderr);
  const pooled = JSON.parse(fs.readFileSync(cOut, "utf8")).runs[0];
  assert.equal(pooled.mlp.members.length, 2);
  assert.equal(pooled.label, "study / combined: study");
  for (const k of ["valEta", "testEta", "valMeanMse", "testMeanMse"]) assert.ok(Math.abs(pooled.mlp.ensemble[k] - run.mlp.ensemble[k]) <= 1e-6 * Math.abs(run.mlp.ensemble[k]), `${k}: pooled ${pooled.mlp.ensemble[k]}, trained ${run.mlp.ensemble[k]}`);
  assert.equal(pooled.knn.valMeanMse, run.knn.valMeanMse);
  // --seeds picks members: seed 2 alone scores as the trained seed-2 member
  const c2 = runScript("benchmark.ts", [...common, "--combine", path.join(preds, "study"), "--seeds", "2", "--out", cOut]);
  assert.equal(c2.status, 0, c2.stderr);
  const one = JSON.parse(fs.readFileSync(cOut, "utf8")).runs[0];
  assert.equal(one.mlp.members.length, 1);
  assert.ok(Math.abs(one.mlp.ensemble.valMeanMse - run.mlp.members[1].valMeanMse) <= 1e-6 * run.mlp.members[1].valMeanMse);
  const bad = runScript("benchmark.ts", [...common, "--combine", path.join(preds, "study"), "--predictions", preds]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr.trim(), /^error: --combine scores saved member predictions: it takes no --grid, --predictions or --save$/);
});

test("benchmark defaults: grouped trains GROUPED_MLP (chosen on its own val lines) for every preset but study; omnixas keeps BENCHMARK_MLP", async () => {
  const { BENCHMARK_MLP, defaultMlp, GROUPED_MLP, STUDY_MLP } = await import("../scripts/estimators");
  const { checkMlpConfig } = await import("../lib/model/mlp");
  for (const preset of ["extended", "custom", "single"]) {
    assert.equal(defaultMlp("grouped", preset), GROUPED_MLP);
    assert.equal(defaultMlp("omnixas", preset), BENCHMARK_MLP);
  }
  assert.equal(defaultMlp("grouped", "study"), STUDY_MLP);
  assert.equal(defaultMlp("omnixas", "study"), STUDY_MLP);
  assert.notDeepEqual(GROUPED_MLP, BENCHMARK_MLP);
  assert.doesNotThrow(() => checkMlpConfig(GROUPED_MLP, "GROUPED_MLP"));
  // the setting docs/benchmark/README.md reports as chosen
  assert.deepEqual(
    { hidden: GROUPED_MLP.hidden, dropout: GROUPED_MLP.dropout, weightDecay: GROUPED_MLP.weightDecay, lrSchedule: GROUPED_MLP.lrSchedule, epochs: GROUPED_MLP.epochs, outputScaling: GROUPED_MLP.outputScaling, outputScaleExponent: GROUPED_MLP.outputScaleExponent },
    { hidden: [512, 512, 256], dropout: 0, weightDecay: 0.3, lrSchedule: { kind: "cosine", minFactor: 0.01 }, epochs: 100, outputScaling: "standard", outputScaleExponent: 0 },
  );
});
