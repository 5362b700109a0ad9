// Energy calibration by the reference foil (lib/spectra/energy-calibration.ts): real xaslib scans, a
// simulated mono error, and every case where the foil must not be used.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { sharedDataDir } from "../lib/config";
import { calibrateToReference, referenceIsFoilOf } from "../lib/spectra/energy-calibration";
import { parseMeasuredTarget, readMeasuredTarget } from "../lib/screening/target";
import { readXdiFile } from "../lib/spectra/xdi";
import { DEFAULT_MATCH, normaliseTarget, prepareMatch } from "../lib/screening/match";
import { feffValidationSet } from "../lib/screening/reference";
import { rankMatches, type MatchCandidate } from "../lib/screening/rank";
import { CU_MEASURED_STANDARDS, VALIDATION_MESH } from "../lib/screening/standards";

const XASLIB = path.join(sharedDataDir(), "xaslib", "data");
const CUO = path.join(XASLIB, "Cu", "CuO_tenorite_13K_01.xdi");
const cuoText = fs.readFileSync(CUO, "latin1");

/** The XDI text with every data row passed through `f` (columns as numbers). */
function mapRows(text: string, f: (v: number[], i: number) => number[]): string {
  let i = 0;
  return text
    .split("\n")
    .map((l) => (l.trim() === "" || l.trimStart().startsWith("#") ? l : f(l.trim().split(/\s+/).map(Number), i++).join(" ")))
    .join("\n");
}
const bytes = (s: string) => Buffer.from(s, "latin1");

test("the Cu foil of the four xaslib Cu scans: E0 as an independent numpy computation finds it, within 0.1 eV of 8979.0 eV", () => {
  // numpy (np.gradient, 3-point boxcar, maximum within 8960–9010 eV) on ln(itrans/irefer):
  const numpyE0: Record<string, number> = { "Cu2S_13K_01.xdi": 8978.94, "CuO_tenorite_13K_01.xdi": 8978.92, "CuS_covellite_13K_01.xdi": 8978.99, "Cu_azurite_13K_01.xdi": 8978.99 };
  for (const [file, e0] of Object.entries(numpyE0)) {
    const s = readMeasuredTarget(path.join(XASLIB, "Cu", file), { element: "Cu", edge: "K" });
    const c = s.referenceCalibration!;
    assert.ok(c.applied, `${file}: ${c.note}`);
    assert.ok(Math.abs(c.referenceE0 - e0) <= 0.1, `${file}: foil E0 ${c.referenceE0}, numpy ${e0}`);
    assert.equal(c.tabulated, 8979.0);
    assert.ok(Math.abs(c.shift) < 0.15, `${file}: shift ${c.shift}`);
    assert.match(s.energyNote, /calibrated to the reference foil/);
    // Every energy moved by the same shift; mu untouched.
    const raw = readXdiFile(path.join(XASLIB, "Cu", file));
    assert.ok(Math.abs(s.energy[10] - raw.energy[10] - c.shift) < 1e-9 && s.mu[10] === raw.mu[10]);
  }
});

test("a scan whose mono is 4 eV off: the foil puts it back, so CuO ranks as calibrated; without it, tens of places lower", () => {
  // Measured (FEFF candidates, offset −4.75 eV): mono error −4/−2/+3/+4 eV gives rank 57/25/15/38
  // uncalibrated and 4 every time calibrated (the same for azurite: 36/14/54/65 against 12).
  const shifted = mapRows(cuoText, ([e, ...rest]) => [e + 4, ...rest]);
  const cal = parseMeasuredTarget(bytes(shifted), "cuo+4.xdi", { element: "Cu", edge: "K" });
  const raw = parseMeasuredTarget(bytes(shifted), "cuo+4.xdi", { element: "Cu", edge: "K", referenceCalibration: false });
  const ref = readMeasuredTarget(CUO, { element: "Cu", edge: "K" });
  assert.equal(raw.referenceCalibration, null);
  assert.ok(Math.abs(cal.referenceCalibration!.shift - (ref.referenceCalibration!.shift - 4)) < 0.1, cal.referenceCalibration!.note);
  const e0 = (s: typeof ref) => normaliseTarget(s.energy, s.mu, s.source).preEdge.e0;
  assert.ok(Math.abs(e0(cal) - e0(ref)) < 0.05, `E0 ${e0(cal)} vs ${e0(ref)}`);
  assert.ok(Math.abs(e0(raw) - e0(ref) - 4) < 0.1);

  const root = path.join(sharedDataDir(), "feff-cu-k-oxides");
  const { spectra } = feffValidationSet(root, VALIDATION_MESH, CU_MEASURED_STANDARDS.flatMap((s) => s.trueIds));
  const cands: MatchCandidate[] = [...spectra].map(([id, sp]) => ({ id, members: [sp] }));
  const trueRow = (s: typeof ref) => {
    const ranked = rankMatches(prepareMatch(normaliseTarget(s.energy, s.mu, s.source), VALIDATION_MESH, { ...DEFAULT_MATCH, offset: -4.75 }), cands);
    return ranked.find((r) => r.id === "mp-704645")!;
  };
  const [rRef, rCal, rRaw] = [trueRow(ref), trueRow(cal), trueRow(raw)];
  assert.equal(rCal.rank, rRef.rank);
  assert.equal(rRaw.shiftAtEdge, true);
  assert.ok(rRaw.rank > rRef.rank + 10, `uncalibrated rank ${rRaw.rank}, calibrated ${rRef.rank}`);
});

test("the foil is not used when the header does not say it is one of the element, when it is unusable or too far off; each says why", () => {
  // Real files: a Mn filter, and a Ni scan whose header says the reference is "none".
  const mn = readMeasuredTarget(path.join(XASLIB, "Mn", "MnO_rt_01.xdi"));
  assert.equal(mn.referenceCalibration!.applied, false);
  assert.match(mn.referenceCalibration!.note, /not stated to be a foil of Mn \("Mn filter"\): energies as written/);
  const ni = readMeasuredTarget(path.join(XASLIB, "Ni", "NiS_rt_01.xdi"));
  assert.match(ni.referenceCalibration!.note, /not stated to be a foil of Ni \("none"\)/);
  // A file without a reference channel.
  const foil = readMeasuredTarget(path.join(XASLIB, "Cu", "cu_metal_rt.xdi"));
  assert.match(foil.referenceCalibration!.note, /^no reference channel/);

  // irefer ≤ 0 on one row: the sample still reads, the foil is refused naming the line.
  const lines = cuoText.split("\n");
  const dataLines = lines.flatMap((l, i) => (l.trim() === "" || l.trimStart().startsWith("#") ? [] : [i + 1]));
  const bad = mapRows(cuoText, (v, i) => (i === 40 ? [v[0], v[1], v[2], -1] : v));
  const b = parseMeasuredTarget(bytes(bad), "bad-ref.xdi", { element: "Cu", edge: "K" });
  assert.equal(b.referenceCalibration!.applied, false);
  assert.match(b.referenceCalibration!.note, new RegExp(`unusable \\(not finite at bad-ref\\.xdi:${dataLines[40]}\\)`));

  // A 15 eV mono error is more than the 10 eV the foil may correct: reported, not applied.
  const far = parseMeasuredTarget(bytes(mapRows(cuoText, ([e, ...r]) => [e + 15, ...r])), "far.xdi", { element: "Cu", edge: "K" });
  assert.equal(far.referenceCalibration!.applied, false);
  assert.match(far.referenceCalibration!.note, /foil E0 8993\.9\d eV, tabulated 8979\.0 eV: shift -14\.9\d eV exceeds ±10 eV, not applied/);

  // A decreasing scan: the reference channel is reversed with the sample.
  const dataStart = lines.findIndex((l) => l.startsWith("#---")) + 2;
  const reversed = [...lines.slice(0, dataStart), ...lines.slice(dataStart).filter((l) => l.trim() !== "").reverse()].join("\n");
  const rev = parseMeasuredTarget(bytes(reversed), "reversed.xdi", { element: "Cu", edge: "K" });
  const fwd = readMeasuredTarget(CUO, { element: "Cu", edge: "K" });
  assert.equal(rev.referenceCalibration!.shift, fwd.referenceCalibration!.shift);
});

test("referenceIsFoilOf: Element.reference decides when present; else the text must name the element and a foil or metal", () => {
  assert.equal(referenceIsFoilOf({ element: "Cu" }, "Cu"), true);
  assert.equal(referenceIsFoilOf({ element: "Ni", description: "Cu foil" }, "Cu"), false);
  assert.equal(referenceIsFoilOf({ description: "Cu metal foil (?)" }, "Cu"), true);
  assert.equal(referenceIsFoilOf({ description: "Cd foil" }, "C"), false);
  assert.equal(referenceIsFoilOf({ description: "CuO pellet" }, "Cu"), false);
  assert.equal(referenceIsFoilOf({ description: "GaAs powder" }, "As"), false);
  assert.equal(referenceIsFoilOf({}, "Cu"), false);
  // Element.reference in an XDI header is read.
  const withRef = cuoText.replace("# Sample.reference: Cu metal foil (?)", "# Element.reference: Cu");
  assert.equal(parseMeasuredTarget(bytes(withRef), "eref.xdi").referenceCalibration!.applied, true);
  // No element in the header: nothing to calibrate against.
  const noEl = cuoText.replace("# Element.symbol: Cu\n", "");
  assert.match(calibrateToReference(parseMeasuredTarget(bytes(noEl), "noel.xdi", { referenceCalibration: false })).calibration.note, /does not name its element/);
});
