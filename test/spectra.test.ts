import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { sharedDataDir } from "../lib/config";
import { InputError } from "../lib/util/errors";
import { parseXmuDat, parseSpectrumColumns } from "../lib/spectra/xmu";
import {
  DEFAULT_MESHES,
  checkSpectrumAxis,
  estimateEdgeEnergy,
  meshCovered,
  meshEnergies,
  meshFromWindow,
  normaliseInPlace,
  resampleLinear,
  Normalisation,
} from "../lib/spectra/mesh";
import { createRng } from "../lib/util/random";

const CU = path.join(sharedDataDir(), "feff-cu-k-oxides");
const XMU = path.join(CU, "mp-1005792", "008_Cu", "xmu.dat");
const LI = path.join(sharedDataDir(), "li3feo3.5-o-k", "0K_Combo_O_all.dat");

test("parseXmuDat rejects a row with a missing column (it would shift mu) naming file and line", () => {
  const lines = fs.readFileSync(XMU, "utf8").split("\n");
  const i = lines.findIndex((l) => l.trim() && !l.startsWith("#")) + 3;
  lines[i] = lines[i].trim().split(/\s+/).slice(0, 5).join("  ");
  assert.throws(() => parseXmuDat(lines.join("\n"), "cut.dat"), (e: Error) => e instanceof InputError && e.message.startsWith(`cut.dat:${i + 1}: expected 6 columns`));
});

test("parseXmuDat reads the 173 rows of a real FEFF xmu.dat", () => {
  const x = parseXmuDat(fs.readFileSync(XMU, "utf8"), XMU);
  assert.equal(x.omega.length, 173);
  assert.equal(x.omega[0], 8984.506);
  assert.equal(x.e[0], -11.906);
  assert.equal(x.mu[0], 4.58134e-2);
  assert.ok(Math.abs(x.edgeEnergy - (8984.506 + 11.906)) < 1e-9);
  assert.equal(checkSpectrumAxis(x.omega, x.mu), null);
  // Non-uniform in energy (uniform in k): the steps grow with energy.
  assert.ok(x.omega[172] - x.omega[171] > 3 * (x.omega[1] - x.omega[0]));
});

test("parseSpectrumColumns reads the Li3FeO3.5 table: 1,200 rows × 49 O sites", () => {
  const t = parseSpectrumColumns(fs.readFileSync(LI, "utf8"), LI);
  assert.equal(t.energy.length, 1200);
  assert.equal(t.columns.length, 49);
  assert.ok(Math.abs(t.energy[0] + 40.726296) < 1e-9);
  assert.equal(t.columns[0][0], 4.25622e-8);
  assert.equal(checkSpectrumAxis(t.energy, t.columns[48]), null);
});

test("meshFromWindow / meshEnergies: endpoints included, equal spacing", () => {
  const m = meshFromWindow(8990, 9120, 0.5, false);
  assert.equal(m.points, 261);
  const e = meshEnergies(m);
  assert.equal(e[0], 8990);
  assert.equal(e[260], 9120);
  assert.equal(DEFAULT_MESHES["O-K"].points, 101);
  assert.throws(() => meshFromWindow(5, 1, 0.1, false), RangeError);
});

test("resampleLinear is exact for a linear function on a non-uniform grid and never extrapolates", () => {
  const rng = createRng(3);
  const x = new Float64Array(50);
  let v = 0;
  for (let i = 0; i < 50; i++) x[i] = v += 0.1 + rng();
  const y = x.map((t) => 2 * t - 1);
  const mesh = meshFromWindow(x[0], x[49], (x[49] - x[0]) / 99, false);
  const out = new Float64Array(mesh.points);
  assert.equal(resampleLinear(x, y, mesh, out), true);
  const e = meshEnergies(mesh);
  for (let i = 0; i < mesh.points; i++) assert.ok(Math.abs(out[i] - (2 * e[i] - 1)) < 1e-9, `point ${i}`);
  // A window one step past the end is not covered and is refused…
  const wide = meshFromWindow(x[0], x[49] + 1, 0.5, false);
  assert.equal(meshCovered(x, wide), false);
  assert.equal(resampleLinear(x, y, wide, new Float64Array(wide.points)), false);
  // …unless clamping is asked for: the end value is held.
  const held = new Float64Array(wide.points);
  assert.equal(resampleLinear(x, y, wide, held, 0, true), true);
  assert.equal(held[wide.points - 1], y[49]);
  // Shift (edge alignment) moves the spectrum: x − 10 onto a relative window.
  const rel = meshFromWindow(x[0] - 10, x[49] - 10, 0.25, true);
  const shifted = new Float64Array(rel.points);
  assert.equal(resampleLinear(x, y, rel, shifted, 10), true);
  assert.ok(Math.abs(shifted[0] - y[0]) < 1e-12);
});

test("checkSpectrumAxis flags NaN, non-monotonic and short axes", () => {
  const e = Float64Array.from({ length: 20 }, (_, i) => i);
  const mu = new Float64Array(20).fill(1);
  assert.equal(checkSpectrumAxis(e, mu), null);
  const nan = mu.slice();
  nan[3] = NaN;
  assert.equal(checkSpectrumAxis(e, nan), "nan");
  const back = e.slice();
  back[10] = 5;
  assert.equal(checkSpectrumAxis(back, mu), "non-monotonic");
  const flat = e.slice();
  flat[10] = flat[9];
  assert.equal(checkSpectrumAxis(flat, mu), "non-monotonic");
  assert.equal(checkSpectrumAxis(e.subarray(0, 5), mu.subarray(0, 5)), "too-short");
});

test("normaliseInPlace: max = 1, unit trapezoid area, edge step 0 → 1; refuses a zero spectrum", () => {
  const step = 0.5;
  const y = Float64Array.from({ length: 200 }, (_, i) => 0.1 + 2 / (1 + Math.exp(-(i - 60) / 4)));
  const a = y.slice();
  assert.ok(normaliseInPlace(a, "max"));
  assert.ok(Math.abs(Math.max(...a) - 1) < 1e-12);
  const b = y.slice();
  assert.ok(normaliseInPlace(b, "area", step));
  let area = 0;
  for (let i = 1; i < b.length; i++) area += 0.5 * (b[i] + b[i - 1]) * step;
  assert.ok(Math.abs(area - 1) < 1e-12);
  // Edge step (larch pre_edge with a zero pre-edge, as for FEFF): a computed edge of height 2 → 0 … 1.
  const c = Float64Array.from({ length: 200 }, (_, i) => 2 / (1 + Math.exp(-(i - 60) / 4)));
  assert.ok(normaliseInPlace(c, "edge-step", step, 8983));
  assert.ok(Math.abs(c[0]) < 0.01 && Math.abs(c[199] - 1) < 0.01, `${c[0]} ${c[199]}`);
  assert.equal(normaliseInPlace(y.map((v) => -v), "edge-step", step), false); // falling edge
  assert.equal(normaliseInPlace(new Float64Array(10), "max"), false);
  assert.equal(normaliseInPlace(new Float32Array(10), "area"), false);
  // A typo is an error, not silently the edge-step branch.
  assert.throws(() => normaliseInPlace(y.slice(), "maxx" as Normalisation), (e: unknown) => e instanceof RangeError && /unknown normalisation "maxx"/.test(e.message));
});

test("estimateEdgeEnergy finds the steepest rise of a sigmoid edge", () => {
  const e = Float64Array.from({ length: 400 }, (_, i) => 520 + i * 0.125);
  const mu = e.map((x) => 1 / (1 + Math.exp(-(x - 537.3) / 0.8)));
  assert.ok(Math.abs(estimateEdgeEnergy(e, mu) - 537.3) < 0.13);
});

/** Truncated and corrupted copies of a real file: each must parse or throw an InputError naming the file. */
function fuzz(text: string, parse: (t: string, src: string) => unknown, check: (r: any) => void, seed: number, rounds = 150): void {
  const rng = createRng(seed);
  const junk = ["", "x", "NaN", "-", "1e999", "#", " ", "\n", "\t", "é", "1.2.3", "\u0000", "}"];
  for (let r = 0; r < rounds; r++) {
    let t: string;
    const kind = r % 3;
    if (kind === 0) t = text.slice(0, Math.floor(rng() * text.length));
    else if (kind === 1) {
      const chars = text.split("");
      for (let k = 0; k < 1 + Math.floor(rng() * 5); k++) chars[Math.floor(rng() * chars.length)] = junk[Math.floor(rng() * junk.length)];
      t = chars.join("");
    } else {
      const lines = text.split("\n");
      const i = Math.floor(rng() * lines.length);
      if (rng() < 0.5) lines.splice(i, 1);
      else lines[i] = lines[i].split(/\s+/).slice(0, 2).join(" ");
      t = lines.join("\n");
    }
    const src = `fuzz-${seed}-${r}.txt`;
    let result: unknown;
    try {
      result = parse(t, src);
    } catch (err) {
      assert.ok(err instanceof InputError, `round ${r}: ${String(err)} is not an InputError`);
      const msg = (err as Error).message;
      assert.ok(msg.startsWith(`${src}:`), `round ${r}: message does not name the file: ${msg}`);
      // Errors about a row name its line; only whole-file problems (no data rows) may omit it.
      assert.ok(new RegExp(`^${src.replace(/[.]/g, "\\.")}:\\d+: `).test(msg) || /no data rows/.test(msg), `round ${r}: no line in: ${msg}`);
      continue;
    }
    check(result);
  }
}

test("fuzz: xmu.dat copies parse to finite arrays or fail with file:line", () => {
  fuzz(fs.readFileSync(XMU, "utf8"), parseXmuDat, (x) => {
    for (const a of [x.omega, x.e, x.mu]) for (const v of a) assert.ok(Number.isFinite(v));
    assert.ok(Number.isFinite(x.edgeEnergy));
  }, 11);
});

test("fuzz: Li3FeO3.5 column copies parse to a rectangular finite table or fail naming the file", () => {
  const text = fs.readFileSync(LI, "utf8").split("\n").slice(0, 60).join("\n");
  fuzz(text, parseSpectrumColumns, (t) => {
    for (const c of t.columns) {
      assert.equal(c.length, t.energy.length);
      for (const v of c) assert.ok(Number.isFinite(v));
    }
  }, 12);
});
