/**
 * Rank candidate structures by how well their predicted spectra match a target, in named steps:
 *   1. planSiteJobs      — which sites of each candidate to predict (one per environment-equivalence
 *                          class of the element, weighted by the class size, unless listed);
 *   2. predictSiteJobs   — featurise + predict in batches; one sites × mesh Matrix per ensemble member
 *                          (a failing batch is retried per candidate; failures are skipped with reasons);
 *   3. comparisonUnits   — each site (site target) or the weighted average (material target);
 *   4. fitCandidate      — each member's fit of each unit (shift, and for measured targets broadening);
 *                          the unit with the best member-mean score is kept;
 *   5. rankFits          — order by member-mean score, and the rank range over members
 *                          (rankMatchFits: the same, into the RankedMatch rows of measured targets).
 * `screenCandidates` runs them for a target on the model's energy scale (ShiftScorer: ±window shift,
 * lib/eval metrics); `screenMeasured` for a measured spectrum (MatchScorer: calibrated offset ± small
 * shift, fitted broadening, see match.ts); `rankMatches` ranks spectra given directly (FEFF: the
 * ceiling) with the same fit and ranking step. A candidate's score is the mean over members and the
 * spread their standard deviation, so the ranking carries the model's uncertainty.
 */
import type { Candidate, ScreeningMetric, ScreeningPredictor, SiteRef } from "./types";
import { sitesOfElement } from "./candidates";
import { metricHigherIsBetter, metricRow, PreparedTarget, ShiftScorer, targetOnMesh } from "./shift";
import { mainPeakPosition, createRankScratch, meanStd } from "../eval/metrics";
import { errorMessage } from "../util/errors";
import { equivalentSites } from "../geometry/equivalence";
import { symmetryOf } from "../geometry/symmetry";
import type { Structure } from "../structure/types";
import { Matrix, matrix, rowView } from "../util/matrix";
import { MatchScorer, PreparedMatch, MatchScore, comparedEnergies } from "./match";
import { resampleLinear } from "../spectra/mesh";

export interface ScreenOptions {
  /** Absorbing element ("Cu"): the sites predicted when a candidate does not list its own. */
  element: string;
  /** Ranking metric. Default "pearson" (shape, insensitive to scale and offset). */
  metric?: ScreeningMetric;
  /** Sites per predictor call. Default 1024. */
  batchSize?: number;
  /** Called after each batch with (candidates done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface RankedCandidate {
  /** 1-based rank by mean score (ties keep input order). */
  rank: number;
  id: string;
  origin: string;
  /** Best-matching absorbing site for a site target (the lowest index of its class when sites are
   * grouped); -1 for the averaged (material) prediction. */
  site: number;
  /** Number of absorbing sites predicted (one per equivalence class unless the candidate lists sites). */
  nSites: number;
  /** Space group and the best site's Wyckoff position ("P 2/c (13) 4e"; the group alone for a material average; "" for a cluster). */
  symmetry: string;
  /** Ranking metric, mean over ensemble members (each at its own fitted shift). */
  score: number;
  /** Standard deviation of the score over members (NaN for a single model). */
  scoreStd: number;
  /** Fitted shift, eV, mean over members (target compared as T(E + shift)). */
  shift: number;
  shiftStd: number;
  /** Best and worst rank this candidate gets when each member ranks alone. */
  rankBest: number;
  rankWorst: number;
  /** Some member's best shift was at the edge of the search window. */
  shiftAtEdge: boolean;
  /** lib/eval metrics of the ensemble-mean spectrum against the target at `shift`. */
  mse: number;
  cosine: number;
  pearson: number;
  spearman: number;
  /** |main-peak position of prediction − of target|, eV. */
  peakError: number;
  /** Ensemble-mean predicted spectrum on the model mesh, and its per-point standard deviation. */
  prediction: Float32Array;
  predictionStd: Float32Array;
}

export interface SkippedCandidate {
  id: string;
  reason: string;
}

export interface ScreeningResult {
  metric: ScreeningMetric;
  higherIsBetter: boolean;
  members: number;
  target: PreparedTarget;
  /** Ranked, best first. */
  rows: RankedCandidate[];
  /** Candidates that could not be scored (no absorbing site, bad site index, featurisation error). */
  skipped: SkippedCandidate[];
  /** Sites predicted in total. */
  sitesPredicted: number;
  /** Wall time of prediction (site grouping + featurise + model) and of scoring, ms. */
  predictMs: number;
  scoreMs: number;
}

/** Step 1 output: the sites of one candidate to predict and their weights. */
export interface SiteJob {
  readonly cand: Candidate;
  readonly sites: readonly number[];
  readonly weights: readonly number[];
}

/** Per structure object and element: its first site of each equivalence class, and the class sizes. */
const CLASS_SITES = new WeakMap<Structure, Map<string, Pick<SiteJob, "sites" | "weights">>>();

/**
 * Equivalent sites have the same environment, hence the same descriptors (up to the 1e-3 Å
 * tolerance): one site per class, weighted by the class size, is the multiplicity-weighted cell.
 * Cached per structure object (structures are not mutated; cf. neighbourFinder), so screening many
 * targets against the same candidates groups their sites once.
 */
function classSites(s: Structure, element: string): Pick<SiteJob, "sites" | "weights"> {
  let byElement = CLASS_SITES.get(s);
  if (!byElement) CLASS_SITES.set(s, (byElement = new Map()));
  let out = byElement.get(element);
  if (!out) {
    const eq = equivalentSites(s, element);
    byElement.set(element, (out = { sites: eq.groups.map((g) => g[0]), weights: eq.groups.map((g) => g.length) }));
  }
  return out;
}

function planOne(c: Candidate, element: string): SiteJob | string {
  const n = c.structure.species.length;
  if (!c.sites && !c.weights) {
    if (!c.structure.species.includes(element)) return `no ${element} site`;
    try {
      return { cand: c, ...classSites(c.structure, element) };
    } catch (err) {
      return errorMessage(err);
    }
  }
  const sites = c.sites ? [...c.sites] : sitesOfElement(c.structure, element);
  if (sites.length === 0) return `no ${element} site`;
  for (const s of sites) {
    if (!Number.isInteger(s) || s < 0 || s >= n) return `site ${s} is not in the structure (${n} sites)`;
    if (c.structure.species[s] !== element) return `site ${s} is ${c.structure.species[s]}, not ${element}`;
  }
  const weights = c.weights ? [...c.weights] : sites.map(() => 1);
  if (weights.length !== sites.length || weights.some((w) => !(w > 0) || !Number.isFinite(w))) return `weights must be ${sites.length} positive numbers`;
  return { cand: c, sites, weights };
}

/** Step 1: which sites of each candidate to predict; candidates that cannot be planned are skipped with the reason. */
export function planSiteJobs(candidates: readonly Candidate[], element: string): { jobs: SiteJob[]; skipped: SkippedCandidate[] } {
  const jobs: SiteJob[] = [];
  const skipped: SkippedCandidate[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c.id)) throw new Error(`screening: candidate id "${c.id}" appears twice`);
    seen.add(c.id);
    const j = planOne(c, element);
    if (typeof j === "string") skipped.push({ id: c.id, reason: j });
    else jobs.push(j);
  }
  return { jobs, skipped };
}

/** Step 2 output: one candidate's predictions, one sites × mesh Matrix per ensemble member. */
export interface JobPrediction {
  readonly job: SiteJob;
  readonly members: readonly Matrix[];
}

/**
 * Step 2: predict every job's sites in batches of about `batchSize` sites. A failing batch is
 * retried one candidate at a time so one bad structure does not sink the others; a candidate that
 * still fails goes to `skipped`. Yields each batch's predictions as they come.
 */
export async function* predictSiteJobs(
  jobs: readonly SiteJob[],
  predictor: ScreeningPredictor,
  skipped: SkippedCandidate[],
  opts: { batchSize?: number; onProgress?: (done: number, total: number) => void; timing?: { predictMs: number; sites: number } } = {},
): AsyncGenerator<JobPrediction[]> {
  const m = predictor.energy.length;
  const k = predictor.members;
  const batchSize = opts.batchSize ?? 1024;
  const timing = opts.timing ?? { predictMs: 0, sites: 0 };
  const run = async (batch: SiteJob[]): Promise<JobPrediction[]> => {
    const items: SiteRef[] = [];
    for (const j of batch) for (const s of j.sites) items.push({ structure: j.cand.structure, site: s });
    const t0 = performance.now();
    let preds: Float32Array[];
    try {
      preds = await predictor.predictSites(items);
    } catch (err) {
      timing.predictMs += performance.now() - t0;
      if (batch.length === 1) {
        skipped.push({ id: batch[0].cand.id, reason: errorMessage(err) });
        return [];
      }
      const out: JobPrediction[] = [];
      for (const j of batch) out.push(...(await run([j])));
      return out;
    }
    timing.predictMs += performance.now() - t0;
    if (preds.length !== k || preds.some((p) => p.length !== items.length * m)) {
      throw new Error(`screening: predictor returned ${preds.length} arrays for ${k} members, expected ${items.length} × ${m} values each`);
    }
    timing.sites += items.length;
    const out: JobPrediction[] = [];
    let row0 = 0;
    for (const j of batch) {
      const ns = j.sites.length;
      out.push({ job: j, members: preds.map((p) => matrix(p.subarray(row0 * m, (row0 + ns) * m), ns, m)) });
      row0 += ns;
    }
    return out;
  };
  let batch: SiteJob[] = [];
  let inBatch = 0;
  let done = 0;
  for (const j of jobs) {
    if (inBatch > 0 && inBatch + j.sites.length > batchSize) {
      yield await run(batch);
      done += batch.length;
      opts.onProgress?.(done, jobs.length);
      batch = [];
      inBatch = 0;
    }
    batch.push(j);
    inBatch += j.sites.length;
  }
  if (batch.length) {
    yield await run(batch);
    done += batch.length;
    opts.onProgress?.(done, jobs.length);
  }
}

/**
 * Step 3: the spectra to compare, per member: each site (a site target) or the class-size-weighted
 * average over the sites (a material target), as a units × mesh Matrix per member.
 */
export function comparisonUnits(p: JobPrediction, material: boolean): Matrix[] {
  if (!material) return p.members.map((x) => x);
  const { weights } = p.job;
  let wsum = 0;
  for (const w of weights) wsum += w;
  return p.members.map((x) => {
    const out = new Float32Array(x.cols);
    for (let s = 0; s < x.rows; s++) {
      const w = weights[s] / wsum;
      const r = rowView(x, s);
      for (let j = 0; j < x.cols; j++) out[j] += w * r[j];
    }
    return matrix(out, 1, x.cols);
  });
}

/** One member's fit of one unit: the score and what was fitted to get it. */
export interface UnitFit {
  score: number;
  shift: number;
  shiftAtEdge: boolean;
  /** Gaussian σ / Lorentzian γ (eV) and a fit on the largest allowed width (measured targets only). */
  sigma?: number;
  gamma?: number;
  broadeningAtEdge?: boolean;
}

/** Fits one spectrum (row `row` of a row-major mesh matrix) against the target. */
export interface UnitScorer {
  readonly higherIsBetter: boolean;
  fit(spectra: Float32Array, row: number): UnitFit;
}

/** Step 4 output: the best unit of a candidate and each member's fit of it. */
export interface CandidateFit {
  readonly prediction: JobPrediction;
  /** Index of the best unit (site row, or 0 for a material average). */
  readonly unit: number;
  readonly units: readonly Matrix[];
  readonly fits: readonly UnitFit[];
}

/** Step 4: score every unit with every member; keep the unit whose member-mean score is best. */
export function fitCandidate(p: JobPrediction, units: readonly Matrix[], scorer: UnitScorer): CandidateFit {
  const perUnit = Array.from({ length: units[0].rows }, (_, u) => units.map((x) => scorer.fit(x.data, u)));
  return chooseUnit(p, units, perUnit, scorer.higherIsBetter);
}

/** The unit whose member-mean score is best (the first on ties), from each unit's member fits. */
function chooseUnit(p: JobPrediction, units: readonly Matrix[], perUnit: readonly UnitFit[][], higherIsBetter: boolean): CandidateFit {
  const sign = higherIsBetter ? 1 : -1;
  let best = -1;
  let bestV = -Infinity;
  let bestFits: UnitFit[] = [];
  perUnit.forEach((fits, u) => {
    const { mean } = meanStd(fits.map((f) => f.score));
    const v = Number.isNaN(mean) ? -Infinity : sign * mean;
    if (best < 0 || v > bestV) {
      best = u;
      bestV = v;
      bestFits = fits;
    }
  });
  return { prediction: p, unit: best, units, fits: bestFits };
}

/**
 * Fits rows r < rows of a rows × mesh matrix, possibly off the main thread (lib/screening/parallel.ts:
 * a worker thread scores one batch while the next is predicted); same fits as the scorer's `fit`.
 */
export type RowFitter = (spectra: Float32Array, rows: number) => Promise<UnitFit[]>;

/** Step 4 through a RowFitter: every unit × member row of a batch in one call, then `chooseUnit`. */
async function fitBatchRows(batch: readonly JobPrediction[], material: boolean, fitRows: RowFitter, higherIsBetter: boolean): Promise<CandidateFit[]> {
  const unitsOf = batch.map((p) => comparisonUnits(p, material));
  const m = unitsOf[0]?.[0]?.cols ?? 0;
  let rows = 0;
  for (const units of unitsOf) rows += units[0].rows * units.length;
  const spectra = new Float32Array(rows * m);
  let r = 0;
  for (const units of unitsOf) for (let u = 0; u < units[0].rows; u++) for (const x of units) spectra.set(x.data.subarray(u * m, (u + 1) * m), m * r++);
  const fits = await fitRows(spectra, rows);
  r = 0;
  return batch.map((p, i) => {
    const units = unitsOf[i];
    const perUnit = Array.from({ length: units[0].rows }, () => units.map(() => fits[r++]));
    return chooseUnit(p, units, perUnit, higherIsBetter);
  });
}

/** Member-mean spectrum of unit `u` and its pointwise standard deviation (NaN for one member). */
export function unitMeanStd(units: readonly Matrix[], u: number): { mean: Float32Array; std: Float32Array } {
  const m = units[0].cols;
  const k = units.length;
  const mean = new Float32Array(m);
  const std = new Float32Array(m);
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (const x of units) s += x.data[u * m + j];
    const mu = s / k;
    let v = 0;
    for (const x of units) v += (x.data[u * m + j] - mu) ** 2;
    mean[j] = mu;
    std[j] = k > 1 ? Math.sqrt(v / (k - 1)) : NaN;
  }
  return { mean, std };
}

/**
 * Step 5: order by member-mean score (ties keep input order) and, per member, the rank each
 * candidate gets when that member ranks alone (how much the ensemble disagrees about the order).
 * `fits[i]` holds candidate i's fit by each member.
 */
export function rankFits(fits: readonly (readonly { score: number }[])[], higherIsBetter: boolean): { order: number[]; rankBest: Int32Array; rankWorst: Int32Array; score: Float64Array } {
  const sign = higherIsBetter ? 1 : -1;
  const key = (v: number) => (Number.isNaN(v) ? -Infinity : sign * v);
  const n = fits.length;
  const score = Float64Array.from(fits, (f) => meanStd(f.map((x) => x.score)).mean);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => key(score[b]) - key(score[a]) || a - b);
  const k = Math.max(0, ...fits.map((f) => f.length));
  const rankBest = new Int32Array(n).fill(n);
  const rankWorst = new Int32Array(n);
  const idx = new Int32Array(n);
  for (let e = 0; e < k; e++) {
    for (let i = 0; i < n; i++) idx[i] = i;
    idx.sort((a, b) => key(fits[b][e]?.score ?? NaN) - key(fits[a][e]?.score ?? NaN) || a - b);
    for (let r = 0; r < n; r++) {
      const i = idx[r];
      if (r + 1 < rankBest[i]) rankBest[i] = r + 1;
      if (r + 1 > rankWorst[i]) rankWorst[i] = r + 1;
    }
  }
  return { order, rankBest, rankWorst, score };
}

/**
 * One candidate ranked against a measured spectrum: what the fits give (score, alignment, broadening,
 * each the mean and spread over ensemble members) and its rank. The row of `rankMatches` (computed
 * spectra given directly, e.g. FEFF); `screenMeasured` adds the candidate's structure fields.
 */
export interface RankedMatch {
  /** 1-based rank by member-mean score (ties keep input order). */
  rank: number;
  id: string;
  /** Match score (higher is better; l2: −RMS), mean and spread over members (NaN spread for one). */
  score: number;
  scoreStd: number;
  /** Per-candidate shift s, eV (target compared as T(E + offset + s)), mean and spread over members. */
  shift: number;
  shiftStd: number;
  /** Fitted broadening, eV: Gaussian σ and Lorentzian γ, mean and spread over members. */
  sigma: number;
  sigmaStd: number;
  gamma: number;
  gammaStd: number;
  /** Best and worst rank over members ranked alone. */
  rankBest: number;
  rankWorst: number;
  /** Some member's shift is at ±shiftWindow / broadening at its upper bound. */
  shiftAtEdge: boolean;
  broadeningAtEdge: boolean;
}

/**
 * The ranking step of measured targets: candidate i (named ids[i]) fitted by each member (fits[i]),
 * ranked (step 5) into RankedMatch rows, best first, each with the index of its candidate.
 */
export function rankMatchFits(ids: readonly string[], fits: readonly (readonly UnitFit[])[]): { index: number; row: RankedMatch }[] {
  const ranks = rankFits(fits, true);
  return ranks.order.map((i, r) => {
    const f = fits[i];
    const ms = (get: (x: UnitFit) => number | undefined) => meanStd(f.map((x) => get(x) ?? 0));
    const score = ms((x) => x.score);
    const shift = ms((x) => x.shift);
    const sigma = ms((x) => x.sigma);
    const gamma = ms((x) => x.gamma);
    return {
      index: i,
      row: {
        rank: r + 1,
        id: ids[i],
        score: score.mean,
        scoreStd: score.std,
        shift: shift.mean,
        shiftStd: shift.std,
        sigma: sigma.mean,
        sigmaStd: sigma.std,
        gamma: gamma.mean,
        gammaStd: gamma.std,
        rankBest: ranks.rankBest[i],
        rankWorst: ranks.rankWorst[i],
        shiftAtEdge: f.some((x) => x.shiftAtEdge),
        broadeningAtEdge: f.some((x) => x.broadeningAtEdge === true),
      },
    };
  });
}

/** A candidate's computed spectra on the mesh, one per ensemble member (one for FEFF). */
export interface MatchCandidate {
  readonly id: string;
  readonly members: readonly ArrayLike<number>[];
  /** Pointwise ensemble standard deviation for plots (optional). */
  readonly band?: ArrayLike<number>;
}

/** Fit and rank computed spectra (e.g. the candidates' FEFF spectra) against a prepared measured target. */
export function rankMatches(prepared: PreparedMatch, candidates: readonly MatchCandidate[]): RankedMatch[] {
  const scorer = new MatchScorer(prepared);
  const fits = candidates.map((c) => c.members.map((p) => scorer.fit(p)));
  return rankMatchFits(candidates.map((c) => c.id), fits).map((x) => x.row);
}

/**
 * Steps 1–4 for any scorer: plan, predict in batches, combine units, fit. With `fitRows` each batch is
 * fitted asynchronously while the next is predicted, and `scoreMs` counts the main thread's share (packing,
 * and waiting for the last fits).
 */
async function fitAll(
  candidates: readonly Candidate[],
  predictor: ScreeningPredictor,
  scorer: UnitScorer,
  material: boolean,
  opts: ScreenOptions & { fitRows?: RowFitter },
): Promise<{ fits: CandidateFit[]; skipped: SkippedCandidate[]; sitesPredicted: number; predictMs: number; scoreMs: number }> {
  const tPlan = performance.now();
  const { jobs, skipped } = planSiteJobs(candidates, opts.element);
  const timing = { predictMs: performance.now() - tPlan, sites: 0 }; // site grouping decides what is featurised
  let scoreMs = 0;
  const batches: (CandidateFit[] | Promise<CandidateFit[]>)[] = [];
  for await (const batch of predictSiteJobs(jobs, predictor, skipped, { batchSize: opts.batchSize, onProgress: opts.onProgress, timing })) {
    const t = performance.now();
    if (batch.length === 0) continue;
    if (opts.fitRows) batches.push(fitBatchRows(batch, material, opts.fitRows, scorer.higherIsBetter));
    else batches.push(batch.map((p) => fitCandidate(p, comparisonUnits(p, material), scorer)));
    scoreMs += performance.now() - t;
  }
  const t = performance.now();
  const fits = (await Promise.all(batches)).flat();
  scoreMs += performance.now() - t;
  return { fits, skipped, sitesPredicted: timing.sites, predictMs: timing.predictMs, scoreMs };
}

function checkMesh(predictor: ScreeningPredictor, energy: Float64Array): void {
  const m = energy.length;
  if (predictor.energy.length !== m || Math.abs(predictor.energy[0] - energy[0]) > 1e-6 * Math.max(1, Math.abs(energy[0]))) {
    throw new Error(`screening: target prepared on a mesh of ${m} points from ${energy[0]} eV, model predicts ${predictor.energy.length} from ${predictor.energy[0]} eV`);
  }
}

/**
 * Predict, score and rank `candidates` against a target prepared with `prepareTarget` (a computed
 * spectrum or one already on the model's scale). Candidates whose sites cannot be predicted are
 * skipped and listed in `skipped` with the reason.
 */
export async function screenCandidates(
  target: PreparedTarget,
  candidates: readonly Candidate[],
  predictor: ScreeningPredictor,
  opts: ScreenOptions,
): Promise<ScreeningResult> {
  const metric = opts.metric ?? "pearson";
  const higher = metricHigherIsBetter(metric);
  const m = target.mesh.points;
  checkMesh(predictor, target.energy);
  const shiftScorer = new ShiftScorer(target, metric);
  const scorer: UnitScorer = {
    higherIsBetter: higher,
    fit: (x, row) => {
      const f = shiftScorer.fit(x, row);
      return { score: f.score, shift: f.shift, shiftAtEdge: f.atEdge };
    },
  };
  const run = await fitAll(candidates, predictor, scorer, target.target.kind === "material", opts);
  const t2 = performance.now();
  const exact = new Float64Array(m);
  const rankScratch = createRankScratch(m);
  const ranks = rankFits(run.fits.map((f) => f.fits), higher);
  const rows: RankedCandidate[] = ranks.order.map((i, r) => {
    const f = run.fits[i];
    const { mean: prediction, std: predictionStd } = unitMeanStd(f.units, f.unit);
    const { mean: score, std: scoreStd } = meanStd(f.fits.map((x) => x.score));
    const { mean: shift, std: shiftStd } = meanStd(f.fits.map((x) => x.shift));
    targetOnMesh(target.target, target.mesh, target.normalisation, shift, exact);
    const job = f.prediction.job;
    return {
      rank: r + 1,
      id: job.cand.id,
      origin: job.cand.origin ?? "",
      site: target.target.kind === "material" ? -1 : job.sites[f.unit],
      nSites: job.sites.length,
      symmetry: symmetryLabel(job.cand.structure, job.sites[f.unit], target.target.kind === "material"),
      score,
      scoreStd,
      shift,
      shiftStd,
      rankBest: ranks.rankBest[i],
      rankWorst: ranks.rankWorst[i],
      shiftAtEdge: f.fits.some((x) => x.shiftAtEdge),
      mse: metricRow("mse", prediction, exact, m),
      cosine: metricRow("cosine", prediction, exact, m),
      pearson: metricRow("pearson", prediction, exact, m),
      spearman: metricRow("spearman", prediction, exact, m, 0, rankScratch),
      peakError: Math.abs(mainPeakPosition(prediction, target.energy, m) - mainPeakPosition(exact, target.energy, m)),
      prediction,
      predictionStd,
    };
  });
  const scoreMs = run.scoreMs + performance.now() - t2;
  return { metric, higherIsBetter: higher, members: predictor.members, target, rows, skipped: run.skipped, sitesPredicted: run.sitesPredicted, predictMs: run.predictMs, scoreMs };
}

/** Space group (moyo, cached per structure) and, for a site, its Wyckoff position; "" where there is none (a cluster). */
function symmetryLabel(structure: Structure, site: number, material: boolean): string {
  const sym = symmetryOf(structure, site);
  if (!sym) return "";
  const group = `${sym.spaceGroup} (${sym.spaceGroupNumber})`;
  return material ? group : `${group} ${sym.wyckoff}`;
}

/** One ranked candidate against a measured spectrum: the RankedMatch fields and its structure's. */
export interface MeasuredRankedCandidate extends RankedMatch {
  origin: string;
  /** Best site (site target) or -1 (material average). */
  site: number;
  nSites: number;
  /** As RankedCandidate.symmetry. */
  symmetry: string;
  /** Ensemble-mean spectrum on the model mesh (unbroadened), and its pointwise spread. */
  prediction: Float32Array;
  predictionStd: Float32Array;
}

export interface MeasuredScreeningResult {
  score: MatchScore;
  members: number;
  target: PreparedMatch;
  rows: MeasuredRankedCandidate[];
  skipped: SkippedCandidate[];
  sitesPredicted: number;
  predictMs: number;
  scoreMs: number;
}

/**
 * Predict, align, broaden, score and rank `candidates` against a measured spectrum prepared with
 * `prepareMatch` (lib/screening/match: calibrated offset, per-candidate shift, broadening).
 */
export async function screenMeasured(
  target: PreparedMatch,
  candidates: readonly Candidate[],
  predictor: ScreeningPredictor,
  opts: Omit<ScreenOptions, "metric"> & {
    kind?: "site" | "material";
    /** Fit the batches off the main thread (`matchWorkers(target).fitRows`, lib/screening/parallel.ts, Node): same results. */
    fitRows?: RowFitter;
  },
): Promise<MeasuredScreeningResult> {
  checkMesh(predictor, Float64Array.from({ length: target.mesh.points }, (_, i) => target.mesh.start + i * target.mesh.step));
  const match = new MatchScorer(target);
  const scorer: UnitScorer = { higherIsBetter: true, fit: (x, row) => match.fit(x, row) };
  const material = (opts.kind ?? "material") === "material";
  const run = await fitAll(candidates, predictor, scorer, material, opts);
  const ranked = rankMatchFits(run.fits.map((f) => f.prediction.job.cand.id), run.fits.map((f) => f.fits));
  const rows = ranked.map(({ index, row }): MeasuredRankedCandidate => {
    const f = run.fits[index];
    const { mean: prediction, std: predictionStd } = unitMeanStd(f.units, f.unit);
    const job = f.prediction.job;
    return {
      ...row,
      origin: job.cand.origin ?? "",
      site: material ? -1 : job.sites[f.unit],
      nSites: job.sites.length,
      symmetry: symmetryLabel(job.cand.structure, job.sites[f.unit], material),
      prediction,
      predictionStd,
    };
  });
  return { score: target.options.score, members: predictor.members, target, rows, skipped: run.skipped, sitesPredicted: run.sitesPredicted, predictMs: run.predictMs, scoreMs: run.scoreMs };
}

/** The measured target as normalised on the mesh at total shift offset + s (for overlays). */
export function measuredTargetOnMesh(target: PreparedMatch, s: number): Float64Array {
  const out = new Float64Array(target.mesh.points);
  resampleLinear(comparedEnergies(target.target, target.options.stretch ?? 0), target.target.norm, target.mesh, out, target.options.offset + s, true);
  return out;
}
