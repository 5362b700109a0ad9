/**
 * Put a target spectrum on the model's mesh and fit an energy shift between target and prediction.
 *
 * Convention: a shift δ means the target's features sit δ eV above the model's, i.e. the target is
 * compared as T(E + δ) for E on the mesh. Computed FEFF energies and measured ones differ by a few eV
 * (core-hole treatment, calibration), so δ is fitted per candidate within ±window.
 *
 * Method: the target is interpolated at mesh + δ_k for a grid of shifts (δ_k = k·step, |δ_k| ≤ window,
 * default step = mesh step / 4) and normalised like the training spectra — once per target, so the
 * per-candidate cost is one dot product per shift. Every metric reduces to such a dot product with a
 * precomputed per-shift vector:
 *   mse(p, t)      = (|p|² − 2 p·t + |t|²) / M
 *   cosine(p, t)   = p·t / (|p| |t|)
 *   pearson(p, t)  = p·t_c / (|p_c| |t_c|)          (t_c centred, so Σ p_i t_c,i = Σ p_c,i t_c,i)
 *   spearman(p, t) = pearson(rank p, rank t)        (ranks of t precomputed per shift)
 * The best grid shift is refined by the vertex of the parabola through it and its two neighbours
 * (clamped to ± one grid step; the score curve is smooth on a grid 4× finer than the mesh), and the
 * score is recomputed exactly there with lib/eval's metric; if the refined point scores worse than the
 * grid point (a kinked curve), the grid point is kept. A shift at the window edge is flagged (`atEdge`):
 * the optimum may lie outside the window.
 */
import { InputError } from "../util/errors";
import { EnergyMesh, meshEnergies, meshStop, normaliseInPlace, Normalisation, resampleLinear } from "../spectra/mesh";
import { averageRanks, cosineRow, mseRow, pearsonRow, spearmanRow, createRankScratch, RankScratch } from "../eval/metrics";
import type { TargetSpectrum } from "./target";
import type { ScreeningMetric } from "./types";

export interface PrepareTargetOptions {
  /** Normalisation of the training spectra (the dataset's), applied to every shifted target. */
  normalisation: Normalisation;
  /** Half-width of the shift search, eV. 0 disables shift fitting. Default 5. */
  window?: number;
  /** Shift grid step, eV. Default mesh.step / 4. */
  step?: number;
  /** Smallest fraction of the mesh the target must cover at zero shift. Default 0.5. */
  minCoverage?: number;
}

/** A target resampled and normalised on the model mesh at every trial shift. */
export interface PreparedTarget {
  readonly target: TargetSpectrum;
  readonly mesh: EnergyMesh;
  /** Mesh energies (length M). */
  readonly energy: Float64Array;
  readonly normalisation: Normalisation;
  readonly window: number;
  /** Trial shifts δ_k, ascending, eV (length K; [0] when shift fitting is off). */
  readonly shifts: Float64Array;
  /** Target at each trial shift, normalised: row k = T(mesh + δ_k), K × M. */
  readonly spectra: Float64Array;
  /** Fraction of the mesh inside the target's energy range at zero shift; outside, end values are held. */
  readonly coverage: number;
}

function coverageAt(x: Float64Array, mesh: EnergyMesh, shift: number): number {
  const lo = Math.max(mesh.start, x[0] - shift);
  const hi = Math.min(meshStop(mesh), x[x.length - 1] - shift);
  const width = meshStop(mesh) - mesh.start;
  return hi > lo ? (hi - lo) / width : 0;
}

/**
 * Interpolate the target at mesh + δ into `out` and normalise it. End values are held outside the
 * target's range (a measured file normally spans the XANES window; `coverage` reports when not).
 */
export function targetOnMesh(target: TargetSpectrum, mesh: EnergyMesh, normalisation: Normalisation, shift: number, out: Float64Array): boolean {
  resampleLinear(target.energy, target.intensity, mesh, out, shift, true);
  return normaliseInPlace(out, normalisation, mesh.step, mesh.start);
}

/**
 * The equally spaced mesh of a model's output energies (a saved model stores the energies, not the
 * mesh). Throws if the spacing is not uniform. `relative`: edge-relative energies (from the model's
 * metadata; only used in messages and axis labels).
 */
export function meshOfEnergies(energy: ArrayLike<number>, relative = false): EnergyMesh {
  const n = energy.length;
  if (n < 2) throw new Error(`model mesh has ${n} points`);
  const step = (energy[n - 1] - energy[0]) / (n - 1);
  for (let i = 1; i < n; i++) {
    if (Math.abs(energy[i] - energy[0] - i * step) > 1e-6 * Math.max(1, step)) throw new Error(`model mesh is not equally spaced at point ${i} (${energy[i]} eV)`);
  }
  return { start: energy[0], step, points: n, relative };
}

/** Resample a target onto the model mesh at every trial shift; InputError if it misses the mesh. */
export function prepareTarget(target: TargetSpectrum, mesh: EnergyMesh, opts: PrepareTargetOptions): PreparedTarget {
  const window = opts.window ?? 5;
  const step = opts.step ?? mesh.step / 4;
  if (!(window >= 0) || !(step > 0)) throw new InputError(`shift window ${window} / step ${step} must be ≥ 0 / > 0`);
  const minCoverage = opts.minCoverage ?? 0.5;
  const x = target.energy;
  const coverage = coverageAt(x, mesh, 0);
  if (coverage < minCoverage) {
    const hint = mesh.relative ? " (the model mesh is edge-relative)" : " (the model mesh is absolute photon energy; is the file edge-relative?)";
    throw new InputError(
      `${target.source}: energies ${x[0]}–${x[x.length - 1]} eV cover ${(coverage * 100).toFixed(0)}% of the model mesh ` +
        `${mesh.start}–${meshStop(mesh)} eV; at least ${(minCoverage * 100).toFixed(0)}% is needed${hint}`,
    );
  }
  const nHalf = window > 0 ? Math.floor(window / step + 1e-9) : 0;
  const k = 2 * nHalf + 1;
  const m = mesh.points;
  const shifts = new Float64Array(k);
  const spectra = new Float64Array(k * m);
  for (let i = 0; i < k; i++) {
    shifts[i] = (i - nHalf) * step;
    const row = spectra.subarray(i * m, (i + 1) * m);
    if (!targetOnMesh(target, mesh, opts.normalisation, shifts[i], row)) {
      throw new InputError(`${target.source}: cannot apply "${opts.normalisation}" normalisation at shift ${shifts[i]} eV (flat or non-positive spectrum on the mesh)`);
    }
  }
  return { target, mesh, energy: meshEnergies(mesh), normalisation: opts.normalisation, window, shifts, spectra, coverage };
}

/** Best shift and score of one predicted spectrum against a prepared target. */
export interface ShiftFit {
  /** Metric value at the fitted shift (lower is better for "mse", higher otherwise). */
  score: number;
  /** Fitted shift, eV (target compared as T(E + shift)). */
  shift: number;
  /** True when the best grid shift is at ±window (the optimum may lie outside). */
  atEdge: boolean;
}

export function metricHigherIsBetter(metric: ScreeningMetric): boolean {
  return metric !== "mse";
}

/**
 * Scores predicted spectra against a prepared target for one metric over every trial shift.
 * Holds its scratch buffers: create one per target and metric, reuse it for every candidate.
 */
export class ShiftScorer {
  readonly metric: ScreeningMetric;
  readonly prepared: PreparedTarget;
  private readonly m: number;
  private readonly k: number;
  /** Per-shift vectors u_k (K × M) and scalars c_k such that the score is a function of p·u_k. */
  private readonly u: Float64Array;
  private readonly c: Float64Array;
  private readonly scores: Float64Array;
  private readonly ranks: Float64Array;
  private readonly pbuf: Float64Array;
  private norm = 0;
  /** Coarse-pass stride over the trial shifts (1 = exhaustive). */
  coarseStride: number;
  private readonly rankScratch: RankScratch;
  private readonly exact: Float64Array;

  constructor(prepared: PreparedTarget, metric: ScreeningMetric, opts: { coarseStride?: number } = {}) {
    this.metric = metric;
    // Default: the coarse pass steps by one mesh step.
    this.coarseStride = opts.coarseStride ?? Math.max(1, Math.round(prepared.mesh.step / (prepared.shifts.length > 1 ? prepared.shifts[1] - prepared.shifts[0] : prepared.mesh.step)));
    this.prepared = prepared;
    const m = (this.m = prepared.mesh.points);
    const k = (this.k = prepared.shifts.length);
    this.u = new Float64Array(k * m);
    this.c = new Float64Array(k);
    this.scores = new Float64Array(k);
    this.ranks = new Float64Array(m);
    this.pbuf = new Float64Array(m);
    this.rankScratch = createRankScratch(m);
    this.exact = new Float64Array(m);
    const t = prepared.spectra;
    for (let i = 0; i < k; i++) {
      const o = i * m;
      if (metric === "mse") {
        let s = 0;
        for (let j = 0; j < m; j++) {
          this.u[o + j] = t[o + j];
          s += t[o + j] * t[o + j];
        }
        this.c[i] = s;
        continue;
      }
      const src = metric === "spearman" ? averageRanks(t, m, i, this.ranks, this.rankScratch.order) : t.subarray(o, o + m);
      let mean = 0;
      if (metric !== "cosine") {
        for (let j = 0; j < m; j++) mean += src[j];
        mean /= m;
      }
      let nn = 0;
      for (let j = 0; j < m; j++) {
        const v = src[j] - mean;
        this.u[o + j] = v;
        nn += v * v;
      }
      // A flat shifted target has no shape: every candidate scores NaN there (never chosen).
      const inv = nn > 0 ? 1 / Math.sqrt(nn) : NaN;
      for (let j = 0; j < m; j++) this.u[o + j] *= inv;
    }
  }

  /** Load row `row` of `pred` into the scratch buffer (ranked for Spearman) and its norm. */
  private loadRow(pred: ArrayLike<number>, row: number): void {
    const m = this.m;
    // A Float64Array copy keeps the hot loop in dotAt monomorphic whatever the caller passes.
    const p = this.pbuf;
    if (this.metric === "spearman") averageRanks(pred, m, row, p, this.rankScratch.order);
    else for (let j = 0, o = row * m; j < m; j++) p[j] = pred[o + j];
    // Norm of p (cosine, mse) or of its centred version (pearson, spearman).
    let mean = 0;
    if (this.metric === "pearson" || this.metric === "spearman") {
      for (let j = 0; j < m; j++) mean += p[j];
      mean /= m;
    }
    let norm = 0;
    for (let j = 0; j < m; j++) {
      const v = p[j] - mean;
      norm += v * v;
    }
    this.norm = norm;
  }

  /** Score of the loaded row at trial shift i. */
  private scoreAt(i: number): number {
    const m = this.m;
    const p = this.pbuf;
    const u = this.u;
    const o = i * m;
    const m4 = m - (m % 4);
    // Four partial sums: independent multiply-adds pipeline better than one dependent chain.
    let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
    let j = 0;
    for (; j < m4; j += 4) {
      d0 += p[j] * u[o + j];
      d1 += p[j + 1] * u[o + j + 1];
      d2 += p[j + 2] * u[o + j + 2];
      d3 += p[j + 3] * u[o + j + 3];
    }
    for (; j < m; j++) d0 += p[j] * u[o + j];
    const dot = d0 + d1 + d2 + d3;
    if (this.metric === "mse") return (this.norm - 2 * dot + this.c[i]) / m;
    return this.norm > 0 ? dot / Math.sqrt(this.norm) : NaN;
  }

  /** Scores of row `row` of `pred` (rows of length M) at every trial shift, into the returned scratch array. */
  scoreAllShifts(pred: ArrayLike<number>, row = 0): Float64Array {
    this.loadRow(pred, row);
    for (let i = 0; i < this.k; i++) this.scores[i] = this.scoreAt(i);
    return this.scores;
  }

  /** Metric of row `row` of `pred` against the target at an arbitrary shift (exact, lib/eval). */
  scoreAtShift(pred: ArrayLike<number>, row: number, shift: number): number {
    const p = this.prepared;
    targetOnMesh(p.target, p.mesh, p.normalisation, shift, this.exact);
    return metricRow(this.metric, pred, this.exact, this.m, row, this.rankScratch);
  }

  /**
   * Best shift for row `row` of `pred`: coarse grid search (every `coarseStride`-th trial shift, i.e.
   * the mesh step with the default grid), the fine grid around the coarse optimum, then parabolic
   * refinement and an exact re-score. Spectral features are several eV wide, so the score varies
   * smoothly on the mesh-step scale and the coarse pass does not skip the optimum; this evaluates
   * about a third of the trial shifts.
   */
  fit(pred: ArrayLike<number>, row = 0): ShiftFit {
    this.loadRow(pred, row);
    const k = this.k;
    const s = this.scores;
    const sign = metricHigherIsBetter(this.metric) ? 1 : -1;
    const stride = Math.max(1, this.coarseStride);
    s.fill(NaN);
    let best = -1;
    let bestV = -Infinity;
    const visit = (i: number) => {
      if (!Number.isNaN(s[i])) return;
      s[i] = this.scoreAt(i);
      const v = sign * s[i];
      if (v > bestV) {
        bestV = v;
        best = i;
      }
    };
    const centre = (k - 1) >> 1;
    for (let i = centre % stride; i < k; i += stride) visit(i);
    if (best < 0) return { score: NaN, shift: 0, atEdge: false };
    const c = best;
    for (let i = Math.max(0, c - stride + 1); i <= Math.min(k - 1, c + stride - 1); i++) visit(i);
    // Ends of the grid may not lie on the coarse lattice: look at them when the optimum is near.
    if (c - stride < 0) visit(0);
    if (c + stride > k - 1) visit(k - 1);
    const shifts = this.prepared.shifts;
    const gridScore = s[best];
    if (best === 0 || best === k - 1) return { score: gridScore, shift: shifts[best], atEdge: k > 1 };
    visit(best - 1);
    visit(best + 1);
    if (s[best] !== gridScore) return this.fitFrom(pred, row); // a neighbour was better: rare, re-run fully
    const y0 = sign * s[best - 1];
    const y2 = sign * s[best + 1];
    const den = y0 - 2 * bestV + y2;
    if (!(den < 0)) return { score: gridScore, shift: shifts[best], atEdge: false };
    const h = shifts[best + 1] - shifts[best];
    let t = (0.5 * (y0 - y2)) / den;
    t = t < -1 ? -1 : t > 1 ? 1 : t;
    const shift = shifts[best] + t * h;
    const refined = this.scoreAtShift(pred, row, shift);
    if (!(sign * refined >= bestV)) return { score: gridScore, shift: shifts[best], atEdge: false };
    return { score: refined, shift, atEdge: false };
  }

  /** fit() over every trial shift (no coarse pass). */
  private fitFrom(pred: ArrayLike<number>, row: number): ShiftFit {
    const stride = this.coarseStride;
    this.coarseStride = 1;
    try {
      return this.fit(pred, row);
    } finally {
      this.coarseStride = stride;
    }
  }
}

/** One lib/eval metric between row `row` of `pred` and `truth` (length m). */
export function metricRow(metric: ScreeningMetric, pred: ArrayLike<number>, truth: ArrayLike<number>, m: number, row = 0, scratch?: RankScratch): number {
  switch (metric) {
    case "mse":
      return mseRow(pred, truth, m, row, 0);
    case "cosine":
      return cosineRow(pred, truth, m, row, 0);
    case "pearson":
      return pearsonRow(pred, truth, m, row, 0);
    case "spearman":
      return spearmanRow(pred, truth, m, row, 0, scratch);
  }
}
