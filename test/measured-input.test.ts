// Bad measured input (issue 10): each case is a clear InputError naming the file (and line or point),
// never a ranking computed from the wrong numbers. Library level (readMeasuredTarget → normaliseTarget
// → prepareMatch), the path `npm run screen` takes; the CLI itself is exercised in screening.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sharedDataDir } from "../lib/config";
import { InputError } from "../lib/util/errors";
import { readMeasuredTarget } from "../lib/screening/target";
import { DEFAULT_MATCH, normaliseTarget, prepareMatch } from "../lib/screening/match";
import { rankMatches } from "../lib/screening/rank";
import { feffMaterialSpectrum } from "../lib/screening/reference";
import { VALIDATION_MESH } from "../lib/screening/standards";

const XASLIB = path.join(sharedDataDir(), "xaslib", "data");
const CUO = path.join(XASLIB, "Cu", "CuO_tenorite_13K_01.xdi");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "measured-input-"));
process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));

/** Energy and ln(i0/itrans) of the real CuO file, as plain rows. */
const cuo = readMeasuredTarget(CUO);
const rows = Array.from(cuo.energy, (e, i) => [e, cuo.mu[i]]);
const write = (name: string, text: string | Buffer) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
const twoCol = (r: number[][]) => "# energy mu\n" + r.map(([e, m]) => `${e} ${m}`).join("\n") + "\n";
/** The full path a screen run takes up to the ranking. */
const pipeline = (file: string, opts = {}) => {
  const s = readMeasuredTarget(file, { element: "Cu", edge: "K", ...opts });
  const t = normaliseTarget(s.energy, s.mu, s.source, {}, DEFAULT_MATCH.window);
  return prepareMatch(t, VALIDATION_MESH, { ...DEFAULT_MATCH, offset: -5 });
};
const fails = (file: string, re: RegExp, opts = {}) =>
  assert.throws(() => pipeline(file, opts), (e: Error) => e instanceof InputError && re.test(e.message) && e.message.includes(path.basename(file)), `${file}: expected ${re}`);

test("a raw XDI file reads by rule, and an Athena project by record; the plain-column equivalent gives the same prepared target", () => {
  const a = pipeline(CUO);
  const b = pipeline(write("cuo.dat", twoCol(rows)));
  for (let i = 0; i < a.rows.length; i += 37) assert.ok(Math.abs(a.rows[i] - b.rows[i]) < 1e-9);
});

test("not a spectrum: a structure file, a binary file, an empty file", () => {
  fails(path.join(sharedDataDir(), "feff-cu-k-oxides", "mp-704645", "POSCAR"), /POSCAR:2: expected two columns \(energy, intensity\), found one/);
  fails(write("bin.dat", Buffer.from([0, 1, 2, 3, 0, 0, 9])), /binary file, not a spectrum/);
  fails(write("empty.dat", "# nothing\n"), /no data rows/);
});

test("another element or edge than the model's (XDI header), or energies elsewhere (plain file)", () => {
  fails(path.join(XASLIB, "Fe", fs.readdirSync(path.join(XASLIB, "Fe")).filter((f) => f.endsWith(".xdi"))[0]), /spectrum of Fe K, but the model predicts Cu K/);
  const fe = rows.map(([e, m]) => [e - 1870, m]); // a Fe K-like energy range without a header
  fails(write("fe.dat", twoCol(fe)), /fe\.dat: energies 6890\.\d+–.* eV miss the XANES window 8970\.0–9120\.0 eV of the model's edge/);
});

test("energies not covering the mesh, non-monotonic, duplicated, too few points, NaN, 0x2318", () => {
  fails(write("short.dat", twoCol(rows.filter(([e]) => e < 9040))), /short\.dat: energies .* do not cover the comparison window/);
  const swapped = rows.map((r) => [...r]);
  [swapped[100], swapped[101]] = [swapped[101], swapped[100]];
  fails(write("order.dat", twoCol(swapped)), /order\.dat:\d+: energies are not monotonic/);
  const dup = rows.map((r) => [...r]);
  dup[120][0] = dup[119][0];
  fails(write("dup.dat", twoCol(dup)), /dup\.dat:122: repeated energy/);
  fails(write("four.dat", twoCol(rows.slice(200, 204))), /four\.dat: only 4 data rows/);
  const nan = rows.map((r) => [...r]);
  nan[150][1] = NaN;
  fails(write("nan.dat", twoCol(nan)), /nan\.dat:152: NaN in column 2/);
  const hex = twoCol(rows).split("\n");
  hex[130] = "0x2318 " + hex[130].split(" ")[1];
  fails(write("hex.dat", hex.join("\n")), /hex\.dat:131: non-numeric value "0x2318" in column 1/);
});

test("constant spectrum, flat or negative edge step, a 10^6 spike, a 5-point spectrum over the whole window", () => {
  fails(write("const.dat", twoCol(rows.map(([e]) => [e, 0.7]))), /const\.dat: constant spectrum/);
  fails(write("neg.dat", twoCol(rows.map(([e, m]) => [e, -m]))), /neg\.dat: negative edge step/);
  // Flat: a smooth slope without an edge.
  fails(write("flat.dat", twoCol(rows.map(([e]) => [e, 1e-3 * (e - 8700)]))), /flat\.dat: (flat|negative) edge step/);
  const spike = rows.map((r) => [...r]);
  spike[140][1] = 1e6;
  fails(write("spike.dat", twoCol(spike)), /spike\.dat: point 141 .*isolated spike/);
  const five = [8950, 8990, 9030, 9070, 9110].map((e) => rows.reduce((b, r) => (Math.abs(r[0] - e) < Math.abs(b[0] - e) ? r : b)));
  fails(write("five.dat", twoCol(five)), /five\.dat: only 4 points within 8970\.0–9120\.0 eV, the XANES window to compare; at least 30 are needed/);
  // Ten points, still far too sparse to match features.
  const ten = rows.filter((_, i) => i % Math.floor(rows.length / 10) === 0).slice(0, 10);
  fails(write("ten.dat", twoCol(ten)), /ten\.dat: only \d points within/);
});

test("a plain file with more than two numeric columns and no --column is refused, listing the columns", () => {
  const three = "# energy i0 itrans\n" + Array.from(cuo.energy, (e, i) => `${e} 100 ${100 * Math.exp(-cuo.mu[i])}`).join("\n");
  fails(write("three.dat", three), /three\.dat:2: 3 numeric columns \(1: "\d+\.?\d*", 2: "100", 3: .*\); say which one is the spectrum/);
  const named = "energy i0 itrans\n" + Array.from(cuo.energy, (e, i) => `${e} 100 ${100 * Math.exp(-cuo.mu[i])}`).join("\n");
  fails(write("named.dat", named), /named\.dat:2: 3 numeric columns \(1: energy, 2: i0, 3: itrans\)/);
  // With a choice it reads (column 3 is itrans: absorption falls through the edge, so the step is negative).
  fails(write("itrans.dat", three), /itrans\.dat: negative edge step/, { column: 3 });
});

test("an intensity offset (every cosine negative before) changes nothing: the edge-step normalisation removes it", () => {
  const ref = pipeline(write("plain.dat", twoCol(rows)));
  const shifted = pipeline(write("offset.dat", twoCol(rows.map(([e, m]) => [e, m - 50]))));
  for (let i = 0; i < ref.rows.length; i += 11) assert.ok(Math.abs(ref.rows[i] - shifted.rows[i]) < 1e-6);
  const c = feffMaterialSpectrum(path.join(sharedDataDir(), "feff-cu-k-oxides", "mp-704645"), VALIDATION_MESH);
  assert.ok(typeof c !== "string");
  const [a] = rankMatches(ref, [{ id: "CuO", members: [c.spectrum] }]);
  const [b] = rankMatches(shifted, [{ id: "CuO", members: [c.spectrum] }]);
  assert.ok(Math.abs(a.score - b.score) < 1e-6 && a.shift === b.shift);
});

test("Athena project: several records need --record; a chi or missing record is named", () => {
  const eu = path.join(sharedDataDir(), "athena-projects", "Eu_standards_athena.prj");
  assert.throws(() => readMeasuredTarget(eu), (e: Error) => e instanceof InputError && /Eu_standards_athena\.prj: Athena project with 10 records; choose one with --record/.test(e.message));
  assert.throws(() => readMeasuredTarget(eu, { record: "nope" }), (e: Error) => e instanceof InputError && /no record labelled "nope"/.test(e.message));
  const s = readMeasuredTarget(eu, { record: "6,7,8,9" });
  assert.match(s.source, /average of "EuO_eu_l3\.001"/);
  assert.throws(() => readMeasuredTarget(eu, { element: "Cu", edge: "K", record: "0" }), (e: Error) => e instanceof InputError && /spectrum of Eu L3, but the model predicts Cu K/.test(e.message));
  const cu = readMeasuredTarget(path.join(sharedDataDir(), "athena-projects", "Copper.prj"), { element: "Cu", edge: "K" });
  assert.equal(cu.energy.length, 612);
});
