/**
 * Common energy mesh, resampling, edge alignment and normalisation.
 * Resampling is linear interpolation: FEFF spectra are sampled densely (0.3–1.8 eV) relative to
 * the mesh steps used here, so higher-order schemes change little and could overshoot at the edge.
 * Nothing is extrapolated: a mesh outside the spectrum is reported (or clamped if asked).
 */

import { preEdgeNormalize } from "./normalize";

/** An equally spaced energy mesh `start, start+step, …` with `points` points. */
export interface EnergyMesh {
  readonly start: number;
  readonly step: number;
  readonly points: number;
  /** True: energies relative to the edge (eV); false: absolute photon energies (eV). */
  readonly relative: boolean;
}

/** Mesh from a closed window [start, stop] and step; stop is included when it falls on the grid. */
export function meshFromWindow(start: number, stop: number, step: number, relative: boolean): EnergyMesh {
  if (!(step > 0) || !(stop > start) || !Number.isFinite(start) || !Number.isFinite(stop)) {
    throw new RangeError(`invalid mesh window [${start}, ${stop}] step ${step}`);
  }
  const points = Math.floor((stop - start) / step + 1e-9) + 1;
  return { start, step, points, relative };
}

/** Energies of the mesh points. */
export function meshEnergies(mesh: EnergyMesh): Float64Array {
  const out = new Float64Array(mesh.points);
  for (let i = 0; i < mesh.points; i++) out[i] = mesh.start + i * mesh.step;
  return out;
}

export function meshStop(mesh: EnergyMesh): number {
  return mesh.start + (mesh.points - 1) * mesh.step;
}

/**
 * Default meshes, chosen from the data (see lib/spectra/README.md):
 * - Cu K (FEFF set, measured over all 4,762 spectra): omega starts 8983.2–8988.7 eV and ends
 *   9124.2–9129.7 eV. The mesh starts at 8983 eV, at or before every run's first energy, so the
 *   pre-edge and the rising edge (where measured Cu K edges rise, 8979–8986 eV) are inside; a run that
 *   starts later has its first value held (buildDataset's maxHold, 6 eV; counted in quality.held).
 *   9120 eV is covered by every run; 0.5 eV ≈ FEFF's spacing near the edge.
 *   Edge-relative: e starts −17.7…−7.6 and ends 123.3…133.3 → −7.5…122.5 eV.
 * - O K absolute: MP FEFF O K spectra span about 520–570 eV (200 points; per the data README — no MP
 *   O K set is available offline to measure), so 525–560 eV (101 points, 0.35 eV) leaves ~5 eV margin at
 *   both ends for edge shifts between compounds while keeping pre-edge, edge and ~25 eV above it.
 * - O K edge-relative (Li3FeO3.5 set, −40.7…68 eV): onset near 0 eV, structure fades by ~45 eV → −5…45 eV.
 */
export const DEFAULT_MESHES = {
  "Cu-K": meshFromWindow(8983, 9120, 0.5, false),
  "Cu-K-relative": meshFromWindow(-7.5, 122.5, 0.5, true),
  "O-K": meshFromWindow(525, 560, 0.35, false),
  "O-K-relative": meshFromWindow(-5, 45, 0.25, true),
} as const;

/** Why a spectrum's energy axis is unusable, or null if it is fine. */
export type AxisProblem = "nan" | "non-monotonic" | "too-short" | null;

/** Check values are finite, energy strictly increasing and at least `minPoints` long. */
export function checkSpectrumAxis(energy: ArrayLike<number>, mu: ArrayLike<number>, minPoints = 10): AxisProblem {
  const n = energy.length;
  if (mu.length !== n) return "too-short";
  for (let i = 0; i < n; i++) if (!Number.isFinite(energy[i]) || !Number.isFinite(mu[i])) return "nan";
  if (n < minPoints) return "too-short";
  for (let i = 1; i < n; i++) if (!(energy[i] > energy[i - 1])) return "non-monotonic";
  return null;
}

/**
 * Linear interpolation of (x, y) onto the mesh, written into `out` (length mesh.points).
 * `x` must be strictly increasing. `shift` is subtracted from x first (edge alignment).
 * Returns false (out untouched past the failure) when the mesh leaves [x0, xn] and `clamp` is false;
 * with `clamp` the end values are held (documented as a choice in the dataset).
 */
export function resampleLinear(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  mesh: EnergyMesh,
  out: Float32Array | Float64Array,
  shift = 0,
  clamp = false,
): boolean {
  const n = x.length;
  const x0 = x[0] - shift;
  const xn = x[n - 1] - shift;
  const tol = mesh.step * 1e-9;
  let j = 0;
  for (let i = 0; i < mesh.points; i++) {
    const e = mesh.start + i * mesh.step;
    if (e < x0 - tol) {
      if (!clamp) return false;
      out[i] = y[0];
      continue;
    }
    if (e > xn + tol) {
      if (!clamp) return false;
      out[i] = y[n - 1];
      continue;
    }
    while (j < n - 2 && x[j + 1] - shift < e) j++;
    const xa = x[j] - shift;
    const xb = x[j + 1] - shift;
    let t = (e - xa) / (xb - xa);
    if (t < 0) t = 0;
    else if (t > 1) t = 1;
    out[i] = y[j] + t * (y[j + 1] - y[j]);
  }
  return true;
}

/** True when [x0 − shift − hold, xn − shift + hold] contains the mesh window (`hold`: eV an end value may be held). */
export function meshCovered(x: ArrayLike<number>, mesh: EnergyMesh, shift = 0, hold = 0): boolean {
  const tol = mesh.step * 1e-9 + hold;
  return x[0] - shift <= mesh.start + tol && x[x.length - 1] - shift >= meshStop(mesh) - tol;
}

/**
 * Edge energy estimated as the energy of the steepest rise of mu (maximum of the finite-difference
 * derivative), the usual E0 convention when a source does not give one.
 */
export function estimateEdgeEnergy(energy: ArrayLike<number>, mu: ArrayLike<number>): number {
  let best = -Infinity;
  let at = energy[0];
  for (let i = 1; i < energy.length; i++) {
    const d = (mu[i] - mu[i - 1]) / (energy[i] - energy[i - 1]);
    if (d > best) {
      best = d;
      at = 0.5 * (energy[i] + energy[i - 1]);
    }
  }
  return at;
}

/**
 * Normalisation applied on the mesh:
 * - "none": as computed;
 * - "max": divide by the maximum (max = 1);
 * - "area": divide by the trapezoid integral over the mesh (unit area, eV⁻¹);
 * - "edge-step": edge-step normalisation as Athena/larch `pre_edge` does it (lib/spectra/normalize), for
 *   computed spectra: pre-edge level 0 (FEFF has no background, and a line fitted on its few eV below
 *   the edge is unstable: it refused 506 of 4,157 FEFF Cu runs, see test/normalize.test.ts), post-edge line, step
 *   at E0 from the derivative, flattened. Measured spectra are normalised on their whole scan instead
 *   (lib/screening/match `normaliseTarget`).
 */
export const NORMALISATIONS = ["none", "max", "area", "edge-step"] as const;
export type Normalisation = (typeof NORMALISATIONS)[number];

/**
 * Normalise `y` in place. Returns false when the factor is not positive and finite
 * (e.g. an all-zero spectrum), which the builder reports as a drop. An unknown mode (a typo from a
 * command line or a saved model) is a RangeError rather than silently one of the others.
 */
export function normaliseInPlace(y: Float32Array | Float64Array, mode: Normalisation, step = 1, start = 0): boolean {
  const n = y.length;
  if (mode === "none") return true;
  if (mode === "max") {
    let m = -Infinity;
    for (let i = 0; i < n; i++) if (y[i] > m) m = y[i];
    if (!(m > 0) || !Number.isFinite(m)) return false;
    for (let i = 0; i < n; i++) y[i] /= m;
    return true;
  }
  if (mode === "area") {
    let a = 0;
    for (let i = 1; i < n; i++) a += 0.5 * (y[i] + y[i - 1]) * step;
    if (!(a > 0) || !Number.isFinite(a)) return false;
    for (let i = 0; i < n; i++) y[i] /= a;
    return true;
  }
  if (mode !== "edge-step") throw new RangeError(`unknown normalisation "${mode}" (${NORMALISATIONS.join(", ")})`);
  const energy = new Float64Array(n);
  for (let i = 0; i < n; i++) energy[i] = start + i * step;
  let flat: Float64Array;
  try {
    flat = preEdgeNormalize(energy, y, { preEdge: "zero" }).flat;
  } catch {
    return false; // constant, non-finite, too short, or a non-positive step: the caller reports the drop
  }
  for (let i = 0; i < n; i++) y[i] = flat[i];
  return true;
}
