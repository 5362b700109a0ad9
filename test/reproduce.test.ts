// `npm run reproduce` in the quick profile, end to end on the real shared data: dataset build,
// features, final MLP + baselines, ablation, error analysis, O K-edge section, model save,
// prediction for a structure that is not in the dataset, figures and metrics.json.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findChromium } from "../lib/plots/export";

const ROOT = path.resolve(__dirname, "..");
const DATA = process.env.XAS_DATA_DIR ?? path.join(ROOT, "..", "shared", "data");
const haveData = fs.existsSync(path.join(DATA, "feff-cu-k-oxides")) && fs.existsSync(path.join(DATA, "li3feo3.5-o-k"));
const skip = !haveData ? "shared data not found (set XAS_DATA_DIR)" : !findChromium() ? "Chromium not installed (figure export)" : false;

const KEY = "reproduceKeyShape0123456789abcdefXYZ";

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

test("reproduce (quick profile) writes metrics.json, PNG figures, the interactive page and a model", { skip, timeout: 300_000 }, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "xanes-reproduce-"));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "xanes-work-"));
  try {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts", "reproduce.ts")], {
      cwd: ROOT,
      // A key in the environment (padded, as a pasted .env line) must not reach anything the run writes.
      env: { ...process.env, XANES_PROFILE: "quick", XANES_RESULTS_DIR: out, XANES_WORK_DIR: work, MP_API_KEY: `  ${KEY}\n` },
      encoding: "utf8",
      timeout: 290_000,
    });
    assert.equal(r.status, 0, `reproduce failed:\n${r.stdout}\n${r.stderr}`);
    assert.ok(!`${r.stdout}${r.stderr}`.includes(KEY), "the API key is not printed");
    for (const f of filesUnder(out).concat(filesUnder(work))) assert.ok(!fs.readFileSync(f).includes(KEY), `the API key is not in ${f}`);
    const m = JSON.parse(fs.readFileSync(path.join(out, "metrics.json"), "utf8"));
    assert.equal(m.profile, "quick");
    assert.ok(m.data.dataset.counts.spectra > 100, "dataset has spectra");
    assert.equal(m.data.features.nFeatures, m.data.features.blocks.reduce((s: number, b: { length: number }) => s + b.length, 0));
    // Grouped split: sizes add up to the featurised rows.
    const sz = m.split.sizes;
    assert.equal(sz.train + sz.val + sz.test, m.data.features.rows);
    for (const k of ["mlp", "knn", "mean"]) {
      const s = m.final[k].summary;
      assert.ok(Number.isFinite(s.mse.mean) && s.mse.mean > 0, `${k} mse`);
      assert.ok(s.pearson.mean <= 1 && s.pearson.mean > -1, `${k} pearson`);
      assert.equal(m.final[k].n, sz.test);
    }
    // Random-by-spectrum split: same fractions, the three models evaluated on its test part.
    const rs = m.randomSplit;
    assert.equal(rs.sizes.train + rs.sizes.val + rs.sizes.test, m.data.features.rows);
    assert.deepEqual(rs.fractions, m.config.split.fractions);
    for (const k of ["mlp", "knn", "mean"]) {
      assert.equal(rs[k].n, rs.sizes.test);
      assert.ok(Math.abs(rs.groupedOverRandomMse[k] - m.final[k].summary.mse.mean / rs[k].summary.mse.mean) < 1e-12);
    }
    // Random by spectrum puts sites of one material on both sides; grouped never does.
    assert.ok(rs.materialsInTrainAndTest > 0);
    // Patience re-selected on validation only: the pick is a complete candidate, and replaying the
    // configured patience lands on the final run's best epoch (same seed, same trajectory).
    const ps = m.final.patienceSelection;
    assert.ok(ps.candidates.some((c: { patience: number; complete: boolean }) => c.patience === ps.picked && c.complete));
    assert.equal(ps.configuredReplayBestEpoch, ps.finalRunBestEpoch);
    assert.equal(m.final.mlp.inputClip, 5);
    // 2·5 + 1 ablation subsets, each with one run per seed.
    assert.equal(m.ablation.rows.length, 11);
    for (const row of m.ablation.rows) assert.equal(row.runs.length, m.config.ablation.seeds.length);
    assert.ok(m.config.descriptors.map((d: { name: string }) => d.name).includes(m.ablation.mostImportant));
    // Resolved descriptor options and citations, the spectral contract and the per-stage times are recorded.
    assert.equal(m.data.features.descriptors.length, m.config.descriptors.length);
    for (const d of m.data.features.descriptors) assert.ok(d.citation.length > 10 && typeof d.options === "object", d.name);
    assert.deepEqual(m.data.spectral.mesh, { start: 8983, step: 0.5, count: m.data.dataset.counts.points, kind: "absolute", element: "Cu", edge: "K" });
    for (const k of ["dataset", "featurise", "final", "ablation", "figures", "total"]) assert.ok(m.timings[k] >= 0, `timing ${k}`);
    // The mesh starts before every FEFF run: each kept spectrum's first value is held, and counted.
    assert.equal(m.data.dataset.quality.held.start, m.data.dataset.counts.spectra);
    assert.equal(m.data.spectral.normalisation, "edge-step");
    // The band: calibrated on validation, its test coverage reported for every test spectrum.
    assert.equal(m.final.uncertainty.test.n, m.split.sizes.test);
    assert.ok(m.final.uncertainty.test.coverage2 >= m.final.uncertainty.test.coverage1);
    assert.ok(m.errors.byNelements.length >= 1);
    assert.equal(m.oxygen.folds.length, 3);
    // The unseen structure gets one spectrum per Cu site on the mesh.
    assert.equal(m.unseenPrediction.predicted, 1);
    assert.equal(m.unseenPrediction.meshPoints, m.data.dataset.counts.points);
    assert.equal(m.unseenPrediction.formulaInDataset, false);
    assert.equal(m.unseenPrediction.allFinite, true);
    // Saved and reloaded model (input clipping included) predicts what the in-memory one did.
    assert.ok(m.unseenPrediction.reloadedVsInMemoryMaxDiff < 1e-6);
    for (const f of ["ablation-mse.png", "learning-curve.png", "examples-best-median-worst.png", "parity-main-peak.png", "figures.html"]) {
      const p = path.join(out, "figures", f);
      assert.ok(fs.existsSync(p) && fs.statSync(p).size > 1000, `${f} written`);
    }
    const saved = JSON.parse(fs.readFileSync(path.join(out, "model", "xanes-model.json"), "utf8"));
    assert.deepEqual(saved.spectral, m.data.spectral);
    assert.deepEqual(saved.descriptors, m.data.features.descriptors);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
});
