/**
 * Edge-step normalisation of an absorption spectrum as Athena and larch do it (larch `pre_edge`,
 * https://xraypy.github.io/xraylarch/xafs/preedge.html; Athena: Ravel & Newville, J. Synchrotron
 * Rad. 12, 537 (2005)). One implementation for computed (FEFF) and measured spectra:
 *
 *  1. E0: the energy of the maximum of the (smoothed) derivative dμ/dE, unless given. As larch's
 *     `find_e0`: a raw-derivative pass, then a Gaussian-smoothed pass within ±75 points of it
 *     (σ = mean of the typical energy step and E0/25000, each clamped to 0.01–1 eV), keeping only
 *     points whose neighbours are also above 60 % of the derivative's range (a lone glitch or spike
 *     is not an edge); the first and last 2 % of points are never E0.
 *  2. Pre-edge line: a line fitted to μ·E^nvict over [E0+pre1, E0+pre2].
 *     Defaults (larch): pre1 = second energy point − E0 rounded to 5 eV (2 eV when E0 lies within
 *     the first 20 points), pre2 = pre1 / 2.
 *  3. Post-edge: a polynomial of degree nnorm fitted to μ − pre over [E0+norm1, E0+norm2].
 *     Defaults (larch): norm2 = last energy − E0 rounded to 5 eV (never past the data),
 *     norm1 = min(25, norm2/3 rounded to 5 eV), and never closer than 10 eV to norm2;
 *     nnorm = 2 if norm2 − norm1 ≥ 300 eV, 1 if ≥ 30 eV, else 0.
 *  4. Edge step = post(E0) − pre(E0) (or given); norm = (μ − pre) / step.
 *  5. Flattening (larch `flat`, Athena "flatten"): above E0, the post-edge curve's departure from its
 *     value at E0 is removed, so the normalised spectrum oscillates about 1 far above the edge.
 *
 * Unlike larch (which takes |step|), a negative or flat edge step is refused: a spectrum whose
 * absorption falls through the edge is a wrong column or a reference channel, never a ranking input.
 */
import { InputError } from "../util/errors";

export interface PreEdgeOptions {
  /** Edge energy, eV; found from the derivative when absent or outside the data (as larch). */
  e0?: number;
  /** Edge step; fitted when absent. */
  step?: number;
  /** Pre-edge fit range relative to E0, eV (pre1 < pre2 < 0). */
  pre1?: number;
  pre2?: number;
  /** Post-edge fit range relative to E0, eV. */
  norm1?: number;
  norm2?: number;
  /** Degree of the post-edge polynomial (0–3; larch's "normalisation order" minus one). */
  nnorm?: number;
  /** Victoreen exponent of the pre-edge fit (μ·E^nvict is linear). Default 0. */
  nvict?: number;
  /**
   * "line" (default, larch): fit the pre-edge line. "zero": the pre-edge level is 0 — for computed
   * spectra, which have no background and whose few eV below E0 are the edge's own Lorentzian tail,
   * so a line fitted there is unstable (FEFF Cu K: see test/normalize.test.ts).
   */
  preEdge?: "line" | "zero";
}

export interface PreEdgeResult {
  /** Edge energy, eV (snapped to the nearest data point, as larch). */
  readonly e0: number;
  readonly e0Source: "given" | "derivative";
  /** Index of E0 in the energy array. */
  readonly ie0: number;
  readonly edgeStep: number;
  readonly pre1: number;
  readonly pre2: number;
  readonly norm1: number;
  readonly norm2: number;
  readonly nnorm: number;
  readonly nvict: number;
  /** Pre-edge line and post-edge curve at every energy (for plotting, as Athena). */
  readonly preEdge: Float64Array;
  readonly postEdge: Float64Array;
  /** (μ − pre) / step. */
  readonly norm: Float64Array;
  /** `norm` with the post-edge curvature removed above E0. */
  readonly flat: Float64Array;
  /** Number of points in the pre-edge and post-edge fits. */
  readonly preCount: number;
  readonly postCount: number;
}

/** Largest index with x[i] ≤ v (0 when v < x[0]); larch `index_of`. */
function indexOf(x: ArrayLike<number>, v: number): number {
  if (v < x[0]) return 0;
  let lo = 0;
  let hi = x.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (x[mid] <= v) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Index of the value nearest v; larch `index_nearest`. */
function indexNearest(x: ArrayLike<number>, v: number): number {
  const i = indexOf(x, v);
  if (i + 1 < x.length && Math.abs(x[i + 1] - v) < Math.abs(x[i] - v)) return i + 1;
  return i;
}

/** Python's round (half to even) of v / q, times q: larch rounds its default ranges that way. */
function roundTo(v: number, q: number): number {
  const t = v / q;
  let r = Math.round(t);
  if (Math.abs(t - Math.trunc(t)) === 0.5 && r % 2 !== 0) r -= 1;
  return r * q;
}

/**
 * Least-squares polynomial of degree `deg` through (x[i], y[i]), i in [i0, i1). x is centred and
 * scaled before the normal equations (E ≈ 9000 eV squared would lose every digit otherwise).
 * Returns an evaluator.
 */
export function polyfitRange(x: ArrayLike<number>, y: ArrayLike<number>, i0: number, i1: number, deg: number): (e: number) => number {
  const n = i1 - i0;
  if (n < 1) throw new RangeError("polyfit: no points");
  const d = Math.min(deg, n - 1);
  let xm = 0;
  for (let i = i0; i < i1; i++) xm += x[i];
  xm /= n;
  let xs = 0;
  for (let i = i0; i < i1; i++) xs = Math.max(xs, Math.abs(x[i] - xm));
  if (!(xs > 0)) xs = 1;
  const k = d + 1;
  const a = new Float64Array(k * k);
  const b = new Float64Array(k);
  const pw = new Float64Array(2 * k);
  for (let i = i0; i < i1; i++) {
    const t = (x[i] - xm) / xs;
    pw[0] = 1;
    for (let p = 1; p < 2 * k; p++) pw[p] = pw[p - 1] * t;
    for (let r = 0; r < k; r++) {
      b[r] += pw[r] * y[i];
      for (let c = 0; c < k; c++) a[r * k + c] += pw[r + c];
    }
  }
  // Gaussian elimination with partial pivoting (k ≤ 4).
  const coef = new Float64Array(k);
  for (let col = 0; col < k; col++) {
    let piv = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(a[r * k + col]) > Math.abs(a[piv * k + col])) piv = r;
    if (piv !== col) {
      for (let c = 0; c < k; c++) [a[col * k + c], a[piv * k + c]] = [a[piv * k + c], a[col * k + c]];
      [b[col], b[piv]] = [b[piv], b[col]];
    }
    const diag = a[col * k + col];
    if (diag === 0) continue;
    for (let r = col + 1; r < k; r++) {
      const f = a[r * k + col] / diag;
      if (f === 0) continue;
      for (let c = col; c < k; c++) a[r * k + c] -= f * a[col * k + c];
      b[r] -= f * b[col];
    }
  }
  for (let r = k - 1; r >= 0; r--) {
    let s = b[r];
    for (let c = r + 1; c < k; c++) s -= a[r * k + c] * coef[c];
    const diag = a[r * k + r];
    coef[r] = diag !== 0 ? s / diag : 0;
  }
  return (e: number) => {
    const t = (e - xm) / xs;
    let v = 0;
    for (let p = k - 1; p >= 0; p--) v = v * t + coef[p];
    return v;
  };
}

/** dμ/dE by central differences on a non-uniform grid (numpy.gradient(mu)/numpy.gradient(E)). */
function derivative(e: ArrayLike<number>, mu: ArrayLike<number>, out: Float64Array): void {
  const n = e.length;
  for (let i = 0; i < n; i++) {
    const a = i > 0 ? i - 1 : 0;
    const b = i < n - 1 ? i + 1 : n - 1;
    out[i] = (mu[b] - mu[a]) / (e[b] - e[a]);
  }
}

/** Gaussian-weighted average of y over x with width sigma (eV): larch's `smooth` without regridding. */
function gaussianSmooth(x: ArrayLike<number>, y: Float64Array, sigma: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  const reach = 4 * sigma;
  let lo = 0;
  for (let i = 0; i < n; i++) {
    while (x[lo] < x[i] - reach) lo++;
    let sw = 0;
    let sy = 0;
    for (let j = lo; j < n && x[j] <= x[i] + reach; j++) {
      const u = (x[j] - x[i]) / sigma;
      const w = Math.exp(-0.5 * u * u);
      sw += w;
      sy += w * y[j];
    }
    out[i] = sy / sw;
  }
  return out;
}

/** Index of the largest derivative whose two neighbours are also "high" (larch `_finde0`). */
function maxDerivativeIndex(d: Float64Array): number {
  const n = d.length;
  const nmin = Math.max(3, Math.floor(n * 0.02));
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = nmin; i < n - nmin; i++) {
    const v = Number.isFinite(d[i]) ? d[i] : -Infinity;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const ptp = Math.max(1e-300, hi - lo);
  let high = n > 20 ? 0.6 : 0.3;
  const isHigh = (i: number, h: number) => i >= 0 && i < n && Number.isFinite(d[i]) && (d[i] - lo) / ptp > h;
  // Lower the threshold (twice at most) when fewer than 3 points pass it.
  for (let round = 0; round < 2; round++) {
    let count = 0;
    for (let i = 0; i < n; i++) if (isHigh(i, high)) count++;
    if (count >= 3) break;
    high *= 0.5;
  }
  let best = -1;
  let bestV = -Infinity;
  for (let i = nmin; i <= n - nmin; i++) {
    if (i >= n || !isHigh(i, high) || !isHigh(i - 1, high) || !isHigh(i + 1, high)) continue;
    if (d[i] > bestV) {
      bestV = d[i];
      best = i;
    }
  }
  return best;
}

/** Typical energy step: mean of the smallest steps after ignoring the smallest 1 % (larch `find_energy_step`). */
function typicalStep(e: ArrayLike<number>): number {
  const n = e.length;
  const steps: number[] = [];
  for (let i = 1; i < n; i++) steps.push(e[i] - e[i - 1]);
  steps.sort((a, b) => a - b);
  const skip = Math.floor(0.01 * n);
  const take = steps.slice(skip, skip + 10);
  return take.reduce((s, v) => s + v, 0) / take.length;
}

/**
 * E0 from the maximum of the smoothed derivative (larch `find_e0`). Energies must be strictly
 * increasing and finite (checked by `preEdgeNormalize`).
 */
export function findE0(energy: ArrayLike<number>, mu: ArrayLike<number>): { e0: number; index: number } {
  const n = energy.length;
  const d = new Float64Array(n);
  derivative(energy, mu, d);
  let i1 = maxDerivativeIndex(d);
  if (i1 < 0) i1 = 0;
  let e1 = energy[i1];
  let istart = Math.max(3, i1 - 75);
  let istop = Math.min(i1 + 75, n - 3);
  // An E0 in the first 5 % of points is usually a glitch: search the whole scan instead.
  if (i1 < 0.05 * n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += energy[i];
    e1 = s / n;
    istart = Math.max(3, i1 - 20);
    istop = n - 3;
  }
  if (istop - istart < 8) return { e0: energy[i1], index: i1 };
  const clamp = (v: number) => Math.max(0.01, Math.min(1, v));
  const sigma = 0.5 * (clamp(typicalStep(energy)) + clamp(e1 / 25000));
  const e = Array.prototype.slice.call(energy, istart, istop) as number[];
  const dd = d.subarray(istart, istop);
  const smooth = gaussianSmooth(e, dd, sigma);
  const i2 = maxDerivativeIndex(smooth);
  const index = i2 < 1 ? istart + 2 : istart + i2;
  return { e0: energy[index], index };
}

/**
 * Index of an isolated spike (a glitch or a corrupted value), or −1: a point that departs from the
 * median of its four nearest neighbours by more than the whole robust range of the spectrum (1st to
 * 99th percentile). An edge rises over several points and a white line is wider than one point, so
 * neither triggers it; larch's E0 search would take such a spike for the edge. Needs ≥ 20 points.
 */
export function findSpike(mu: ArrayLike<number>): number {
  const n = mu.length;
  // With fewer points the percentiles are the extremes themselves: sparse data is judged elsewhere.
  if (n < 20) return -1;
  const sorted = Float64Array.from(mu).sort();
  const range = sorted[Math.floor(0.99 * (n - 1))] - sorted[Math.ceil(0.01 * (n - 1))];
  const nb = new Float64Array(4);
  for (let i = 1; i < n - 1; i++) {
    let k = 0;
    for (let j = i - 2; j <= i + 2 && k < 4; j++) if (j !== i && j >= 0 && j < n) nb[k++] = mu[j];
    const v = nb.subarray(0, k).sort();
    const med = k % 2 ? v[k >> 1] : 0.5 * (v[(k >> 1) - 1] + v[k >> 1]);
    if (Math.abs(mu[i] - med) > Math.max(range, 1e-300)) return i;
  }
  return -1;
}

/** Default ranges (larch `preedge`), given E0's index. */
function defaultRanges(energy: ArrayLike<number>, ie0: number, e0: number, o: PreEdgeOptions) {
  const n = energy.length;
  const rel = (i: number) => energy[i] - e0;
  let pre1 = o.pre1 ?? (ie0 > 20 ? roundTo(energy[1] - e0, 5) : roundTo(energy[1] - e0, 2));
  pre1 = Math.max(pre1, energy[0] - e0);
  let pre2 = o.pre2 ?? 0.5 * pre1;
  if (pre1 > pre2) [pre1, pre2] = [pre2, pre1];
  const nvict = o.nvict ?? 0;
  const relE = Float64Array.from({ length: n }, (_, i) => rel(i));
  const ip1 = indexOf(relE, pre1);
  const ip2 = indexOf(relE, pre2);
  if (ip2 < ip1 + 2 + nvict) pre2 = relE[Math.min(n - 1, ip1 + 2 + nvict)];
  let norm2 = o.norm2 ?? roundTo(energy[n - 1] - e0, 5);
  if (norm2 < 0) norm2 = energy[n - 1] - e0 - norm2;
  norm2 = Math.min(norm2, energy[n - 1] - e0);
  let norm1 = o.norm1 ?? Math.min(25, roundTo(norm2 / 15, 1) * 5);
  if (norm1 > norm2) [norm1, norm2] = [norm2, norm1];
  norm1 = Math.min(norm1, norm2 - 10);
  let nnorm = o.nnorm;
  if (nnorm === undefined) nnorm = norm2 - norm1 < 30 ? 0 : norm2 - norm1 < 300 ? 1 : 2;
  nnorm = Math.max(0, Math.min(3, Math.round(nnorm)));
  return { pre1, pre2, norm1, norm2, nnorm, nvict };
}

/**
 * Pre-edge subtraction and edge-step normalisation (see the file header for the method and defaults).
 * `source` names the spectrum in errors. Throws InputError for NaN, fewer than 10 points,
 * non-increasing energies, a flat spectrum, or a flat or negative edge step.
 */
export function preEdgeNormalize(energy: ArrayLike<number>, mu: ArrayLike<number>, opts: PreEdgeOptions = {}, source = "spectrum"): PreEdgeResult {
  const n = energy.length;
  if (mu.length !== n) throw new InputError(`${source}: ${n} energies but ${mu.length} absorption values`);
  if (n < 10) throw new InputError(`${source}: only ${n} points; edge-step normalisation needs at least 10`);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(energy[i]) || !Number.isFinite(mu[i])) throw new InputError(`${source}: point ${i + 1}: non-finite value (energy ${energy[i]}, mu ${mu[i]})`);
    if (i > 0 && !(energy[i] > energy[i - 1])) {
      throw new InputError(`${source}: point ${i + 1}: energies must increase strictly (${energy[i - 1]} then ${energy[i]} eV)`);
    }
    if (mu[i] < lo) lo = mu[i];
    if (mu[i] > hi) hi = mu[i];
  }
  if (!(hi > lo)) throw new InputError(`${source}: constant spectrum (every value ${lo}); no edge to normalise`);
  const spike = findSpike(mu);
  if (spike >= 0) {
    throw new InputError(`${source}: point ${spike + 1} (${energy[spike]} eV): isolated spike (mu ${mu[spike]} against ${mu[spike - 1]} and ${mu[spike + 1]} beside it); remove the glitch first`);
  }
  let e0: number;
  let ie0: number;
  let e0Source: "given" | "derivative";
  if (opts.e0 !== undefined && opts.e0 >= energy[1] && opts.e0 <= energy[n - 2]) {
    ie0 = indexNearest(energy, opts.e0);
    e0 = energy[ie0];
    e0Source = "given";
  } else {
    ({ e0, index: ie0 } = findE0(energy, mu));
    e0Source = "derivative";
  }
  const r = defaultRanges(energy, ie0, e0, opts);
  // Pre-edge line on μ·E^nvict over [p1, p2).
  let p1 = indexOf(energy, r.pre1 + e0);
  let p2 = indexNearest(energy, r.pre2 + e0);
  if (p2 - p1 < 2) p2 = Math.min(n, p1 + 2);
  const mv = new Float64Array(n);
  for (let i = 0; i < n; i++) mv[i] = mu[i] * Math.pow(energy[i], r.nvict);
  const zero = opts.preEdge === "zero";
  const preLine = zero ? () => 0 : polyfitRange(energy, mv, p1, p2, 1);
  const preCount = zero ? 0 : p2 - p1;
  const preEdge = new Float64Array(n);
  for (let i = 0; i < n; i++) preEdge[i] = preLine(energy[i]) * Math.pow(energy[i], -r.nvict);
  // Post-edge polynomial on μ − pre over [q1, q2).
  let q1 = indexOf(energy, r.norm1 + e0);
  let q2 = indexNearest(energy, r.norm2 + e0);
  if (q2 - q1 < 2) q2 = Math.min(n, q1 + 2);
  if (q2 - q1 < 2) q1 = Math.max(0, q1 - 2);
  const sub = new Float64Array(n);
  for (let i = 0; i < n; i++) sub[i] = mu[i] - preEdge[i];
  const postPoly = polyfitRange(energy, sub, q1, q2, r.nnorm);
  const postEdge = new Float64Array(n);
  for (let i = 0; i < n; i++) postEdge[i] = preEdge[i] + postPoly(energy[i]);
  const fitted = postEdge[ie0] - preEdge[ie0];
  const edgeStep = opts.step ?? fitted;
  // "Flat": a step below a millionth of the spectrum's range is numerical noise, not an edge.
  if (!(edgeStep > 1e-6 * (hi - lo))) {
    const what = edgeStep < 0 ? "negative" : "flat";
    throw new InputError(
      `${source}: ${what} edge step ${edgeStep.toPrecision(3)} at E0 = ${e0} eV (post-edge ${postEdge[ie0].toPrecision(4)}, pre-edge ${preEdge[ie0].toPrecision(4)}); ` +
        `absorption must rise through the edge — is this the right column (mu, not i0 or a reference channel)?`,
    );
  }
  const norm = new Float64Array(n);
  const flat = new Float64Array(n);
  const c0 = fitted / edgeStep;
  for (let i = 0; i < n; i++) {
    norm[i] = (mu[i] - preEdge[i]) / edgeStep;
    flat[i] = i < ie0 ? norm[i] : norm[i] - (postEdge[i] - preEdge[i]) / edgeStep + c0;
  }
  return { e0, e0Source, ie0, edgeStep, ...r, preEdge, postEdge, norm, flat, preCount, postCount: q2 - q1 };
}
