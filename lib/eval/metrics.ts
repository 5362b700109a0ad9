/**
 * Per-spectrum agreement metrics between predicted and true spectra on one energy mesh.
 *
 * Spectra are rows of a row-major Float32Array (N × M). Every function reads rows in place
 * through (array, offset) pairs: no per-element or per-row allocation in the hot loops.
 *
 * Conventions (documented because the study does not state them):
 * - MSE is the mean over mesh points of (pred − truth)², in the units of the spectra.
 * - Cosine similarity, Pearson and Spearman are NaN when either vector has zero norm / zero
 *   variance (undefined, not "perfect" and not "zero"); summaries count NaN rows separately
 *   and shape thresholds count them as not reproduced.
 * - Spearman uses average ranks for ties (the textbook definition, = Pearson of the ranks).
 * - Main peak = the mesh argmax (first one on ties), refined to sub-grid precision with the vertex
 *   of the parabola through the argmax and its two neighbours (exact for any spacing of the three
 *   points); at the mesh ends the mesh point itself is used.
 * - Prominent peaks: local maxima whose topographic prominence (height above the higher of the
 *   two minima separating it from higher ground, as in scipy.signal.peak_prominences) is at least
 *   `minProminence` × (max − min) of the spectrum.
 */

/** Mean squared error between row `ia` of `a` and row `ib` of `b` (rows of length m). */
export function mseRow(a: ArrayLike<number>, b: ArrayLike<number>, m: number, ia = 0, ib = 0): number {
  const oa = ia * m;
  const ob = ib * m;
  let s = 0;
  for (let j = 0; j < m; j++) {
    const d = a[oa + j] - b[ob + j];
    s += d * d;
  }
  return s / m;
}

/** Cosine similarity of two rows; NaN if either has zero norm. */
export function cosineRow(a: ArrayLike<number>, b: ArrayLike<number>, m: number, ia = 0, ib = 0): number {
  const oa = ia * m;
  const ob = ib * m;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let j = 0; j < m; j++) {
    const x = a[oa + j];
    const y = b[ob + j];
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  if (aa === 0 || bb === 0) return NaN;
  return ab / Math.sqrt(aa * bb);
}

/** Pearson correlation of two rows; NaN if either is constant. Two-pass for stability. */
export function pearsonRow(a: ArrayLike<number>, b: ArrayLike<number>, m: number, ia = 0, ib = 0): number {
  const oa = ia * m;
  const ob = ib * m;
  let ma = 0;
  let mb = 0;
  // Exactly constant rows are detected directly: the rounded mean of equal values may differ
  // from them by an ulp and leave a spurious tiny variance.
  let varyA = false;
  let varyB = false;
  const a0 = a[oa];
  const b0 = b[ob];
  for (let j = 0; j < m; j++) {
    ma += a[oa + j];
    mb += b[ob + j];
    if (a[oa + j] !== a0) varyA = true;
    if (b[ob + j] !== b0) varyB = true;
  }
  if (!varyA || !varyB) return NaN;
  ma /= m;
  mb /= m;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let j = 0; j < m; j++) {
    const x = a[oa + j] - ma;
    const y = b[ob + j] - mb;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  if (aa === 0 || bb === 0) return NaN;
  return ab / Math.sqrt(aa * bb);
}

/** Reusable buffers for `spearmanRow` (ranks need sorting); make one per loop, not per row. */
export interface RankScratch {
  order: Uint32Array;
  ranksA: Float64Array;
  ranksB: Float64Array;
}

export function createRankScratch(m: number): RankScratch {
  return { order: new Uint32Array(m), ranksA: new Float64Array(m), ranksB: new Float64Array(m) };
}

/** Average ranks (1-based, ties share the mean of their positions) of row `i` into `out`. */
export function averageRanks(
  v: ArrayLike<number>,
  m: number,
  i: number,
  out: Float64Array,
  order: Uint32Array,
): Float64Array {
  const o = i * m;
  for (let j = 0; j < m; j++) order[j] = j;
  // Sort indices by value; typed-array sort with a comparator does not allocate per element.
  order.sort((p, q) => v[o + p] - v[o + q]);
  let j = 0;
  while (j < m) {
    let k = j + 1;
    const x = v[o + order[j]];
    while (k < m && v[o + order[k]] === x) k++;
    const r = (j + 1 + k) / 2; // mean of ranks j+1 .. k
    for (let t = j; t < k; t++) out[order[t]] = r;
    j = k;
  }
  return out;
}

/** Spearman rank correlation (average ranks for ties); NaN if either row is constant. */
export function spearmanRow(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  ia = 0,
  ib = 0,
  scratch: RankScratch = createRankScratch(m),
): number {
  averageRanks(a, m, ia, scratch.ranksA, scratch.order);
  averageRanks(b, m, ib, scratch.ranksB, scratch.order);
  return pearsonRow(scratch.ranksA, scratch.ranksB, m);
}

/**
 * Position of the main peak of row `i`: argmax refined by the vertex of the parabola through
 * (x[k-1], y[k-1]), (x[k], y[k]), (x[k+1], y[k+1]). Works for non-uniform meshes.
 */
export function mainPeakPosition(y: ArrayLike<number>, x: ArrayLike<number>, m: number, i = 0): number {
  const o = i * m;
  let k = 0;
  let best = y[o];
  for (let j = 1; j < m; j++) {
    if (y[o + j] > best) {
      best = y[o + j];
      k = j;
    }
  }
  return refinePeak(y, x, o, k, m);
}

function refinePeak(y: ArrayLike<number>, x: ArrayLike<number>, o: number, k: number, m: number): number {
  if (k === 0 || k === m - 1) return x[k];
  const x0 = x[k - 1];
  const x1 = x[k];
  const x2 = x[k + 1];
  const y0 = y[o + k - 1];
  const y1 = y[o + k];
  const y2 = y[o + k + 1];
  // Vertex of the interpolating parabola (Lagrange form), guarded against a flat top.
  const d1 = (x1 - x0) * (y1 - y2);
  const d2 = (x1 - x2) * (y1 - y0);
  const den = d1 - d2;
  if (den === 0) return x1;
  const v = x1 - 0.5 * ((x1 - x0) * d1 - (x1 - x2) * d2) / den;
  // The vertex of a parabola through a discrete maximum stays within its neighbours.
  return v < x0 ? x0 : v > x2 ? x2 : v;
}

/**
 * Positions (sorted by energy) of up to `maxPeaks` most prominent local maxima of row `i` whose
 * prominence is at least `minProminence` × (max − min). Each position is parabola-refined.
 */
export function prominentPeaks(
  y: ArrayLike<number>,
  x: ArrayLike<number>,
  m: number,
  i = 0,
  minProminence = 0.05,
  maxPeaks = 3,
): number[] {
  const o = i * m;
  let lo = Infinity;
  let hi = -Infinity;
  for (let j = 0; j < m; j++) {
    const v = y[o + j];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = hi - lo;
  if (!(range > 0)) return [];
  const found: { k: number; prom: number }[] = [];
  for (let j = 1; j < m - 1; j++) {
    const v = y[o + j];
    // Plateaus: count the left edge of a flat top as the peak.
    if (!(v > y[o + j - 1] && v >= y[o + j + 1])) continue;
    let leftMin = v;
    for (let t = j - 1; t >= 0; t--) {
      const w = y[o + t];
      if (w > v) break;
      if (w < leftMin) leftMin = w;
    }
    let rightMin = v;
    for (let t = j + 1; t < m; t++) {
      const w = y[o + t];
      if (w > v) break;
      if (w < rightMin) rightMin = w;
    }
    const prom = v - Math.max(leftMin, rightMin);
    if (prom >= minProminence * range) found.push({ k: j, prom });
  }
  found.sort((p, q) => q.prom - p.prom);
  return found
    .slice(0, maxPeaks)
    .sort((p, q) => p.k - q.k)
    .map((p) => refinePeak(y, x, o, p.k, m));
}

/**
 * Position of the lowest-energy prominent peak of every row of Y (N × m): the first entry of
 * `prominentPeaks` (NaN when a row has none). For Cu K spectra this is the first resolved
 * feature after the edge, which the main-peak (argmax) parity does not see.
 */
export function firstPeakPositions(Y: ArrayLike<number>, energy: ArrayLike<number>, minProminence = 0.05): Float64Array {
  const m = energy.length;
  const n = Y.length / m;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = prominentPeaks(Y, energy, m, i, minProminence, 8);
    out[i] = p.length ? p[0] : NaN;
  }
  return out;
}

/** Per-spectrum metrics of a test set, one Float64Array column per metric (length N). */
export interface SpectrumMetrics {
  mse: Float64Array;
  cosine: Float64Array;
  pearson: Float64Array;
  spearman: Float64Array;
  /** Main-peak position of the truth and the prediction (eV on the mesh). */
  peakTrue: Float64Array;
  peakPred: Float64Array;
  /** |peakPred − peakTrue|, eV. */
  peakAbsError: Float64Array;
}

export const METRIC_NAMES = ["mse", "cosine", "pearson", "spearman", "peakAbsError"] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/**
 * Metrics of every row of `pred` against the same row of `truth` (both N × m, row-major).
 * `energy` is the common mesh (length m).
 */
export function evaluateSpectra(
  pred: ArrayLike<number>,
  truth: ArrayLike<number>,
  energy: ArrayLike<number>,
): SpectrumMetrics {
  const m = energy.length;
  if (m === 0) throw new Error("evaluateSpectra: empty energy mesh");
  if (pred.length !== truth.length || truth.length % m !== 0) {
    throw new Error(
      `evaluateSpectra: pred (${pred.length}) and truth (${truth.length}) must both be N × ${m} (energy mesh length)`,
    );
  }
  const n = truth.length / m;
  const out: SpectrumMetrics = {
    mse: new Float64Array(n),
    cosine: new Float64Array(n),
    pearson: new Float64Array(n),
    spearman: new Float64Array(n),
    peakTrue: new Float64Array(n),
    peakPred: new Float64Array(n),
    peakAbsError: new Float64Array(n),
  };
  const scratch = createRankScratch(m);
  for (let i = 0; i < n; i++) {
    out.mse[i] = mseRow(pred, truth, m, i, i);
    out.cosine[i] = cosineRow(pred, truth, m, i, i);
    out.pearson[i] = pearsonRow(pred, truth, m, i, i);
    out.spearman[i] = spearmanRow(pred, truth, m, i, i, scratch);
    out.peakTrue[i] = mainPeakPosition(truth, energy, m, i);
    out.peakPred[i] = mainPeakPosition(pred, energy, m, i);
    out.peakAbsError[i] = Math.abs(out.peakPred[i] - out.peakTrue[i]);
  }
  return out;
}

/** Summary statistics of one metric column; NaN entries are counted in `nNaN` and left out. */
export interface Summary {
  n: number;
  nNaN: number;
  mean: number;
  std: number;
  median: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
}

/** Linear-interpolated quantile of an ascending-sorted array (q in [0, 1]). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Mean and sample standard deviation (n − 1) of a few paired values (ensemble members, seeds).
 * Unlike `summarize`, NaN is not dropped: a NaN value makes mean and std NaN, so a missing run shows
 * up instead of being averaged away. One value: std is NaN (no spread can be measured); none: both NaN.
 */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += values[i];
  m /= n;
  if (n < 2) return { mean: m, std: NaN };
  let s = 0;
  for (let i = 0; i < n; i++) s += (values[i] - m) ** 2;
  return { mean: m, std: Math.sqrt(s / (n - 1)) };
}

export function summarize(values: ArrayLike<number>): Summary {
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite.push(values[i]);
  const sorted = Float64Array.from(finite).sort();
  const n = sorted.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += sorted[i];
  mean = n ? mean / n : NaN;
  let v = 0;
  for (let i = 0; i < n; i++) v += (sorted[i] - mean) ** 2;
  return {
    n,
    nNaN: values.length - n,
    mean,
    std: n > 1 ? Math.sqrt(v / (n - 1)) : n === 1 ? 0 : NaN,
    median: quantileSorted(sorted, 0.5),
    p10: quantileSorted(sorted, 0.1),
    p90: quantileSorted(sorted, 0.9),
    min: n ? sorted[0] : NaN,
    max: n ? sorted[n - 1] : NaN,
  };
}

/** Summaries of every metric of a test set. */
export function summarizeMetrics(metrics: SpectrumMetrics): Record<MetricName, Summary> {
  const out = {} as Record<MetricName, Summary>;
  for (const name of METRIC_NAMES) out[name] = summarize(metrics[name]);
  return out;
}

/** Thresholds reported for "shape reproduced"; the study does not give its criterion. */
export const SHAPE_THRESHOLDS: readonly number[] = [0.8, 0.9, 0.95, 0.99];

/**
 * Default "shape reproduced" criterion: Pearson ≥ 0.95. Pearson ignores the absolute scale and
 * offset of the spectrum (which the normalisation already fixes) and measures the overall shape;
 * cosine similarity of two positive spectra stays high even for clearly different shapes (the mean
 * training spectrum scores ≥ 0.99 cosine on most Cu K test spectra), so it separates models less.
 * 0.95 is a judgement, not the study's (unpublished) criterion: fractions at every threshold are
 * reported alongside so the choice can be checked.
 */
export const DEFAULT_SHAPE_CRITERION = { metric: "pearson" as const, threshold: 0.95 };

/** Fraction of rows with `values[i] >= t` for each threshold (NaN counts as not reproduced). */
export function fractionAbove(values: ArrayLike<number>, thresholds: readonly number[] = SHAPE_THRESHOLDS): Record<string, number> {
  const out: Record<string, number> = {};
  const n = values.length;
  for (const t of thresholds) {
    let c = 0;
    for (let i = 0; i < n; i++) if (values[i] >= t) c++;
    out[String(t)] = n ? c / n : NaN;
  }
  return out;
}

/** "Shape reproduced" fractions for Pearson and cosine at each threshold. */
export function shapeReproduced(
  metrics: Pick<SpectrumMetrics, "pearson" | "cosine">,
  thresholds: readonly number[] = SHAPE_THRESHOLDS,
): { pearson: Record<string, number>; cosine: Record<string, number>; default: { metric: string; threshold: number; fraction: number } } {
  const pearson = fractionAbove(metrics.pearson, thresholds);
  const cosine = fractionAbove(metrics.cosine, thresholds);
  const d = DEFAULT_SHAPE_CRITERION;
  return {
    pearson,
    cosine,
    default: { metric: d.metric, threshold: d.threshold, fraction: fractionAbove(metrics[d.metric], [d.threshold])[String(d.threshold)] },
  };
}
