/**
 * Descriptor ablation: train the same model on each descriptor alone, on all but one, and on all
 * of them, over several seeds, and compare test metrics. Every seed draws its own grouped-by-
 * material split and model initialisation; within a seed all configurations share that split, so
 * differences between configurations are paired.
 */
import { groupedSplit, SplitFractions, SplitIndices } from "../data/splits";
import { takeColumns, takeRows } from "./baselines";
import { evaluateSpectra, meanStd, shapeReproduced, summarize, DEFAULT_SHAPE_CRITERION } from "./metrics";

/** A contiguous block of descriptor columns (as the featurizer reports it). */
export interface FeatureBlock {
  readonly name: string;
  readonly start: number;
  readonly length: number;
}

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
    for (const n of names) {
      out.push({ label: `all − ${n}`, kind: "all-but-one", names: names.filter((x) => x !== n), descriptor: n });
    }
  }
  if (names.length > 1) out.push({ label: "all", kind: "all", names: [...names] });
  return out;
}

/** Column indices of the named blocks, in block order. Throws on an unknown name. */
export function blockColumns(blocks: readonly FeatureBlock[], names: readonly string[]): Int32Array {
  for (const n of names) {
    if (!blocks.some((b) => b.name === n)) {
      throw new Error(`unknown descriptor block "${n}"; have ${blocks.map((b) => b.name).join(", ")}`);
    }
  }
  const chosen = blocks.filter((b) => names.includes(b.name));
  const cols = new Int32Array(chosen.reduce((s, b) => s + b.length, 0));
  let c = 0;
  for (const b of chosen) for (let j = 0; j < b.length; j++) cols[c++] = b.start + j;
  return cols;
}

/** What a trainer returns: something that predicts spectra for rows of a feature matrix. */
export interface FittedModel {
  /** Predictions (rows.length × nOut) for rows `rows` of X (N × nFeatures). */
  predictRows(X: Float32Array, rows: readonly number[]): Float32Array | Promise<Float32Array>;
  /** Epoch with the best validation loss, when the trainer early-stops. */
  bestEpoch?: number;
  /** Free the model's memory (tensors). */
  dispose?(): void;
}

/** Trains a model on rows `trainIdx` (early stopping on `valIdx`) of X → Y. */
export type Trainer = (
  X: Float32Array,
  nFeatures: number,
  Y: Float32Array,
  nOut: number,
  opts: { trainIdx: readonly number[]; valIdx: readonly number[]; seed: number },
) => Promise<FittedModel>;

/** Test-set figures of one (subset, seed) run. */
export interface RunScores {
  seed: number;
  mse: number;
  pearson: number;
  cosine: number;
  spearman: number;
  peakAbsError: number;
  /** Fraction with the default shape criterion (see DEFAULT_SHAPE_CRITERION). */
  shapeReproduced: number;
  bestEpoch?: number;
  seconds: number;
}

export const SCORE_NAMES = ["mse", "pearson", "cosine", "spearman", "peakAbsError", "shapeReproduced"] as const;
export type ScoreName = (typeof SCORE_NAMES)[number];

export interface AblationRow extends AblationSubset {
  nFeatures: number;
  runs: RunScores[];
  mean: Record<ScoreName, number>;
  /** Sample standard deviation over seeds (0 with one seed). */
  std: Record<ScoreName, number>;
}

export interface AblationResult {
  seeds: number[];
  fractions: SplitFractions;
  blocks: FeatureBlock[];
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

export interface AblationOptions {
  X: Float32Array;
  nFeatures: number;
  blocks: readonly FeatureBlock[];
  Y: Float32Array;
  nOut: number;
  energy: ArrayLike<number>;
  /** Material id of each row: splits keep a material on one side. */
  groups: readonly string[];
  seeds: readonly number[];
  fractions: SplitFractions;
  fit: Trainer;
  /** Defaults to `ablationSubsets(blocks names)`. */
  subsets?: readonly AblationSubset[];
  /** Called after every run with (done, total, label). */
  onProgress?: (done: number, total: number, label: string, scores: RunScores) => void;
}

/** Scores of one prediction matrix against the truth rows `rows` of Y. */
export function scorePredictions(
  pred: Float32Array,
  Y: Float32Array,
  nOut: number,
  rows: readonly number[],
  energy: ArrayLike<number>,
): Omit<RunScores, "seed" | "seconds" | "bestEpoch"> {
  const m = evaluateSpectra(pred, takeRows(Y, nOut, rows), energy);
  return {
    mse: summarize(m.mse).mean,
    pearson: summarize(m.pearson).mean,
    cosine: summarize(m.cosine).mean,
    spearman: summarize(m.spearman).mean,
    peakAbsError: summarize(m.peakAbsError).mean,
    shapeReproduced: shapeReproduced(m).default.fraction,
  };
}

/** Run every subset × seed. Sequential (the model backend already uses both cores). */
export async function runAblation(o: AblationOptions): Promise<AblationResult> {
  const t0 = performance.now();
  const names = o.blocks.map((b) => b.name);
  const subsets = o.subsets ?? ablationSubsets(names);
  if (o.X.length !== o.groups.length * o.nFeatures) {
    throw new Error(`runAblation: X has ${o.X.length / o.nFeatures} rows but groups has ${o.groups.length}`);
  }
  const splits: SplitIndices[] = o.seeds.map((s) => groupedSplit(o.groups, o.fractions, s));
  for (const [i, sp] of splits.entries()) {
    if (sp.train.length === 0 || sp.test.length === 0) {
      throw new Error(`runAblation: seed ${o.seeds[i]} gives an empty train or test part`);
    }
  }
  const total = subsets.length * o.seeds.length;
  let done = 0;
  const rows: AblationRow[] = [];
  for (const subset of subsets) {
    const cols = blockColumns(o.blocks, subset.names);
    const Xs = cols.length === o.nFeatures ? o.X : takeColumns(o.X, o.nFeatures, cols);
    const runs: RunScores[] = [];
    for (let s = 0; s < o.seeds.length; s++) {
      const seed = o.seeds[s];
      const sp = splits[s];
      const r0 = performance.now();
      const model = await o.fit(Xs, cols.length, o.Y, o.nOut, { trainIdx: sp.train, valIdx: sp.val, seed });
      const pred = await model.predictRows(Xs, sp.test);
      model.dispose?.();
      const scores: RunScores = {
        seed,
        ...scorePredictions(pred, o.Y, o.nOut, sp.test, o.energy),
        bestEpoch: model.bestEpoch,
        seconds: (performance.now() - r0) / 1000,
      };
      runs.push(scores);
      done++;
      o.onProgress?.(done, total, subset.label, scores);
    }
    const mean = {} as Record<ScoreName, number>;
    const std = {} as Record<ScoreName, number>;
    for (const k of SCORE_NAMES) {
      const ms = meanStd(runs.map((r) => r[k]));
      mean[k] = ms.mean;
      std[k] = ms.std;
    }
    rows.push({ ...subset, nFeatures: cols.length, runs, mean, std });
  }
  const importance = descriptorImportance(rows, names);
  const { name: mostImportant, by: mostImportantBy } = pickMostImportant(importance);
  return {
    seeds: [...o.seeds],
    fractions: o.fractions,
    blocks: o.blocks.map((b) => ({ ...b })),
    rows,
    importance,
    mostImportant,
    mostImportantBy,
    seconds: (performance.now() - t0) / 1000,
  };
}

export function pickMostImportant(importance: readonly DescriptorImportance[]): { name: string; by: "removal" | "alone" } {
  const byRemoval = importance
    .filter((r) => Number.isFinite(r.removalMseIncrease) && r.removalMseIncrease > 0)
    .sort((a, b) => b.removalMseIncrease - a.removalMseIncrease);
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
      const ms = meanStd(diffs);
      inc = ms.mean;
      incStd = ms.std;
    }
    return {
      name,
      aloneMse: alone ? alone.mean.mse : NaN,
      removalMseIncrease: inc,
      removalMseIncreaseStd: incStd,
      aloneRank: sortedAlone.indexOf(name) + 1,
    };
  });
}

/** "mean ± std" with `format` applied to both; the mean alone when std is NaN (one seed has no spread). */
export function formatMeanStd(mean: number, std: number, format: (x: number) => string): string {
  return Number.isNaN(std) ? format(mean) : `${format(mean)} ± ${format(std)}`;
}

/** Markdown table of an ablation: one row per subset, mean ± std over seeds. */
export function ablationTable(result: AblationResult): string {
  const f = (m: number, s: number, d: number) => formatMeanStd(m, s, (x) => x.toFixed(d));
  const lines = [
    `| subset | features | test MSE | Pearson | cosine | peak error (eV) | shape (${DEFAULT_SHAPE_CRITERION.metric} ≥ ${DEFAULT_SHAPE_CRITERION.threshold}) |`,
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of result.rows) {
    lines.push(
      `| ${r.label} | ${r.nFeatures} | ${f(r.mean.mse, r.std.mse, 5)} | ${f(r.mean.pearson, r.std.pearson, 4)} | ${f(
        r.mean.cosine,
        r.std.cosine,
        4,
      )} | ${f(r.mean.peakAbsError, r.std.peakAbsError, 2)} | ${f(r.mean.shapeReproduced, r.std.shapeReproduced, 3)} |`,
    );
  }
  return lines.join("\n");
}
