/**
 * Does screening find the right structure? Held-out dataset spectra are used as targets with their
 * structure hidden among other held-out materials; we record where the true material ranks.
 */
import type { Dataset } from "../data/dataset";
import { createRng, shuffleInPlace } from "../util/random";
import { quantileSorted } from "../eval/metrics";
import type { Candidate, ScreeningMetric, ScreeningPredictor } from "./types";
import { averagedTargetFromDataset, candidatesFromDataset, materialAverageWeights, targetFromDataset } from "./sources";
import { prepareTarget } from "./shift";
import { screenCandidates } from "./rank";
import { cachedPredictor } from "./predictor";

export interface RecoveryTargetRef {
  materialId: string;
  /** Dataset row of a site target; -1 for the material's multiplicity-weighted average spectrum. */
  row: number;
}

export interface RecoveryPlan {
  /** Targets, at most one per material so they are independent. */
  targets: RecoveryTargetRef[];
  /** One per material; includes every target's material. */
  candidates: Candidate[];
}

/**
 * Pick `nCandidates` materials at random from the rows of `split` (held-out rows: the grouped test
 * split keeps whole materials unseen by the model) and `nTargets` targets among them, one per
 * material. kind "site" (default): a random site spectrum of the material. kind "material": the
 * average over all its absorbing sites (see averagedTargetFromDataset), so only materials whose every
 * absorbing site has a spectrum can be targets. Seeded.
 */
export function planRankRecovery(
  ds: Dataset,
  opts: { rows: readonly number[]; nCandidates: number; nTargets: number; seed?: number; kind?: "site" | "material" },
): RecoveryPlan {
  const rng = createRng(opts.seed ?? 0);
  const byMaterial = new Map<string, number[]>();
  for (const i of opts.rows) {
    const id = ds.meta[i].materialId;
    const list = byMaterial.get(id);
    if (list) list.push(i);
    else byMaterial.set(id, [i]);
  }
  const materials = shuffleInPlace([...byMaterial.keys()].sort(), rng);
  if (materials.length < opts.nCandidates) throw new Error(`planRankRecovery: only ${materials.length} materials in the rows, ${opts.nCandidates} candidates requested`);
  let chosen: string[];
  let targets: RecoveryTargetRef[];
  if (opts.kind === "material") {
    const complete = materials.filter((id) => typeof materialAverageWeights(ds, id, byMaterial.get(id)!) !== "string");
    if (complete.length < opts.nTargets) throw new Error(`planRankRecovery: only ${complete.length} materials have spectra for every absorbing site class, ${opts.nTargets} targets requested`);
    const tset = new Set(complete.slice(0, opts.nTargets));
    chosen = [...tset, ...materials.filter((id) => !tset.has(id))].slice(0, opts.nCandidates);
    targets = [...tset].map((materialId) => ({ materialId, row: -1 }));
  } else {
    chosen = materials.slice(0, opts.nCandidates);
    targets = chosen.slice(0, opts.nTargets).map((materialId) => {
      const rows = byMaterial.get(materialId)!;
      return { materialId, row: rows[Math.floor(rng() * rows.length)] };
    });
  }
  const firstRow = chosen.map((id) => byMaterial.get(id)![0]);
  return { targets, candidates: candidatesFromDataset(ds, firstRow) };
}

export interface RecoveryTarget {
  /** Dataset row of a site target; -1 for an averaged (material) target. */
  row: number;
  materialId: string;
  site: number;
  /** 1-based rank of the true material (Infinity if it was skipped). */
  rank: number;
  /** Site of the true material that matched best (-1 for material targets). */
  matchedSite: number;
  trueScore: number;
  /** Shift fitted for the true material, eV (dataset targets are aligned: ideal 0). */
  trueShift: number;
  topId: string;
  topScore: number;
}

export interface RecoveryResult {
  metric: ScreeningMetric;
  window: number;
  nCandidates: number;
  perTarget: RecoveryTarget[];
  medianRank: number;
  meanRank: number;
  /** Fractions of targets whose true material ranks first / in the top 5 / top 10. */
  top1: number;
  top5: number;
  top10: number;
  /** Median rank expected from a random order: (n + 1) / 2. */
  randomMedian: number;
  /** Wall time of the whole evaluation, s; sites predicted once (cached across targets). */
  seconds: number;
  sitesPredicted: number;
}

/** Screen every target of `plan` against all its candidates and summarise the true material's rank. */
export async function rankRecovery(
  ds: Dataset,
  plan: RecoveryPlan,
  predictor: ScreeningPredictor,
  opts: { element: string; metric?: ScreeningMetric; window?: number },
): Promise<RecoveryResult> {
  const t0 = performance.now();
  const cached = cachedPredictor(predictor);
  const metric = opts.metric ?? "cosine";
  const window = opts.window ?? 0;
  const perTarget: RecoveryTarget[] = [];
  for (const ref of plan.targets) {
    const target = ref.row >= 0 ? targetFromDataset(ds, ref.row) : averagedTargetFromDataset(ds, ref.materialId);
    const prepared = prepareTarget(target, ds.config.mesh, { normalisation: ds.config.normalisation, window });
    const res = await screenCandidates(prepared, plan.candidates, cached, { element: opts.element, metric });
    const id = ref.materialId;
    const at = res.rows.findIndex((r) => r.id === id);
    perTarget.push({
      row: ref.row,
      materialId: id,
      site: ref.row >= 0 ? ds.meta[ref.row].site : -1,
      rank: at >= 0 ? at + 1 : Infinity,
      matchedSite: at >= 0 ? res.rows[at].site : -1,
      trueScore: at >= 0 ? res.rows[at].score : NaN,
      trueShift: at >= 0 ? res.rows[at].shift : NaN,
      topId: res.rows[0]?.id ?? "",
      topScore: res.rows[0]?.score ?? NaN,
    });
  }
  const ranks = Float64Array.from(perTarget, (t) => t.rank).sort();
  const n = ranks.length;
  const frac = (k: number) => perTarget.filter((t) => t.rank <= k).length / n;
  return {
    metric,
    window,
    nCandidates: plan.candidates.length,
    perTarget,
    medianRank: quantileSorted(ranks, 0.5),
    meanRank: ranks.reduce((a, b) => a + b, 0) / n,
    top1: frac(1),
    top5: frac(5),
    top10: frac(10),
    randomMedian: (plan.candidates.length + 1) / 2,
    seconds: (performance.now() - t0) / 1000,
    sitesPredicted: cached.misses,
  };
}
