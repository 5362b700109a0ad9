/**
 * The fast broadening fit (kernels built once per width, clamped ends summed as tails, no per-fit
 * allocation) against the implementation it replaced (test/helpers/match-reference.ts), on real
 * spectra: the measured CuO and azurite standards against FEFF spectra of real Cu oxides.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import fc from "fast-check";
import { sharedDataDir } from "../lib/config";
import { BroadeningBank, BroadeningKernel, broaden } from "../lib/spectra/broaden";
import { RealFft } from "../lib/util/fft";
import { readXdiFile } from "../lib/spectra/xdi";
import { BROADENINGS, DEFAULT_MATCH, MATCH_SCORES, MatchScorer, broadeningOptions, normaliseTarget, prepareMatch } from "../lib/screening/match";
import { feffMaterialSpectrum, validationCandidates } from "../lib/screening/reference";
import { CU_MEASURED_STANDARDS, VALIDATION_MESH } from "../lib/screening/standards";
import { referenceBroaden, referenceFit } from "./helpers/match-reference";

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-300, Math.abs(a), Math.abs(b));

test("broadening: the kernel with summed tails equals the clamped convolution it replaced, for any width and length", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 120 }),
      fc.double({ min: 0, max: 30, noNaN: true }),
      fc.constantFrom("gaussian" as const, "lorentzian" as const),
      fc.constantFrom(0.1, 0.5, 1),
      (ys, width, kind, step) => {
        const y = Float64Array.from(ys);
        const a = broaden(y, step, width, kind, new Float64Array(y.length));
        const b = referenceBroaden(y, step, width, kind, new Float64Array(y.length));
        for (let i = 0; i < y.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-12 * (1 + Math.abs(b[i])), `${kind} ${width} at ${i}: ${a[i]} vs ${b[i]}`);
      },
    ),
    { numRuns: 300, seed: 7 },
  );
  // A sub-range writes only that range.
  const k = new BroadeningKernel(0.5, 2, "lorentzian");
  const out = new Float64Array(50).fill(-1);
  k.apply(Float64Array.from({ length: 50 }, (_, i) => i), out, 10, 20);
  assert.ok(out[9] === -1 && out[20] === -1 && out[10] !== -1);
});

test("real FFT equals the DFT sum and inverts; a bank through the FFT equals the direct kernels", () => {
  for (const n of [4, 8, 64, 512]) {
    const x = Float64Array.from({ length: n }, (_, i) => Math.sin(0.37 * i) + ((i * 7) % 5) - 2);
    const f = new RealFft(n);
    const re = new Float64Array(n / 2 + 1);
    const im = new Float64Array(n / 2 + 1);
    f.forward(x, re, im);
    for (let k = 0; k <= n / 2; k++) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < n; j++) {
        sr += x[j] * Math.cos((2 * Math.PI * j * k) / n);
        si -= x[j] * Math.sin((2 * Math.PI * j * k) / n);
      }
      assert.ok(Math.abs(sr - re[k]) < 1e-9 && Math.abs(si - im[k]) < 1e-9, `n ${n} k ${k}`);
    }
    const back = new Float64Array(n);
    f.inverse(re, im, back);
    for (let j = 0; j < n; j++) assert.ok(Math.abs(back[j] - x[j]) < 1e-12);
  }
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 2, maxLength: 300 }),
      fc.array(fc.double({ min: 0, max: 40, noNaN: true }), { minLength: 1, maxLength: 4 }),
      fc.constantFrom("gaussian" as const, "lorentzian" as const),
      (ys, widths, kind) => {
        const y = Float64Array.from(ys);
        const bank = new BroadeningBank(y.length, 0.5, widths, kind, 0); // every kernel through the FFT
        bank.load(y);
        widths.forEach((wd, k) => {
          const a = bank.apply(k, new Float64Array(y.length));
          const b = referenceBroaden(y, 0.5, wd, kind, new Float64Array(y.length));
          for (let i = 0; i < y.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-12 * 6, `${kind} ${wd} at ${i}: ${a[i]} vs ${b[i]}`);
        });
      },
    ),
    { numRuns: 200, seed: 11 },
  );
});

test("fast fit = reference fit on real spectra: same shift, σ, γ and flags, scores to 1e-9 relative, every score and broadening kind", () => {
  const root = path.join(sharedDataDir(), "feff-cu-k-oxides");
  const mesh = VALIDATION_MESH;
  const set = validationCandidates(root, CU_MEASURED_STANDARDS.flatMap((s) => s.trueIds), 100, 10);
  const refs: Float64Array[] = [];
  for (const id of set.ids.slice(0, 40)) {
    const r = feffMaterialSpectrum(path.join(root, id), mesh);
    if (typeof r !== "string") refs.push(r.spectrum);
  }
  assert.ok(refs.length >= 30);
  // As a model gives them: float32 rows of one matrix.
  const m = mesh.points;
  const f32 = new Float32Array(refs.length * m);
  refs.forEach((r, i) => f32.set(r, i * m));
  let fits = 0;
  let worst = 0;
  for (const s of CU_MEASURED_STANDARDS) {
    const x = readXdiFile(path.join(sharedDataDir(), "xaslib", "data", s.file));
    const t = normaliseTarget(x.energy, x.mu, x.source);
    for (const score of MATCH_SCORES) {
      for (const b of BROADENINGS) {
        const prep = prepareMatch(t, mesh, { ...DEFAULT_MATCH, score, ...broadeningOptions(b), offset: -5.1 });
        const scorer = new MatchScorer(prep);
        const rows = b === "lorentzian" && score === "l2" ? refs.length : 8; // the default everywhere, a sample of the rest
        for (let i = 0; i < rows; i++) {
          for (const [spectra, row] of [[refs[i], 0], [f32, i]] as const) {
            const a = scorer.fit(spectra, row);
            const r = referenceFit(prep, spectra, row);
            const what = `${s.name} ${score} ${b} row ${i}`;
            assert.equal(a.shift, r.shift, what);
            assert.equal(a.sigma, r.sigma, what);
            assert.equal(a.gamma, r.gamma, what);
            assert.equal(a.shiftAtEdge, r.shiftAtEdge, what);
            assert.equal(a.broadeningAtEdge, r.broadeningAtEdge, what);
            worst = Math.max(worst, rel(a.score, r.score));
            fits++;
          }
        }
      }
    }
  }
  console.log(`${fits} fits compared; largest relative score difference ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-9, `relative score difference ${worst}`);
});
