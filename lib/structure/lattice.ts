import { Structure } from "./types";
import { InputError } from "../util/errors";

/** Determinant of the row-major 3×3 lattice (signed cell volume, Å³). */
export function latticeVolume(m: ArrayLike<number>): number {
  return (
    m[0] * (m[4] * m[8] - m[5] * m[7]) -
    m[1] * (m[3] * m[8] - m[5] * m[6]) +
    m[2] * (m[3] * m[7] - m[4] * m[6])
  );
}

/**
 * Reciprocal vectors without the 2π (rows b_i with a_i · b_j = δ_ij), row-major.
 * Fractional coordinates of a cartesian point x are f_i = b_i · x; |b_i| = 1 / (spacing of lattice planes i).
 */
export function reciprocalLattice(m: ArrayLike<number>, where = "structure"): Float64Array {
  const v = latticeVolume(m);
  if (!(Math.abs(v) > 1e-12) || !Number.isFinite(v)) throw new InputError(`${where}: degenerate lattice (volume ${v})`);
  const b = new Float64Array(9);
  // b1 = a2 × a3 / V, b2 = a3 × a1 / V, b3 = a1 × a2 / V
  for (let i = 0; i < 3; i++) {
    const j = (i + 1) % 3;
    const k = (i + 2) % 3;
    b[3 * i] = (m[3 * j + 1] * m[3 * k + 2] - m[3 * j + 2] * m[3 * k + 1]) / v;
    b[3 * i + 1] = (m[3 * j + 2] * m[3 * k] - m[3 * j] * m[3 * k + 2]) / v;
    b[3 * i + 2] = (m[3 * j] * m[3 * k + 1] - m[3 * j + 1] * m[3 * k]) / v;
  }
  return b;
}

/** Cartesian coordinates (Å) of every site, site i at [3i..3i+2]. */
export function cartesianCoords(s: Structure): Float64Array {
  const n = s.species.length;
  const m = s.lattice;
  const out = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const a = s.frac[3 * i], b = s.frac[3 * i + 1], c = s.frac[3 * i + 2];
    out[3 * i] = a * m[0] + b * m[3] + c * m[6];
    out[3 * i + 1] = a * m[1] + b * m[4] + c * m[7];
    out[3 * i + 2] = a * m[2] + b * m[5] + c * m[8];
  }
  return out;
}

/** Fractional coordinates of cartesian points (flat xyz) in lattice `m`. */
export function fractionalCoords(m: ArrayLike<number>, cart: ArrayLike<number>): Float64Array {
  const b = reciprocalLattice(m);
  const n = cart.length / 3;
  const out = new Float64Array(cart.length);
  for (let i = 0; i < n; i++) {
    const x = cart[3 * i], y = cart[3 * i + 1], z = cart[3 * i + 2];
    out[3 * i] = b[0] * x + b[1] * y + b[2] * z;
    out[3 * i + 1] = b[3] * x + b[4] * y + b[5] * z;
    out[3 * i + 2] = b[6] * x + b[7] * y + b[8] * z;
  }
  return out;
}

/**
 * Lattice from a, b, c (Å) and α, β, γ (degrees) in pymatgen's `Lattice.from_parameters` orientation
 * (c along z, a in the xz plane), so cartesian coordinates match pymatgen for CIF input.
 */
export function latticeFromParameters(a: number, b: number, c: number, alpha: number, beta: number, gamma: number): Float64Array {
  const rad = Math.PI / 180;
  const ca = Math.cos(alpha * rad), cb = Math.cos(beta * rad), cg = Math.cos(gamma * rad);
  const sa = Math.sin(alpha * rad), sb = Math.sin(beta * rad);
  let gammaStar = (ca * cb - cg) / (sa * sb);
  gammaStar = Math.max(-1, Math.min(1, gammaStar));
  const gs = Math.acos(gammaStar);
  return Float64Array.from([
    a * sb, 0, a * cb,
    -b * sa * Math.cos(gs), b * sa * Math.sin(gs), b * ca,
    0, 0, c,
  ]);
}

/** Lattice lengths (Å) and angles α, β, γ (degrees). */
export function latticeParameters(m: ArrayLike<number>): { a: number; b: number; c: number; alpha: number; beta: number; gamma: number } {
  const len = (i: number) => Math.hypot(m[3 * i], m[3 * i + 1], m[3 * i + 2]);
  const dot = (i: number, j: number) => m[3 * i] * m[3 * j] + m[3 * i + 1] * m[3 * j + 1] + m[3 * i + 2] * m[3 * j + 2];
  const a = len(0), b = len(1), c = len(2);
  const deg = 180 / Math.PI;
  return { a, b, c, alpha: Math.acos(dot(1, 2) / (b * c)) * deg, beta: Math.acos(dot(0, 2) / (a * c)) * deg, gamma: Math.acos(dot(0, 1) / (a * b)) * deg };
}
