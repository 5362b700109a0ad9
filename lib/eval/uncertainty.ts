/**
 * Uncertainty from an ensemble: the members' spread as a per-point band, its scale calibrated on
 * validation rows, and the checks a user needs (coverage of the 1σ/2σ bands, and whether the
 * per-spectrum uncertainty ranks the actual errors).
 *
 * Band model: σ_ij = sqrt((a·s_ij)² + b²), s_ij the members' standard deviation at point j of spectrum i
 * (population, over members). a rescales the spread (an ensemble of a few seeds is over-confident:
 * its members share data and architecture); b is a floor for points where the members agree but
 * the data are noisy. (a, b) maximise the Gaussian log-likelihood of the validation residuals —
 * a proper scoring rule, so neither parameter is tuned to one coverage level.
 * Per-spectrum uncertainty u_i = sqrt(mean_j σ_ij²): the RMSE the band predicts for spectrum i.
 */
import { pearsonRow, spearmanRow } from "./metrics";

/** Fraction of a normal distribution within ±1σ and ±2σ. */
export const NOMINAL_COVERAGE = { one: 0.6827, two: 0.9545 } as const;

/** Mean and population standard deviation over members; each member n × M row-major. */
export function ensembleMeanStd(members: readonly Float32Array[]): { mean: Float32Array; std: Float32Array } {
  if (members.length === 0) throw new RangeError("ensembleMeanStd: no members");
  const L = members[0].length;
  for (const m of members) if (m.length !== L) throw new RangeError(`ensembleMeanStd: member lengths differ (${m.length} vs ${L})`);
  const mean = new Float32Array(L);
  const std = new Float32Array(L);
  const k = members.length;
  for (let i = 0; i < L; i++) {
    let s = 0;
    for (let e = 0; e < k; e++) s += members[e][i];
    const mu = s / k;
    let v = 0;
    for (let e = 0; e < k; e++) v += (members[e][i] - mu) ** 2;
    mean[i] = mu;
    std[i] = Math.sqrt(v / k);
  }
  return { mean, std };
}

export interface BandCalibration {
  /** Multiplier of the members' spread. */
  readonly scale: number;
  /** Floor added in quadrature, in target units. */
  readonly floor: number;
  /** Mean Gaussian negative log-likelihood per point on the calibration rows, at (scale, floor). */
  readonly nll: number;
  /** Points the calibration used. */
  readonly points: number;
}

/** σ = sqrt((scale·spread)² + floor²), element-wise. */
export function calibratedSigma(spread: ArrayLike<number>, cal: Pick<BandCalibration, "scale" | "floor">): Float32Array {
  const out = new Float32Array(spread.length);
  const a2 = cal.scale * cal.scale;
  const b2 = cal.floor * cal.floor;
  for (let i = 0; i < spread.length; i++) out[i] = Math.sqrt(a2 * spread[i] * spread[i] + b2);
  return out;
}

/** Squared residuals and spreads of the calibration points, with their means; lengths checked. */
function squares(mean: ArrayLike<number>, spread: ArrayLike<number>, truth: ArrayLike<number>, where: string) {
  const L = truth.length;
  if (mean.length !== L || spread.length !== L || L === 0) throw new RangeError(`${where}: lengths ${mean.length}, ${spread.length}, ${L} must be equal and > 0`);
  const r2 = new Float64Array(L);
  const s2 = new Float64Array(L);
  let ms2 = 0;
  let mr2 = 0;
  let zeroSpread = false;
  for (let i = 0; i < L; i++) {
    r2[i] = (truth[i] - mean[i]) ** 2;
    s2[i] = spread[i] * spread[i];
    if (s2[i] === 0) zeroSpread = true;
    ms2 += s2[i];
    mr2 += r2[i];
  }
  return { L, r2, s2, ms2: ms2 / L, mr2: mr2 / L, zeroSpread };
}

/**
 * With v = c·(s² + β) (c = a², β = b²/a²), the best c for a given β is closed-form,
 * c = mean(r² / (s² + β)), so only β is searched. Returns that c and the mean NLL there.
 */
function profileNll(r2: Float64Array, s2: Float64Array, beta: number): { c: number; nll: number } {
  const L = r2.length;
  let q = 0;
  let logs = 0;
  for (let i = 0; i < L; i++) {
    const d = s2[i] + beta;
    q += r2[i] / d;
    logs += Math.log(d);
  }
  const c = q / L;
  // mean of ½(log 2πv + r²/v) with v = c·d is ½(log 2π + log c + mean log d + 1)
  return { c, nll: 0.5 * (Math.log(2 * Math.PI) + Math.log(c) + logs / L + 1) };
}

/**
 * (scale, floor) maximising the Gaussian likelihood of truth given mean ± σ on the calibration rows.
 * The scale is closed-form for each ratio β = floor²/scale²; β is searched on a log grid (0 and
 * 1e-6–1e3 × the mean squared spread), then refined between the neighbours of the best grid value.
 * Inputs are the ensemble mean and spread on those rows and the truth (same length).
 */
export function calibrateBand(mean: ArrayLike<number>, spread: ArrayLike<number>, truth: ArrayLike<number>): BandCalibration {
  const { L, r2, s2, ms2, mr2, zeroSpread } = squares(mean, spread, truth, "calibrateBand");
  if (!(mr2 > 0)) throw new RangeError("calibrateBand: the ensemble mean equals the truth everywhere (nothing to calibrate)");
  // all members identical: only a floor is possible
  if (!(ms2 > 0)) return { scale: 0, floor: Math.sqrt(mr2), nll: 0.5 * (Math.log(2 * Math.PI * mr2) + 1), points: L };
  // β = 0 is only a candidate when no point has zero spread (else its variance would be 0)
  const grid = [...(zeroSpread ? [] : [0]), ...Array.from({ length: 91 }, (_, k) => ms2 * 10 ** (-6 + k / 10))];
  let bestK = 0;
  let best = { c: NaN, nll: Infinity };
  grid.forEach((beta, k) => {
    const p = profileNll(r2, s2, beta);
    if (p.nll < best.nll) {
      best = p;
      bestK = k;
    }
  });
  let bestBeta = grid[bestK];
  const lo = grid[Math.max(zeroSpread ? 0 : 1, bestK - 1)];
  const hi = grid[Math.min(grid.length - 1, bestK + 1)];
  for (let t = 0; t <= 40; t++) {
    const beta = lo * (hi / lo) ** (t / 40);
    const p = profileNll(r2, s2, beta);
    if (p.nll < best.nll) {
      best = p;
      bestBeta = beta;
    }
  }
  const scale = Math.sqrt(best.c);
  return { scale, floor: scale * Math.sqrt(bestBeta), nll: best.nll, points: L };
}

/**
 * (scale, floor) that bring the calibration rows' 1σ and 2σ coverages closest to nominal (smallest
 * worst deviation) — for residuals with heavier tails than a Gaussian, where the likelihood fit
 * (calibrateBand) widens the core of the band to cover the tails. For a floor ratio β, point i is
 * inside k·σ iff t_i = r_i²/(s_i² + β) ≤ k²·c; both coverages rise with c, so c is scanned between
 * the value giving nominal 1σ and the one giving nominal 2σ; β on the same grid as calibrateBand.
 */
export function calibrateBandCoverage(mean: ArrayLike<number>, spread: ArrayLike<number>, truth: ArrayLike<number>): BandCalibration {
  const q = squares(mean, spread, truth, "calibrateBandCoverage");
  const { L, r2, s2 } = q;
  const ms2 = q.ms2 || 1e-30;
  const t = new Float64Array(L);
  // fraction of sorted values ≤ x
  const frac = (sorted: Float64Array, x: number) => {
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo / sorted.length;
  };
  const quantile = (sorted: Float64Array, q: number) => sorted[Math.min(L - 1, Math.max(0, Math.ceil(q * L) - 1))];
  let best = { worst: Infinity, c: 1, beta: 0 };
  for (let k = 0; k <= 91; k++) {
    const beta = k === 0 ? 1e-30 * ms2 : ms2 * 10 ** (-6 + (k - 1) / 10);
    for (let i = 0; i < L; i++) t[i] = r2[i] / (s2[i] + beta);
    const sorted = Float64Array.from(t).sort();
    const cOne = quantile(sorted, NOMINAL_COVERAGE.one);
    const cTwo = quantile(sorted, NOMINAL_COVERAGE.two) / 4;
    const lo = Math.min(cOne, cTwo), hi = Math.max(cOne, cTwo);
    for (let j = 0; j <= 100; j++) {
      const c = lo > 0 ? lo * (hi / lo) ** (j / 100) : lo + ((hi - lo) * j) / 100;
      if (!(c > 0)) continue;
      const worst = Math.max(Math.abs(frac(sorted, c) - NOMINAL_COVERAGE.one), Math.abs(frac(sorted, 4 * c) - NOMINAL_COVERAGE.two));
      if (worst < best.worst) best = { worst, c, beta };
    }
  }
  const scale = Math.sqrt(best.c);
  // No spread at all (one member, or no dropout): the band is the floor alone, as in calibrateBand.
  const cal = ms2 > 1e-30 ? { scale, floor: scale * Math.sqrt(best.beta) } : { scale: 0, floor: scale * Math.sqrt(best.beta) };
  const sig = calibratedSigma(spread, cal);
  let nll = 0;
  for (let i = 0; i < L; i++) nll += 0.5 * (Math.log(2 * Math.PI * sig[i] * sig[i]) + r2[i] / (sig[i] * sig[i]));
  return { ...cal, nll: nll / L, points: L };
}

/** Fraction of points with |truth − mean| ≤ k·σ. */
export function bandCoverage(mean: ArrayLike<number>, sigma: ArrayLike<number>, truth: ArrayLike<number>, k: number): number {
  let inside = 0;
  for (let i = 0; i < truth.length; i++) if (Math.abs(truth[i] - mean[i]) <= k * sigma[i]) inside++;
  return inside / truth.length;
}

/** Per spectrum: sqrt(mean over its M points of σ²), the RMSE the band predicts. */
export function spectrumUncertainty(sigma: ArrayLike<number>, M: number): Float64Array {
  const n = sigma.length / M;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * M; j < (i + 1) * M; j++) s += sigma[j] * sigma[j];
    out[i] = Math.sqrt(s / M);
  }
  return out;
}

/** Per spectrum RMSE of mean against truth. */
export function spectrumRmse(mean: ArrayLike<number>, truth: ArrayLike<number>, M: number): Float64Array {
  const n = truth.length / M;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * M; j < (i + 1) * M; j++) s += (mean[j] - truth[j]) ** 2;
    out[i] = Math.sqrt(s / M);
  }
  return out;
}

export interface UncertaintyReport {
  readonly n: number;
  /** Fraction of points inside mean ± 1σ (nominal 0.6827) and ± 2σ (nominal 0.9545). */
  readonly coverage1: number;
  readonly coverage2: number;
  /** Spearman rank correlation between per-spectrum uncertainty and per-spectrum RMSE. */
  readonly spearmanUncertaintyError: number;
  /** Pearson correlation of log uncertainty and log RMSE. */
  readonly pearsonLogUncertaintyError: number;
  /** Mean predicted / mean actual per-spectrum RMSE (1: right on average). */
  readonly meanUncertaintyOverRmse: number;
}


/** Coverage and error–uncertainty correlation of a calibrated band on rows never used to calibrate it. */
export function uncertaintyReport(mean: ArrayLike<number>, sigma: ArrayLike<number>, truth: ArrayLike<number>, M: number): UncertaintyReport {
  const u = spectrumUncertainty(sigma, M);
  const e = spectrumRmse(mean, truth, M);
  const n = u.length;
  const lu = u.map((x) => Math.log(x)), le = e.map((x) => Math.log(Math.max(x, 1e-300)));
  let su = 0, se = 0;
  for (let i = 0; i < n; i++) {
    su += u[i];
    se += e[i];
  }
  return {
    n,
    coverage1: bandCoverage(mean, sigma, truth, 1),
    coverage2: bandCoverage(mean, sigma, truth, 2),
    spearmanUncertaintyError: spearmanRow(u, e, n),
    pearsonLogUncertaintyError: pearsonRow(lu, le, n),
    meanUncertaintyOverRmse: su / se,
  };
}

/** A band calibration chosen on validation rows, with the validation coverages that chose it. */
export interface BandCandidate {
  /** "nll" (calibrateBand) or "coverage" (calibrateBandCoverage). */
  readonly method: "nll" | "coverage";
  readonly calibration: BandCalibration;
  readonly val: { readonly coverage1: number; readonly coverage2: number; readonly worstDeviation: number };
}

/** The chosen calibration, and every one that was tried (for reports). */
export interface ChosenBand extends BandCandidate {
  readonly candidates: readonly BandCandidate[];
}

/**
 * Both calibrations fitted on the validation rows; the one whose worse validation coverage (1σ or
 * 2σ) is closer to nominal is returned. Test rows never take part.
 */
export function chooseBandOnValidation(mean: ArrayLike<number>, spread: ArrayLike<number>, truth: ArrayLike<number>): ChosenBand {
  const candidates: BandCandidate[] = ([["nll", calibrateBand], ["coverage", calibrateBandCoverage]] as const).map(([method, fit]) => {
    const calibration = fit(mean, spread, truth);
    const sigma = calibratedSigma(spread, calibration);
    const coverage1 = bandCoverage(mean, sigma, truth, 1);
    const coverage2 = bandCoverage(mean, sigma, truth, 2);
    const worstDeviation = Math.max(Math.abs(coverage1 - NOMINAL_COVERAGE.one), Math.abs(coverage2 - NOMINAL_COVERAGE.two));
    return { method, calibration, val: { coverage1, coverage2, worstDeviation } };
  });
  const best = candidates.reduce((a, b) => (b.val.worstDeviation < a.val.worstDeviation ? b : a));
  return { ...best, candidates };
}
