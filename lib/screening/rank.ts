/**
 * Rank candidate structures by how well their predicted spectra match a target.
 *
 * Per candidate: its absorbing sites — by default one per environment-equivalence class of the
 * element (lib/geometry equivalentSites), weighted by the class size — are predicted by every
 * ensemble member. A "site" target is compared with each site and the candidate keeps its
 * best-matching site; a "material" target is compared with the weighted (multiplicity) average over
 * sites (site = -1). Each member's spectrum is scored with its own fitted shift (see shift.ts); the
 * candidate's score is the mean over members and the spread their standard deviation, so the
 * ranking carries the model's uncertainty. The per-metric columns (mse, cosine, pearson, spearman,
 * peak error) describe the ensemble-mean spectrum at the mean fitted shift, computed with lib/eval's
 * metrics.
 */
import type { Candidate, ScreeningMetric, ScreeningPredictor, SiteRef } from "./types";
import { sitesOfElement } from "./candidates";
import { metricHigherIsBetter, metricRow, PreparedTarget, ShiftScorer, targetOnMesh } from "./shift";
import { mainPeakPosition, createRankScratch, meanStd } from "../eval/metrics";
import { errorMessage } from "../util/errors";
import { equivalentSites } from "../geometry/equivalence";
import type { Structure } from "../structure/types";

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

interface Job {
  readonly cand: Candidate;
  readonly sites: readonly number[];
  readonly weights: readonly number[];
}

/** Per structure object and element: its first site of each equivalence class, and the class sizes. */
const CLASS_SITES = new WeakMap<Structure, Map<string, Pick<Job, "sites" | "weights">>>();

/**
 * Equivalent sites have the same environment, hence the same descriptors (up to the 1e-3 Å
 * tolerance): one site per class, weighted by the class size, is the multiplicity-weighted cell.
 * Cached per structure object (structures are not mutated; cf. neighbourFinder), so screening many
 * targets against the same candidates groups their sites once.
 */
function classSites(s: Structure, element: string): Pick<Job, "sites" | "weights"> {
  let byElement = CLASS_SITES.get(s);
  if (!byElement) CLASS_SITES.set(s, (byElement = new Map()));
  let out = byElement.get(element);
  if (!out) {
    const eq = equivalentSites(s, element);
    byElement.set(element, (out = { sites: eq.groups.map((g) => g[0]), weights: eq.groups.map((g) => g.length) }));
  }
  return out;
}

function plan(c: Candidate, element: string): Job | string {
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

/**
 * Predict, score and rank `candidates` against `target`. Candidates whose sites cannot be predicted are
 * skipped and listed in `skipped` with the reason; a failing batch is retried one candidate at a time
 * so one bad structure does not sink the others.
 */
export async function screenCandidates(
  target: PreparedTarget,
  candidates: readonly Candidate[],
  predictor: ScreeningPredictor,
  opts: ScreenOptions,
): Promise<ScreeningResult> {
  const metric = opts.metric ?? "pearson";
  const higher = metricHigherIsBetter(metric);
  const sign = higher ? 1 : -1;
  const m = target.mesh.points;
  if (predictor.energy.length !== m || Math.abs(predictor.energy[0] - target.energy[0]) > 1e-6 * Math.max(1, Math.abs(target.energy[0]))) {
    throw new Error(`screening: target prepared on a mesh of ${m} points from ${target.energy[0]} eV, model predicts ${predictor.energy.length} from ${predictor.energy[0]} eV`);
  }
  const k = predictor.members;
  const batchSize = opts.batchSize ?? 1024;
  const scorer = new ShiftScorer(target, metric);
  const skipped: SkippedCandidate[] = [];
  const jobs: Job[] = [];
  const seenIds = new Set<string>();
  const tPlan = performance.now();
  for (const c of candidates) {
    if (seenIds.has(c.id)) throw new Error(`screening: candidate id "${c.id}" appears twice`);
    seenIds.add(c.id);
    const j = plan(c, opts.element);
    if (typeof j === "string") skipped.push({ id: c.id, reason: j });
    else jobs.push(j);
  }
  let predictMs = performance.now() - tPlan; // site grouping decides what is featurised

  const rows: RankedCandidate[] = [];
  const memberScores: Float64Array[] = []; // per row, k values
  let scoreMs = 0;
  let sitesPredicted = 0;
  const avg = new Float64Array(k * m);
  const sc = new Float64Array(k);
  const sh = new Float64Array(k);
  const exact = new Float64Array(m);
  const rankScratch = createRankScratch(m);

  const scoreJob = (job: Job, preds: Float32Array[], row0: number) => {
    const ns = job.sites.length;
    const material = target.target.kind === "material";
    // Units to compare: each site (site target) or the weighted average (material target).
    const units = material ? 1 : ns;
    // Each member's spectrum of unit u into avg (row e).
    const loadUnit = (u: number) => {
      for (let e = 0; e < k; e++) {
        const p = preds[e];
        const o = e * m;
        if (material) {
          let wsum = 0;
          for (let j = 0; j < m; j++) avg[o + j] = 0;
          for (let s = 0; s < ns; s++) {
            const w = job.weights[s];
            wsum += w;
            const po = (row0 + s) * m;
            for (let j = 0; j < m; j++) avg[o + j] += w * p[po + j];
          }
          for (let j = 0; j < m; j++) avg[o + j] /= wsum;
        } else {
          const po = (row0 + u) * m;
          for (let j = 0; j < m; j++) avg[o + j] = p[po + j];
        }
      }
    };
    let bestUnit = -1;
    let bestMean = -Infinity;
    const bestScores = new Float64Array(k);
    const bestShifts = new Float64Array(k);
    let bestEdge = false;
    for (let u = 0; u < units; u++) {
      loadUnit(u);
      let edge = false;
      for (let e = 0; e < k; e++) {
        const fit = scorer.fit(avg, e);
        sc[e] = fit.score;
        sh[e] = fit.shift;
        edge = edge || fit.atEdge;
      }
      const { mean } = meanStd(sc);
      const v = Number.isNaN(mean) ? -Infinity : sign * mean;
      if (bestUnit < 0 || v > bestMean) {
        bestUnit = u;
        bestMean = v;
        bestScores.set(sc);
        bestShifts.set(sh);
        bestEdge = edge;
      }
    }
    if (bestUnit !== units - 1) loadUnit(bestUnit); // avg holds the last unit's spectra
    const prediction = new Float32Array(m);
    const predictionStd = new Float32Array(m);
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let e = 0; e < k; e++) s += avg[e * m + j];
      const mu = s / k;
      let v = 0;
      for (let e = 0; e < k; e++) v += (avg[e * m + j] - mu) ** 2;
      prediction[j] = mu;
      predictionStd[j] = k > 1 ? Math.sqrt(v / (k - 1)) : NaN;
    }
    const { mean: score, std: scoreStd } = meanStd(bestScores);
    const { mean: shift, std: shiftStd } = meanStd(bestShifts);
    targetOnMesh(target.target, target.mesh, target.normalisation, shift, exact);
    const peakT = mainPeakPosition(exact, target.energy, m);
    const peakP = mainPeakPosition(prediction, target.energy, m);
    rows.push({
      rank: 0,
      id: job.cand.id,
      origin: job.cand.origin ?? "",
      site: target.target.kind === "material" ? -1 : job.sites[bestUnit],
      nSites: ns,
      score,
      scoreStd,
      shift,
      shiftStd,
      rankBest: 0,
      rankWorst: 0,
      shiftAtEdge: bestEdge,
      mse: metricRow("mse", prediction, exact, m),
      cosine: metricRow("cosine", prediction, exact, m),
      pearson: metricRow("pearson", prediction, exact, m),
      spearman: metricRow("spearman", prediction, exact, m, 0, rankScratch),
      peakError: Math.abs(peakP - peakT),
      prediction,
      predictionStd,
    });
    memberScores.push(bestScores);
  };

  const runBatch = async (batch: Job[]): Promise<void> => {
    const items: SiteRef[] = [];
    for (const j of batch) for (const s of j.sites) items.push({ structure: j.cand.structure, site: s });
    let preds: Float32Array[];
    const t0 = performance.now();
    try {
      preds = await predictor.predictSites(items);
    } catch (err) {
      predictMs += performance.now() - t0;
      if (batch.length === 1) {
        skipped.push({ id: batch[0].cand.id, reason: errorMessage(err) });
        return;
      }
      for (const j of batch) await runBatch([j]);
      return;
    }
    predictMs += performance.now() - t0;
    if (preds.length !== k || preds.some((p) => p.length !== items.length * m)) {
      throw new Error(`screening: predictor returned ${preds.length} arrays for ${k} members, expected ${items.length} × ${m} values each`);
    }
    sitesPredicted += items.length;
    const t1 = performance.now();
    let row0 = 0;
    for (const j of batch) {
      scoreJob(j, preds, row0);
      row0 += j.sites.length;
    }
    scoreMs += performance.now() - t1;
  };

  let batch: Job[] = [];
  let inBatch = 0;
  let done = 0;
  for (const j of jobs) {
    if (inBatch > 0 && inBatch + j.sites.length > batchSize) {
      await runBatch(batch);
      done += batch.length;
      opts.onProgress?.(done, jobs.length);
      batch = [];
      inBatch = 0;
    }
    batch.push(j);
    inBatch += j.sites.length;
  }
  if (batch.length) {
    await runBatch(batch);
    done += batch.length;
    opts.onProgress?.(done, jobs.length);
  }

  const t2 = performance.now();
  const key = (v: number) => (Number.isNaN(v) ? -Infinity : sign * v);
  const order = rows.map((_, i) => i).sort((a, b) => key(rows[b].score) - key(rows[a].score) || a - b);
  // Per-member ranks: how much the ensemble's members disagree about the order.
  const n = rows.length;
  const best = new Int32Array(n).fill(n);
  const worst = new Int32Array(n);
  const idx = new Int32Array(n);
  for (let e = 0; e < k; e++) {
    for (let i = 0; i < n; i++) idx[i] = i;
    idx.sort((a, b) => key(memberScores[b][e]) - key(memberScores[a][e]) || a - b);
    for (let r = 0; r < n; r++) {
      const i = idx[r];
      if (r + 1 < best[i]) best[i] = r + 1;
      if (r + 1 > worst[i]) worst[i] = r + 1;
    }
  }
  const ranked = order.map((i, r) => ({ ...rows[i], rank: r + 1, rankBest: best[i], rankWorst: worst[i] }));
  scoreMs += performance.now() - t2;
  return { metric, higherIsBetter: higher, members: k, target, rows: ranked, skipped, sitesPredicted, predictMs, scoreMs };
}
