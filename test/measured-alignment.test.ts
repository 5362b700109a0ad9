/**
 * The FEFF-vs-experiment offset in the model's spectral contract (`alignment`): calibrated for a saved
 * model on the measured standards (leave-one-out recorded), written into every member, validated on
 * load, and read by the screening (the target's own standard never calibrates its ranking). An
 * `energy-calibration.json` beside an older model is still read.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sharedDataDir } from "../lib/config";
import { InputError } from "../lib/util/errors";
import { initBackend } from "../lib/model/backend";
import { MlpRegressor } from "../lib/model/estimator";
import { mlpConfig } from "../lib/model/mlp";
import { Featurizer } from "../lib/descriptors/featurizer";
import { XanesPredictor } from "../lib/model/predictor";
import { loadEnsemble } from "../lib/model/ensemble";
import { readModelFile, writeModelAlignment } from "../lib/model/io";
import { checkSpectralContract, spectralContract, type SpectralAlignment } from "../lib/model/spectral";
import { readXdiFile } from "../lib/spectra/xdi";
import { readMeasuredTarget } from "../lib/screening/target";
import { readStructureFile } from "../lib/structure/read";
import { equivalentSites } from "../lib/geometry/equivalence";
import { DEFAULT_MATCH, leaveOneOutOffsets, normaliseTarget, parseEnergyCalibration } from "../lib/screening/match";
import { feffMaterialSpectrum } from "../lib/screening/reference";
import { CU_MEASURED_STANDARDS, VALIDATION_MESH, calibrateModelAlignment, energyCalibrationFor } from "../lib/screening/standards";

const DATA = sharedDataDir();
const ROOT = path.join(DATA, "feff-cu-k-oxides");
let dir = "";

/** A two-member ensemble on VALIDATION_MESH, edge-step, one composition descriptor, fitted for one epoch to random spectra. */
before(async () => {
  await initBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "alignment-"));
  const featurizer = new Featurizer({ descriptors: [{ name: "composition" }], absorber: "Cu" });
  const rows: Float32Array[] = [];
  for (const id of ["mp-704645", "mp-23733"]) {
    const s = readStructureFile(path.join(ROOT, id, "POSCAR"));
    for (const g of equivalentSites(s, "Cu").groups) rows.push(featurizer.featurizeSite(s, g[0]));
  }
  const d = featurizer.length;
  const m = VALIDATION_MESH.points;
  const X = { data: new Float32Array(rows.length * d), rows: rows.length, cols: d };
  rows.forEach((r, i) => X.data.set(r, i * d));
  const Y = { data: Float32Array.from({ length: rows.length * m }, (_, i) => (i % m) / m), rows: rows.length, cols: m };
  for (const seed of [1, 2]) {
    const reg = await new MlpRegressor(mlpConfig({ hidden: [8], epochs: 1, seed, batchSize: 8 })).fit(X, Y, { train: rows.map((_, i) => i) });
    const p = new XanesPredictor(reg.fitted(), featurizer, spectralContract(VALIDATION_MESH, "Cu", "K", "edge-step"));
    await p.save(path.join(dir, `member-${seed - 1}`));
    p.dispose();
  }
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const standard = (i: number) => {
  const x = readMeasuredTarget(path.join(DATA, "xaslib", "data", CU_MEASURED_STANDARDS[i].file), { element: "Cu", edge: "K" });
  return normaliseTarget(x.energy, x.mu, x.source);
};

test("calibrateModelAlignment stores the offset and the leave-one-out offsets in every member's spectral contract", async () => {
  const res = await calibrateModelAlignment(dir);
  assert.equal(res.files.length, 2);
  const a = res.alignment;
  assert.equal(a.element, "Cu");
  assert.deepEqual(a.standards.map((s) => s.name), ["CuO tenorite", "azurite"]);
  // Same numbers as the leave-one-out calibration against the FEFF spectra done by hand.
  const refs = CU_MEASURED_STANDARDS.map((s, i) => {
    const r = feffMaterialSpectrum(path.join(ROOT, s.trueIds[0]), VALIDATION_MESH);
    assert.ok(typeof r !== "string");
    return { name: s.name, target: standard(i), reference: r.spectrum };
  });
  const loo = leaveOneOutOffsets(refs, VALIDATION_MESH, "Cu", "K", DEFAULT_MATCH);
  assert.deepEqual(a.leaveOneOut, [{ name: "CuO tenorite", offset: loo[0].offset }, { name: "azurite", offset: loo[1].offset }]);
  assert.ok(Math.abs(a.offset - (a.standards[0].shift + a.standards[1].shift) / 2) < 1e-12);
  assert.ok(a.offset < -3 && a.offset > -8 && a.spread !== null && a.spread < 1.5, res.report);
  assert.match(res.report, /leave-one-out: with CuO tenorite as the target, the offset from the others is -?\d+\.\d\d eV/);
  // Every member loads with it (the integrity hash was renewed), and nothing else changed.
  const members = await loadEnsemble(dir);
  for (const p of members) assert.deepEqual(p.spectral.alignment, JSON.parse(JSON.stringify(a)) as SpectralAlignment);
  members.forEach((p) => p.dispose());

  // The screening reads it: a target that is a standard gets that standard's leave-one-out offset.
  const cuo = energyCalibrationFor(standard(0), VALIDATION_MESH, "Cu", "K", DEFAULT_MATCH, { alignment: a, dir });
  assert.equal(cuo.offset, loo[0].offset);
  assert.deepEqual(cuo.standards.map((s) => s.name), ["azurite"]);
  assert.match(cuo.note, /leave-one-out, from the model's spectral contract: the target is the standard "CuO tenorite"/);
  // Read without the foil calibration (--energy-as-written) it is still recognised as the standard.
  const raw = readXdiFile(path.join(DATA, "xaslib", "data", CU_MEASURED_STANDARDS[0].file));
  const cuoRaw = energyCalibrationFor(normaliseTarget(raw.energy, raw.mu, raw.source), VALIDATION_MESH, "Cu", "K", DEFAULT_MATCH, { alignment: a, dir });
  assert.equal(cuoRaw.offset, loo[0].offset);
  // Another measurement (not a standard) gets the stored offset itself.
  const other = readXdiFile(path.join(DATA, "xaslib", "data", "Cu", "CuS_covellite_13K_01.xdi"));
  const cus = energyCalibrationFor(normaliseTarget(other.energy, other.mu, other.source), VALIDATION_MESH, "Cu", "K", DEFAULT_MATCH, { alignment: a, dir });
  assert.equal(cus.offset, a.offset);
  assert.match(cus.note, /stored in the model's spectral contract/);

  // Removing it again; without alignment an older energy-calibration.json beside the model is read, and said so.
  writeModelAlignment(dir, null);
  assert.equal(readModelFile(path.join(dir, "member-0")).spectral!.alignment, null);
  fs.writeFileSync(path.join(dir, "energy-calibration.json"), JSON.stringify({ ...a, offset: -6.25, leaveOneOut: undefined }));
  const legacy = energyCalibrationFor(normaliseTarget(other.energy, other.mu, other.source), VALIDATION_MESH, "Cu", "K", DEFAULT_MATCH, { alignment: null, dir });
  assert.equal(legacy.offset, -6.25);
  assert.match(legacy.note, /energy-calibration\.json, the file older models kept beside them/);
  fs.rmSync(path.join(dir, "energy-calibration.json"));
});

test("a bad alignment is refused naming file and field; an edited file is never re-hashed", () => {
  const w = { file: "m/xanes-model.json", field: "spectral" };
  const base = spectralContract(VALIDATION_MESH, "Cu", "K", "edge-step");
  const good: SpectralAlignment = { element: "Cu", edge: "K", offset: -5.1, spread: null, standards: [{ name: "a", shift: -5.1, sigma: 0, gamma: 1, score: -0.03 }], method: "test" };
  assert.deepEqual(checkSpectralContract({ ...base, alignment: good }, w).alignment, good);
  const bad = (alignment: unknown, re: RegExp) => assert.throws(() => checkSpectralContract({ ...base, alignment }, w), (e: Error) => e instanceof InputError && re.test(e.message), JSON.stringify(alignment));
  bad({ ...good, offset: "−5" }, /^m\/xanes-model\.json: spectral\.alignment\.offset must be a finite number/);
  bad({ ...good, standards: [] }, /spectral\.alignment\.standards must be an array of at least 1 entry/);
  bad({ ...good, standards: [{ ...good.standards[0], shift: null }] }, /spectral\.alignment\.standards\[0\]\.shift must be a finite number/);
  bad({ ...good, spread: -1 }, /spectral\.alignment\.spread must be ≥ 0/);
  bad({ ...good, element: "Fe" }, /spectral\.alignment is for Fe K, the model predicts Cu K/);
  bad({ ...good, leaveOneOut: [{ name: "a", offset: NaN }] }, /spectral\.alignment\.leaveOneOut\[0\]\.offset must be a finite number/);
  assert.throws(() => parseEnergyCalibration(JSON.stringify({ ...good, offset: null }), "old/energy-calibration.json"), /^Error: old\/energy-calibration\.json: offset must be a finite number|old\/energy-calibration\.json: offset must be a finite number/);
  // An edited file: the hash check fails on load and writeModelAlignment refuses it.
  const f = path.join(dir, "member-1", "xanes-model.json");
  const text = fs.readFileSync(f, "utf8");
  fs.writeFileSync(f, text.replace('"normalisation": "edge-step"', '"normalisation": "max"'));
  try {
    assert.throws(() => writeModelAlignment(dir, good), /member-1\/xanes-model\.json: integrity does not match/);
  } finally {
    fs.writeFileSync(f, text);
  }
});
