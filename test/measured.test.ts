import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { sharedDataDir } from "../lib/config";
import { InputError } from "../lib/util/errors";
import { meshEnergies, meshFromWindow } from "../lib/spectra/mesh";
import { gaussianBroaden, lorentzianBroaden } from "../lib/spectra/broaden";
import {
  DEFAULT_MATCH,
  MatchScorer,
  NormalisedTarget,
  calibrateOffset,
  leaveOneOutOffsets,
  prepareMatch,
} from "../lib/screening/match";
import { feffValidationSet } from "../lib/screening/reference";
import { MatchCandidate, rankMatches } from "../lib/screening/rank";
import { CU_MEASURED_STANDARDS, VALIDATION_MESH, readMeasuredStandards } from "../lib/screening/standards";

test("broadening keeps a constant and the edge step, and widens a peak as σ or γ says", () => {
  const step = 0.25;
  const n = 801;
  const y = Float64Array.from({ length: n }, (_, i) => Math.exp(-0.5 * ((i - 400) * step) ** 2)); // σ = 1 eV peak
  const g = gaussianBroaden(y, step, Math.sqrt(3)); // σ² adds: 1 + 3 = 4 → σ = 2 eV, peak height halves
  assert.ok(Math.abs(g[400] - 0.5) < 1e-3, `gaussian peak ${g[400]}`);
  const c = gaussianBroaden(new Float64Array(50).fill(3), step, 2);
  for (const v of c) assert.ok(Math.abs(v - 3) < 1e-12);
  const edge = Float64Array.from({ length: n }, (_, i) => (i < 400 ? 0 : 1));
  const l = lorentzianBroaden(edge, step, 1.5);
  assert.ok(Math.abs(l[0]) < 1e-9 && Math.abs(l[n - 1] - 1) < 1e-9 && Math.abs(l[400] - 0.5) < 0.05);
});

/** A synthetic normalised "measurement": edge + white line at `e0`, sampled on its own grid. */
function synthetic(e0: number, wl = 0.6, width = 2): NormalisedTarget {
  const energy = Float64Array.from({ length: 1200 }, (_, i) => 8900 + i * 0.3);
  const norm = energy.map((e) => 1 / (1 + Math.exp(-(e - e0) / 1)) + wl * Math.exp(-0.5 * ((e - e0 - 8) / width) ** 2) + 0.1 * Math.sin((e - e0) / 9));
  return { source: "synthetic", energy, norm, preEdge: undefined as never };
}

test("matching recovers a known offset and prefers the right shape; calibration and leave-one-out use other standards", () => {
  const mesh = meshFromWindow(8983, 9120, 0.5, false);
  const e = meshEnergies(mesh);
  const computed = (e0: number, wl: number) => e.map((x) => 1 / (1 + Math.exp(-(x - e0) / 1)) + wl * Math.exp(-0.5 * ((x - e0 - 8) / 2) ** 2) + 0.1 * Math.sin((x - e0) / 9));
  // Measurement 5 eV below the computed spectra (FEFF-vs-experiment offset).
  const a = synthetic(8990);
  const b = synthetic(8991, 0.3);
  const refA = computed(8995, 0.6);
  const refB = computed(8996, 0.3);
  const opts = { ...DEFAULT_MATCH, window: [8990, 9100] as [number, number] };
  const cal = calibrateOffset([{ name: "a", target: a, reference: refA }, { name: "b", target: b, reference: refB }], mesh, "Cu", "K", opts);
  assert.ok(Math.abs(cal.offset + 5) < 0.26, `offset ${cal.offset}`);
  assert.ok(cal.spread !== null && cal.spread < 0.3);
  const loo = leaveOneOutOffsets([{ name: "a", target: a, reference: refA }, { name: "b", target: b, reference: refB }], mesh, "Cu", "K", opts);
  assert.deepEqual(loo.map((c) => c.standards.map((s) => s.name)), [["b"], ["a"]]);
  const ranked = rankMatches(prepareMatch(a, mesh, { ...opts, offset: loo[0].offset }), [
    { id: "wrong", members: [refB] },
    { id: "right", members: [refA] },
  ]);
  assert.equal(ranked[0].id, "right");
  const fit = new MatchScorer(prepareMatch(a, mesh, { ...opts, offset: -5 })).fit(refA);
  assert.ok(Math.abs(fit.shift) <= 0.25 && fit.gamma <= 0.25, JSON.stringify(fit));
});

test("prepareMatch refuses a target that misses the window or has too few points there, naming the file", () => {
  const mesh = VALIDATION_MESH;
  const t = synthetic(8990);
  const short: NormalisedTarget = { ...t, source: "short.xdi", energy: t.energy.subarray(0, 300), norm: t.norm.subarray(0, 300) };
  assert.throws(() => prepareMatch(short, mesh, { ...DEFAULT_MATCH, offset: -5 }), (e: Error) => e instanceof InputError && /^short\.xdi: energies 8900–8989\.7 eV do not cover/.test(e.message));
  // Five points over the whole window: no features to match.
  const five: NormalisedTarget = { source: "five.dat", energy: Float64Array.from([8900, 8990, 9040, 9090, 9200]), norm: Float64Array.from([0, 1, 1.1, 1, 1]), preEdge: undefined as never };
  assert.throws(() => prepareMatch(five, mesh, { ...DEFAULT_MATCH, offset: -5 }), (e: Error) => e instanceof InputError && /^five\.dat: only 3 points within 8984\.0–9116\.0 eV/.test(e.message));
});

test("measured Cu oxides against the FEFF spectra of ≥ 100 candidates (the ceiling, offset left-one-out): CuO top 4, azurite top 14", () => {
  // Measured (scripts/validate-measured.ts, defaults l2 / 8990–9120 eV / Lorentzian ≤ 4 eV / ±1 eV), read as
  // a user's file is (energies calibrated by the Cu foil: +0.08 / +0.01 eV): CuO tenorite rank 4 of 125
  // (the top four within 0.7 % in score: two other CuO structures and mp-755928), azurite rank 12; with the
  // offset moved by ±0.5 eV the ranks span 2–4 and 11–14. Without the foil calibration they were 3 and 10.
  const root = path.join(sharedDataDir(), "feff-cu-k-oxides");
  const mesh = VALIDATION_MESH;
  const { set, spectra } = feffValidationSet(root, mesh, CU_MEASURED_STANDARDS.flatMap((s) => s.trueIds));
  assert.ok(set.binaries.length + set.others.length >= 100 && set.others.length >= 65);
  const cands: MatchCandidate[] = [...spectra].map(([id, sp]) => ({ id, members: [sp] }));
  assert.ok(cands.length >= 100, `${cands.length} candidates`);
  const targets = readMeasuredStandards();
  const standards = targets.map((t) => ({ name: t.name, target: t.target, reference: cands.find((c) => c.id === t.trueIds[0])!.members[0] }));
  const loo = leaveOneOutOffsets(standards, mesh, "Cu", "K", DEFAULT_MATCH);
  const ranks = targets.map((t, i) => {
    const ranked = rankMatches(prepareMatch(t.target, mesh, { ...DEFAULT_MATCH, offset: loo[i].offset }), cands);
    return Math.min(...ranked.filter((r) => t.trueIds.includes(r.id)).map((r) => r.rank));
  });
  console.log(`FEFF ceiling ranks among ${cands.length}: CuO ${ranks[0]}, azurite ${ranks[1]}; LOO offsets ${loo.map((c) => c.offset.toFixed(2)).join(", ")} eV`);
  assert.ok(ranks[0] <= 4, `CuO rank ${ranks[0]}`);
  assert.ok(ranks[1] <= 14, `azurite rank ${ranks[1]}`);
  // The FEFF-vs-experiment offset is a few eV below the computed edge, the same for both standards within 1 eV.
  for (const c of loo) assert.ok(c.offset < -3 && c.offset > -8, `offset ${c.offset}`);
  assert.ok(Math.abs(loo[0].offset - loo[1].offset) < 1);
});
