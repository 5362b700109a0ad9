/**
 * Descriptor ablation: train the same estimator on each descriptor alone, on all but one, and on
 * all of them, over several seeds, and compare test metrics. Every seed draws its own grouped-by-
 * material split and model initialisation; within a seed all configurations share that split, so
 * differences between configurations are paired.
 */
import { groupedSplit, SplitFractions, SplitIndices } from "../data/splits";
import { blockColumns, type DescriptorBlock } from "../descriptors/featurizer";
import type { Estimator } from "../model/estimator";
import type { MlpConfig } from "../model/mlp";
import { runAblationLanes } from "./ablation-lane";
import type { Figure, FigureTrace } from "../plots/figure";
import { takeColumns, takeRows, type Matrix } from "../util/matrix";
import { evaluateModel, meanScores, scoresMeanStd, type ScoreName, type Scores } from "../eval/evaluation";
import { meanStd, DEFAULT_SHAPE_CRITERION } from "../eval/metrics";

export type SubsetKind = "single" | "all-but-one" | "all";

export interface AblationSubset {
  /** "rdf", "all − rdf", "all". */
  readonly label: string;
  readonly kind: SubsetKind;
  /** Descriptor names used, in block order. */
  readonly names: string[];
  /** For single/all-but-one: the descriptor that is alone / left out. */
  readonly descriptor?: string;
}

/** The 2n+1 subsets: each descriptor alone, all but each one, and all (n = names.length). */
export function ablationSubsets(names: readonly string[]): AblationSubset[] {
  if (new Set(names).size !== names.length) throw new Error(`ablationSubsets: duplicate names in ${names.join(", ")}`);
  const out: AblationSubset[] = [];
  for (const n of names) out.push({ label: n, kind: "single", names: [n], descriptor: n });
  if (names.length > 2) {
    for (const n of names) out.push({ label: `all − ${n}`, kind: "all-but-one", names: names.filter((x) => x !== n), descriptor: n });
  }
  if (names.length > 1) out.push({ label: "all", kind: "all", names: [...names] });
  return out;
}

/** Test-set figures of one (subset, seed) run. */
export interface RunScores extends Scores {
  seed: number;
  bestEpoch?: number;
  seconds: number;
}

export interface AblationRow extends AblationSubset {
  nFeatures: number;
  runs: RunScores[];
  mean: Scores;
  /** Sample standard deviation over seeds (NaN with one seed). */
  std: Scores;
}

export interface DescriptorImportance {
  name: string;
  /** Mean test MSE with this descriptor alone. */
  aloneMse: number;
  /** Mean over seeds of MSE(all − name) − MSE(all): how much removing it hurts (paired). */
  removalMseIncrease: number;
  removalMseIncreaseStd: number;
  /** Rank (1 = best) of `aloneMse` among the singles. */
  aloneRank: number;
}

export interface AblationResult {
  seeds: number[];
  fractions: SplitFractions;
  blocks: DescriptorBlock[];
  rows: AblationRow[];
  /** Descriptor importance, measured two ways (see `descriptorImportance`). */
  importance: DescriptorImportance[];
  /**
   * The descriptor that matters most: the one whose removal raises the test MSE most, if any
   * removal raises it at all ("removal"); otherwise the best single descriptor ("alone").
   */
  mostImportant: string;
  mostImportantBy: "removal" | "alone";
  seconds: number;
  /** Processes the runs were spread over (1: this one). */
  lanes: number;
}

export interface AblationOptions {
  X: Matrix;
  blocks: readonly DescriptorBlock[];
  Y: Matrix;
  energy: ArrayLike<number>;
  /** Material id of each row: splits keep a material on one side. */
  groups: readonly string[];
  seeds: readonly number[];
  fractions: SplitFractions;
  /** A fresh estimator for one run with this seed. */
  estimator: (seed: number) => Estimator;
  /** Defaults to `ablationSubsets(blocks names)`. */
  subsets?: readonly AblationSubset[];
  /** Called after every run with (done, total, label). */
  onProgress?: (done: number, total: number, label: string, scores: RunScores) => void;
  /**
   * Run the (subset, seed) runs in `count` child processes (lib/study/ablation-lane.ts), each training
   * with one thread, when the runs are MLPs of config `mlp` (the estimator above is then not called).
   * The small ablation nets gain nothing from a second thread inside one step, but two runs at once
   * use both cores. Results are the same as in one process (seeded; the native step's results do
   * not depend on threads).
   */
  lanes?: { count: number; mlp: MlpConfig };
}

/** One (subset, seed) run: fit on the seed's split of the subset's columns, score on its test part. */
export async function ablationRun(Xs: Matrix, Y: Matrix, energy: ArrayLike<number>, sp: SplitIndices, label: string, seed: number, estimator: Estimator): Promise<RunScores> {
  const r0 = performance.now();
  const model = await estimator.fit(Xs, Y, { train: sp.train, val: sp.val });
  const pred = model.predict(takeRows(Xs, sp.test));
  const bestEpoch = model.bestEpoch;
  model.dispose();
  return { seed, ...meanScores(evaluateModel(label, pred, takeRows(Y, sp.test), energy)), bestEpoch, seconds: (performance.now() - r0) / 1000 };
}

/** The seeds' grouped splits, checked non-empty. */
export function ablationSplits(groups: readonly string[], seeds: readonly number[], fractions: SplitFractions): SplitIndices[] {
  const splits = seeds.map((s) => groupedSplit(groups, fractions, s));
  for (const [i, sp] of splits.entries()) {
    if (sp.train.length === 0 || sp.test.length === 0) throw new Error(`runAblation: seed ${seeds[i]} gives an empty train or test part`);
  }
  return splits;
}

/** Run every subset × seed: in this process one after the other, or in child processes (`lanes`). */
export async function runAblation(o: AblationOptions): Promise<AblationResult> {
  const t0 = performance.now();
  const names = o.blocks.map((b) => b.name);
  const subsets = o.subsets ?? ablationSubsets(names);
  if (o.X.rows !== o.groups.length) throw new Error(`runAblation: X has ${o.X.rows} rows but groups has ${o.groups.length}`);
  const splits = ablationSplits(o.groups, o.seeds, o.fractions);
  const total = subsets.length * o.seeds.length;
  let done = 0;
  const columns = subsets.map((subset) => blockColumns(o.blocks, subset.names));
  // results[subset][seed]
  const results: RunScores[][] = subsets.map(() => new Array<RunScores>(o.seeds.length));
  const record = (k: number, scores: RunScores) => {
    const [i, s] = [Math.floor(k / o.seeds.length), k % o.seeds.length];
    results[i][s] = scores;
    done++;
    o.onProgress?.(done, total, subsets[i].label, scores);
  };
  if (o.lanes && o.lanes.count > 1) {
    await runAblationLanes(o.lanes.count, o.lanes.mlp, { X: o.X, Y: o.Y, energy: o.energy, groups: o.groups, seeds: o.seeds, fractions: o.fractions, subsets, columns }, record);
  } else {
    for (let i = 0; i < subsets.length; i++) {
      const Xs = columns[i].length === o.X.cols ? o.X : takeColumns(o.X, columns[i]);
      for (let s = 0; s < o.seeds.length; s++) record(i * o.seeds.length + s, await ablationRun(Xs, o.Y, o.energy, splits[s], subsets[i].label, o.seeds[s], o.estimator(o.seeds[s])));
    }
  }
  const rows: AblationRow[] = subsets.map((subset, i) => ({ ...subset, nFeatures: columns[i].length, runs: results[i], ...scoresMeanStd(results[i]) }));
  const importance = descriptorImportance(rows, names);
  const { name: mostImportant, by: mostImportantBy } = pickMostImportant(importance);
  return {
    seeds: [...o.seeds], fractions: o.fractions, blocks: o.blocks.map((b) => ({ ...b })), rows, importance, mostImportant, mostImportantBy,
    seconds: (performance.now() - t0) / 1000, lanes: o.lanes && o.lanes.count > 1 ? o.lanes.count : 1,
  };
}

export function pickMostImportant(importance: readonly DescriptorImportance[]): { name: string; by: "removal" | "alone" } {
  const byRemoval = importance.filter((r) => Number.isFinite(r.removalMseIncrease) && r.removalMseIncrease > 0).sort((a, b) => b.removalMseIncrease - a.removalMseIncrease);
  if (byRemoval.length) return { name: byRemoval[0].name, by: "removal" };
  const alone = importance.filter((r) => r.aloneRank > 0).sort((a, b) => a.aloneRank - b.aloneRank);
  return { name: alone[0]?.name ?? "", by: "alone" };
}

/**
 * Two measures per descriptor: test MSE when used alone (rank among singles), and the paired
 * increase in test MSE when it is removed from the full set (NaN when those rows were not run).
 */
export function descriptorImportance(rows: readonly AblationRow[], names: readonly string[]): DescriptorImportance[] {
  const all = rows.find((r) => r.kind === "all");
  const singles = rows.filter((r) => r.kind === "single");
  const sortedAlone = [...singles].sort((a, b) => a.mean.mse - b.mean.mse).map((r) => r.descriptor);
  return names.map((name) => {
    const alone = singles.find((r) => r.descriptor === name);
    const minus = rows.find((r) => r.kind === "all-but-one" && r.descriptor === name);
    let inc = NaN;
    let incStd = NaN;
    if (all && minus) {
      const diffs = minus.runs.map((r) => {
        const ref = all.runs.find((a) => a.seed === r.seed);
        return ref ? r.mse - ref.mse : NaN;
      });
      ({ mean: inc, std: incStd } = meanStd(diffs));
    }
    return { name, aloneMse: alone ? alone.mean.mse : NaN, removalMseIncrease: inc, removalMseIncreaseStd: incStd, aloneRank: sortedAlone.indexOf(name) + 1 };
  });
}

/** "mean ± std" with `format` applied to both; the mean alone when std is NaN (one seed has no spread). */
export function formatMeanStd(mean: number, std: number, format: (x: number) => string): string {
  return Number.isNaN(std) ? format(mean) : `${format(mean)} ± ${format(std)}`;
}

export const ABLATION_COLUMNS = ["subset", "features", "test MSE", "Pearson", "cosine", "peak error (eV)", `shape (${DEFAULT_SHAPE_CRITERION.metric} ≥ ${DEFAULT_SHAPE_CRITERION.threshold})`];

/** The cells of one ablation table row: mean ± std over seeds. */
export function ablationRowCells(r: AblationRow): string[] {
  const f = (k: ScoreName, d: number) => formatMeanStd(r.mean[k], r.std[k], (x) => x.toFixed(d));
  return [r.label, String(r.nFeatures), f("mse", 5), f("pearson", 4), f("cosine", 4), f("peakAbsError", 2), f("shapeReproduced", 3)];
}

/** Markdown table of an ablation: one row per subset, mean ± std over seeds. */
export function ablationTable(result: AblationResult): string {
  const lines = [`| ${ABLATION_COLUMNS.join(" | ")} |`, "|---|---:|---:|---:|---:|---:|---:|"];
  for (const r of result.rows) lines.push(`| ${ablationRowCells(r).join(" | ")} |`);
  return lines.join("\n");
}

const KIND_COLOURS: Record<string, string> = { single: "#1f77b4", "all-but-one": "#ff7f0e", all: "#2ca02c" };

const SCORE_LABELS: Record<ScoreName, string> = {
  mse: "test MSE",
  pearson: "mean Pearson",
  cosine: "mean cosine",
  spearman: "mean Spearman",
  peakAbsError: "main-peak error (eV)",
  shapeReproduced: "fraction shape reproduced",
};

/** Bar chart of one score per ablation subset, mean ± std over seeds, coloured by subset kind. */
export function ablationBarFigure(result: AblationResult, score: ScoreName = "mse"): Figure {
  const kinds = ["single", "all-but-one", "all"] as const;
  const data: FigureTrace[] = kinds.map((kind) => {
    const rows = result.rows.filter((r) => r.kind === kind);
    return {
      type: "bar",
      name: kind,
      x: rows.map((r) => r.label),
      y: rows.map((r) => r.mean[score]),
      error_y: { type: "data", array: rows.map((r) => r.std[score]), visible: true },
      marker: { color: KIND_COLOURS[kind] },
    };
  });
  return {
    data,
    layout: {
      title: { text: `Descriptor ablation: ${SCORE_LABELS[score]} (mean ± std over ${result.seeds.length} seeds)` },
      xaxis: { title: { text: "descriptors used" } },
      yaxis: { title: { text: SCORE_LABELS[score] } },
      barmode: "group",
      width: 860,
      height: 460,
    },
  };
}

