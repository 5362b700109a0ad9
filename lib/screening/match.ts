/**
 * Matching computed spectra (FEFF runs or the model's predictions) to a measured spectrum.
 *
 * Both sides are edge-step normalised the same way (lib/spectra/normalize: Athena/larch `pre_edge`,
 * flattened): the measurement over its whole scan, the computed spectra with a zero pre-edge.
 * Then, on the model's mesh and inside a comparison window:
 *   - energy: the target is compared as T(E + offset + s): `offset` is the FEFF-vs-experiment offset of
 *     the element and edge, calibrated once from measured standards of known structure
 *     (`calibrateOffset`); s is a small per-candidate shift within ±shiftWindow;
 *   - broadening: the computed spectrum is convolved with a Gaussian of σ within [σmin, σmax]
 *     (and optionally a Lorentzian), since FEFF's broadening and the beamline's resolution differ;
 *   - score (higher is better): "pearson" (shape), "l2" (−RMS distance of the normalised spectra: uses
 *     the white-line height relative to the edge step), or "pearson+derivative" (mean of the Pearson
 *     correlations of the spectra and of their first derivatives, as spectrum-matching studies use).
 * (s, σ) are fitted per candidate on a grid; a fit on the border of the grid is flagged.
 */
import { InputError } from "../util/errors";
import { EnergyMesh, meshEnergies, meshStop, resampleLinear } from "../spectra/mesh";
import { BroadeningBank } from "../spectra/broaden";
import { preEdgeNormalize, PreEdgeResult, PreEdgeOptions } from "../spectra/normalize";
import { checkAlignment, type SpectralAlignment } from "../model/spectral";

export const MATCH_SCORES = ["pearson", "l2", "pearson+derivative"] as const;
export type MatchScore = (typeof MATCH_SCORES)[number];

export interface MatchOptions {
  score: MatchScore;
  /** Comparison window on the model's (computed) energy scale, eV; clipped to the mesh. */
  window: readonly [number, number];
  /** FEFF-vs-experiment offset, eV: the target is compared as T(E + offset + s). */
  offset: number;
  /** Half-width of the per-candidate shift s, eV. */
  shiftWindow: number;
  /** Grid step of s, eV. */
  shiftStep: number;
  /** Gaussian σ values tried, eV (ascending; first and last are the bounds). */
  sigmas: readonly number[];
  /** Lorentzian γ values tried, eV (default [0]: none). */
  gammas?: readonly number[];
  /**
   * Energy-scale stretch α of the target about its E0 (default 0): a feature measured at E is compared
   * at E0 + (E − E0)(1 + α). Why: above the edge, features sit at E − E0 ∝ 1/R² (Natoli's rule), and the
   * DFT (PBE) cells of the FEFF set have bonds ~1–2 % longer than measured, so FEFF puts them 2–4 % too
   * close to the edge; α < 0 compensates. Off by default (see lib/screening/README.md for what it does
   * to the ranks).
   */
  stretch?: number;
}

/**
 * Defaults of the CLI and the notebook, chosen by measurement (scripts/validate-measured.ts; see
 * lib/screening/README.md): score, window, shift and broadening bounds.
 */
export const DEFAULT_MATCH: Omit<MatchOptions, "offset"> = {
  score: "l2",
  window: [8990, 9120],
  shiftWindow: 1,
  shiftStep: 0.25,
  sigmas: [0],
  gammas: broadeningGrid(4, 0.25),
};

/** 0, step, 2·step, …, max (eV). */
export function broadeningGrid(max: number, step: number): number[] {
  return Array.from({ length: Math.round(max / step) + 1 }, (_, i) => i * step);
}

export const BROADENINGS = ["lorentzian", "gaussian", "both"] as const;
export type Broadening = (typeof BROADENINGS)[number];

/** σ and γ grids for a broadening kind, each 0…max eV ("both": a coarser 0.5 eV grid for each). */
export function broadeningOptions(kind: Broadening, max = 4): Pick<MatchOptions, "sigmas" | "gammas"> {
  if (kind === "gaussian") return { sigmas: broadeningGrid(max, 0.25), gammas: [0] };
  if (kind === "lorentzian") return { sigmas: [0], gammas: broadeningGrid(max, 0.25) };
  return { sigmas: broadeningGrid(max, 0.5), gammas: broadeningGrid(max, 0.5) };
}

/** A measured spectrum, edge-step normalised (flattened), ready for matching. */
export interface NormalisedTarget {
  readonly source: string;
  readonly energy: Float64Array;
  /** Flattened edge-step-normalised mu (larch `flat`). */
  readonly norm: Float64Array;
  readonly preEdge: PreEdgeResult;
}

/**
 * Refuse a spectrum too sparse to match: fewer than 20 points, or than one per 5 eV, within
 * [lo, hi] (measured energies). A 5-point "spectrum" over the whole window has no features.
 */
export function checkSampling(energy: ArrayLike<number>, source: string, lo: number, hi: number): void {
  let inside = 0;
  for (let i = 0; i < energy.length; i++) if (energy[i] >= lo && energy[i] <= hi) inside++;
  const need = Math.max(20, Math.ceil((hi - lo) / 5));
  if (inside === 0) {
    throw new InputError(`${source}: energies ${energy[0]}–${energy[energy.length - 1]} eV miss the XANES window ${lo.toFixed(1)}–${hi.toFixed(1)} eV of the model's edge (another element or edge, or edge-relative energies?)`);
  }
  if (inside < need) {
    throw new InputError(`${source}: only ${inside} points within ${lo.toFixed(1)}–${hi.toFixed(1)} eV, the XANES window to compare; at least ${need} are needed (one per 5 eV, and 20)`);
  }
}

/**
 * Normalise a measured spectrum as Athena does (see lib/spectra/normalize); errors name `source`.
 * With `window` (the comparison window on the computed scale), the sampling is checked first over
 * that window widened 20 eV downwards (FEFF-vs-experiment offsets are −3…−8 eV for Cu K).
 */
export function normaliseTarget(energy: Float64Array, mu: Float64Array, source: string, opts: PreEdgeOptions = {}, window?: readonly [number, number]): NormalisedTarget {
  if (window) checkSampling(energy, source, window[0] - 20, window[1]);
  const r = preEdgeNormalize(energy, mu, opts, source);
  return { source, energy, norm: r.flat, preEdge: r };
}

/** Normalise a computed spectrum (FEFF or similar: no background, so the pre-edge level is zero). */
export function normaliseComputed(energy: ArrayLike<number>, mu: ArrayLike<number>, source: string): Float64Array {
  return preEdgeNormalize(energy, mu, { preEdge: "zero" }, source).flat;
}

/** A target on the model's mesh at every trial shift, restricted to the comparison window. */
export interface PreparedMatch {
  readonly target: NormalisedTarget;
  readonly mesh: EnergyMesh;
  readonly options: MatchOptions;
  /** Mesh indices [i0, i1) of the comparison window. */
  readonly i0: number;
  readonly i1: number;
  /** Trial shifts s (not including the offset), ascending. */
  readonly shifts: Float64Array;
  /** K × W: target at mesh + offset + s_k over the window. */
  readonly rows: Float64Array;
  /** K × W: their centred, unit-norm versions (Pearson), and of their derivatives. */
  readonly unit: Float64Array;
  readonly unitDeriv: Float64Array;
}

function centreUnit(src: Float64Array, o: number, w: number, dst: Float64Array): void {
  let mean = 0;
  for (let j = 0; j < w; j++) mean += src[o + j];
  mean /= w;
  let nn = 0;
  for (let j = 0; j < w; j++) {
    const v = src[o + j] - mean;
    dst[o + j] = v;
    nn += v * v;
  }
  const inv = nn > 0 ? 1 / Math.sqrt(nn) : NaN;
  for (let j = 0; j < w; j++) dst[o + j] *= inv;
}

/** Central-difference derivative of y[o..o+w) (mesh step h) into d[o..o+w). */
function deriv(y: Float64Array, o: number, w: number, h: number, d: Float64Array): void {
  for (let j = 0; j < w; j++) {
    const a = j > 0 ? j - 1 : 0;
    const b = j < w - 1 ? j + 1 : w - 1;
    d[o + j] = (y[o + b] - y[o + a]) / ((b - a) * h);
  }
}

/** The target's energies as compared: stretched by α about its E0 (see MatchOptions.stretch); as read for α = 0. */
export function comparedEnergies(target: NormalisedTarget, alpha: number): Float64Array {
  if (alpha === 0) return target.energy;
  if (!(alpha > -0.5 && alpha < 0.5)) throw new InputError(`energy stretch ${alpha} is outside (−0.5, 0.5)`);
  const e0 = target.preEdge?.e0;
  if (!Number.isFinite(e0)) throw new InputError(`${target.source}: an energy stretch needs the target's E0 (normalise it with normaliseTarget)`);
  return target.energy.map((v) => e0 + (v - e0) * (1 + alpha));
}

/**
 * Put a normalised target on the mesh at every trial shift. InputError (naming the file) when the
 * target does not cover the window at every shift, or is too sparse there (fewer than one point per
 * 5 eV of window, or fewer than 20: a 5-point "spectrum" has no features to match).
 */
export function prepareMatch(target: NormalisedTarget, mesh: EnergyMesh, options: MatchOptions): PreparedMatch {
  const e = meshEnergies(mesh);
  const lo = Math.max(options.window[0], mesh.start);
  const hi = Math.min(options.window[1], meshStop(mesh));
  if (!(hi - lo >= 10 * mesh.step)) throw new InputError(`comparison window ${options.window[0]}–${options.window[1]} eV misses the model mesh ${mesh.start}–${meshStop(mesh)} eV`);
  let i0 = 0;
  while (e[i0] < lo - 1e-9) i0++;
  let i1 = mesh.points;
  while (e[i1 - 1] > hi + 1e-9) i1--;
  const w = i1 - i0;
  const nHalf = options.shiftWindow > 0 ? Math.round(options.shiftWindow / options.shiftStep) : 0;
  const k = 2 * nHalf + 1;
  const shifts = Float64Array.from({ length: k }, (_, i) => (i - nHalf) * options.shiftStep);
  const x = comparedEnergies(target, options.stretch ?? 0);
  const need0 = lo + options.offset + shifts[0];
  const need1 = hi + options.offset + shifts[k - 1];
  if (x[0] > need0 || x[x.length - 1] < need1) {
    throw new InputError(
      `${target.source}: energies ${x[0]}–${x[x.length - 1]} eV do not cover the comparison window ${need0.toFixed(1)}–${need1.toFixed(1)} eV ` +
        `(model window ${lo}–${hi} eV + offset ${options.offset.toFixed(2)} ± ${options.shiftWindow} eV)`,
    );
  }
  checkSampling(x, target.source, need0, need1);
  const full = new Float64Array(mesh.points);
  const rows = new Float64Array(k * w);
  const unit = new Float64Array(k * w);
  const d = new Float64Array(k * w);
  const unitDeriv = new Float64Array(k * w);
  for (let i = 0; i < k; i++) {
    resampleLinear(x, target.norm, mesh, full, options.offset + shifts[i], true);
    rows.set(full.subarray(i0, i1), i * w);
    centreUnit(rows, i * w, w, unit);
    deriv(rows, i * w, w, mesh.step, d);
    centreUnit(d, i * w, w, unitDeriv);
  }
  return { target, mesh, options, i0, i1, shifts, rows, unit, unitDeriv };
}

/** The fitted alignment and broadening of one computed spectrum, and its score. */
export interface MatchFit {
  /** Higher is better (l2: −RMS). */
  score: number;
  /** Per-candidate shift s, eV (the total is offset + s). */
  shift: number;
  /** Gaussian σ and Lorentzian γ, eV. */
  sigma: number;
  gamma: number;
  /** The best s is at ±shiftWindow: the optimum may lie outside. */
  shiftAtEdge: boolean;
  /** The best σ or γ is the largest allowed (the spectrum wants more broadening than the bounds give). */
  broadeningAtEdge: boolean;
}

/**
 * Fits computed spectra to one prepared target: the broadening kernels of every trial width are built
 * once here, and the scratch buffers are reused, so a fit allocates nothing but its result. Each
 * candidate spectrum is broadened once per (γ, σ) and that broadened spectrum is scored at every shift.
 */
export class MatchScorer {
  private readonly p64: Float64Array;
  private readonly b1: Float64Array;
  private readonly b2: Float64Array;
  private readonly pw: Float64Array;
  private readonly pd: Float64Array;
  private readonly gammas: readonly number[];
  private readonly lorentz: BroadeningBank;
  private readonly gauss: BroadeningBank;
  /** Some σ > 0: the Lorentzian output is needed over the whole mesh (the Gaussian reads beyond the window). */
  private readonly fullMesh: boolean;
  constructor(readonly prepared: PreparedMatch) {
    const m = prepared.mesh.points;
    const w = prepared.i1 - prepared.i0;
    const o = prepared.options;
    this.p64 = new Float64Array(m);
    this.b1 = new Float64Array(m);
    this.b2 = new Float64Array(m);
    this.pw = new Float64Array(w);
    this.pd = new Float64Array(w);
    this.gammas = o.gammas && o.gammas.length ? o.gammas : [0];
    this.lorentz = new BroadeningBank(m, prepared.mesh.step, this.gammas, "lorentzian");
    this.gauss = new BroadeningBank(m, prepared.mesh.step, o.sigmas, "gaussian");
    this.fullMesh = this.gauss.kernels.some((k) => k.h > 0);
  }

  /** Score of the window-restricted prediction in pw (and pd) against shift row i. */
  private scoreRow(i: number, pNorm: number, dNorm: number, pMean: number): number {
    const p = this.prepared;
    const w = p.i1 - p.i0;
    const o = i * w;
    const pw = this.pw;
    switch (p.options.score) {
      case "l2": {
        // Four partial sums: the additions do not wait on each other (this loop runs for every
        // candidate, member, width and shift).
        const rows = p.rows;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let j = 0;
        for (; j + 3 < w; j += 4) {
          const v0 = pw[j] - rows[o + j];
          const v1 = pw[j + 1] - rows[o + j + 1];
          const v2 = pw[j + 2] - rows[o + j + 2];
          const v3 = pw[j + 3] - rows[o + j + 3];
          s0 += v0 * v0;
          s1 += v1 * v1;
          s2 += v2 * v2;
          s3 += v3 * v3;
        }
        for (; j < w; j++) {
          const v = pw[j] - rows[o + j];
          s0 += v * v;
        }
        return -Math.sqrt((s0 + s1 + (s2 + s3)) / w);
      }
      case "pearson": {
        const unit = p.unit;
        let dot = 0;
        for (let j = 0; j < w; j++) dot += (pw[j] - pMean) * unit[o + j];
        return dot / pNorm;
      }
      case "pearson+derivative": {
        const unit = p.unit;
        const unitDeriv = p.unitDeriv;
        let dot = 0;
        let dd = 0;
        const pd = this.pd;
        for (let j = 0; j < w; j++) {
          dot += (pw[j] - pMean) * unit[o + j];
          dd += pd[j] * unitDeriv[o + j];
        }
        return 0.5 * (dot / pNorm + dd / dNorm);
      }
    }
  }

  /**
   * Best (s, σ, γ) for `prediction` (a spectrum on the mesh, normalised like the training data), or for
   * row `row` of a row-major matrix of such spectra. Grid order γ, σ, s; the first best wins ties.
   */
  fit(spectra: ArrayLike<number>, row = 0): MatchFit {
    const p = this.prepared;
    const o = p.options;
    const m = p.mesh.points;
    const w = p.i1 - p.i0;
    const { i0, i1, shifts } = p;
    const { p64, b1, b2, pw, pd, gammas } = this;
    const m0 = row * m;
    for (let j = 0; j < m; j++) p64[j] = spectra[m0 + j];
    let bestScore = -Infinity;
    let bestShift = -1;
    let bestSigma = 0;
    let bestGamma = 0;
    const from = this.fullMesh ? 0 : i0;
    const to = this.fullMesh ? m : i1;
    const nSig = o.sigmas.length;
    this.lorentz.load(p64);
    for (let gi = 0; gi < gammas.length; gi++) {
      this.lorentz.apply(gi, b1, from, to);
      this.gauss.load(b1);
      for (let si = 0; si < nSig; si++) {
        this.gauss.apply(si, b2, i0, i1);
        for (let j = 0; j < w; j++) pw[j] = b2[i0 + j];
        let mean = 0;
        let pNorm = 1;
        if (o.score !== "l2") {
          for (let j = 0; j < w; j++) mean += pw[j];
          mean /= w;
          let nn = 0;
          for (let j = 0; j < w; j++) nn += (pw[j] - mean) ** 2;
          pNorm = Math.sqrt(nn);
        }
        let dNorm = 1;
        if (o.score === "pearson+derivative") {
          deriv(pw, 0, w, p.mesh.step, pd);
          let dm = 0;
          for (let j = 0; j < w; j++) dm += pd[j];
          dm /= w;
          let dn = 0;
          for (let j = 0; j < w; j++) {
            pd[j] -= dm;
            dn += pd[j] ** 2;
          }
          dNorm = Math.sqrt(dn);
        }
        for (let i = 0; i < shifts.length; i++) {
          const s = this.scoreRow(i, pNorm, dNorm, mean);
          if (s > bestScore) {
            bestScore = s;
            bestShift = i;
            bestSigma = si;
            bestGamma = gi;
          }
        }
      }
    }
    if (bestShift < 0) return { score: NaN, shift: 0, sigma: 0, gamma: 0, shiftAtEdge: false, broadeningAtEdge: false };
    const gamma = gammas[bestGamma];
    return {
      score: Number.isFinite(bestScore) ? bestScore : NaN,
      shift: shifts[bestShift],
      sigma: o.sigmas[bestSigma],
      gamma,
      shiftAtEdge: shifts.length > 1 && (bestShift === 0 || bestShift === shifts.length - 1),
      broadeningAtEdge: (nSig > 1 && bestSigma === nSig - 1) || (gammas.length > 1 && gamma === gammas[gammas.length - 1]),
    };
  }
}

/** One measured standard of known structure and the computed spectrum of that structure. */
export interface CalibrationStandard {
  readonly name: string;
  readonly target: NormalisedTarget;
  /** Computed spectrum of the standard's true structure on the mesh. */
  readonly reference: ArrayLike<number>;
}

/**
 * The FEFF-vs-experiment energy offset of one element and edge, as the model's spectral contract keeps it
 * (`alignment`, lib/model/spectral): offset, spread (null for one standard), the standards' fits.
 */
export type EnergyCalibration = SpectralAlignment;

/** "−5.13 ± 0.53 eV" (no ± for a single standard). */
export function formatAlignment(a: Pick<SpectralAlignment, "offset" | "spread">): string {
  return `${a.offset.toFixed(2)}${a.spread === null ? "" : ` ± ${a.spread.toFixed(2)}`} eV`;
}

/**
 * An energy calibration from an `energy-calibration.json` file, as models were given one before the
 * offset moved into the spectral contract (read for folders that still have one); InputError naming
 * `source` for a missing or non-finite offset or any other bad field.
 */
export function parseEnergyCalibration(text: string, source: string): EnergyCalibration {
  let c: unknown;
  try {
    c = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${source}: not JSON (${(e as Error).message})`);
  }
  return checkAlignment(c, { file: source, field: "" });
}

/**
 * l2 compares absolute levels: the model must predict edge-step-normalised spectra like the target.
 * InputError otherwise (pearson is insensitive to the scale).
 */
export function checkScoreNormalisation(score: MatchScore, normalisation: string): void {
  if (score === "l2" && normalisation !== "edge-step") {
    throw new InputError(
      `the model predicts ${JSON.stringify(normalisation)}-normalised spectra, but a measured spectrum is compared edge-step normalised; ` +
        `use a model trained with edge-step normalisation, or --score pearson (insensitive to the scale)`,
    );
  }
}

/**
 * Fit each standard's shift (±searchWindow around 0, with broadening) against its known structure's
 * computed spectrum; the offset is their mean. Never include a target among its own standards:
 * use `leaveOneOutOffsets` to rank the standards themselves.
 */
export function calibrateOffset(
  standards: readonly CalibrationStandard[],
  mesh: EnergyMesh,
  element: string,
  edge: string,
  opts: Omit<MatchOptions, "offset" | "shiftWindow"> & { searchWindow?: number } = DEFAULT_MATCH,
): EnergyCalibration {
  if (standards.length === 0) throw new InputError(`energy calibration of ${element} ${edge}: no standards`);
  const search = opts.searchWindow ?? 15;
  const fits = standards.map((s) => {
    const prep = prepareMatch(s.target, mesh, { ...opts, offset: 0, shiftWindow: search });
    const f = new MatchScorer(prep).fit(s.reference);
    if (f.shiftAtEdge) throw new InputError(`${s.name}: calibration shift at the ±${search} eV search edge; the standard does not match its structure's spectrum`);
    return { name: s.name, shift: f.shift, sigma: f.sigma, gamma: f.gamma, score: f.score };
  });
  const mean = fits.reduce((a, f) => a + f.shift, 0) / fits.length;
  const spread = fits.length > 1 ? Math.sqrt(fits.reduce((a, f) => a + (f.shift - mean) ** 2, 0) / (fits.length - 1)) : null;
  return {
    element,
    edge,
    offset: mean,
    spread,
    standards: fits,
    method: `mean best shift of ${fits.length} standard(s), score ${opts.score}, window ${opts.window[0]}–${opts.window[1]} eV, search ±${search} eV step ${opts.shiftStep} eV, σ ${opts.sigmas[0]}–${opts.sigmas[opts.sigmas.length - 1]} eV, γ ${(opts.gammas ?? [0])[0]}–${(opts.gammas ?? [0]).slice(-1)[0]} eV`,
  };
}

/** For each standard, the calibration from all the others (so no target calibrates its own ranking). */
export function leaveOneOutOffsets(
  standards: readonly CalibrationStandard[],
  mesh: EnergyMesh,
  element: string,
  edge: string,
  opts: Omit<MatchOptions, "offset" | "shiftWindow"> & { searchWindow?: number } = DEFAULT_MATCH,
): EnergyCalibration[] {
  if (standards.length < 2) throw new InputError(`leave-one-out calibration needs at least 2 standards, got ${standards.length}`);
  return standards.map((_, i) => calibrateOffset(standards.filter((__, j) => j !== i), mesh, element, edge, opts));
}
