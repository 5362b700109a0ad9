import { createRng, shuffleInPlace } from "../util/random";

/** Fractions of the data in each part; they must sum to 1 (val may be 0). */
export interface SplitFractions {
  readonly train: number;
  readonly val: number;
  readonly test: number;
}

/** Row indices (into the dataset's spectra) of each part, each list sorted ascending. */
export interface SplitIndices {
  readonly train: number[];
  readonly val: number[];
  readonly test: number[];
}

export interface DatasetSplits {
  readonly seed: number;
  readonly fractions: SplitFractions;
  /** By spectrum, as the study: sites of one material can fall on both sides. */
  readonly random: SplitIndices;
  /** By material: all spectra of a material are in one part (no compound on both sides). */
  readonly grouped: SplitIndices;
}

/** The study's 80/20 split. */
export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { train: 0.8, val: 0, test: 0.2 };

function checkFractions(f: SplitFractions): void {
  const s = f.train + f.val + f.test;
  if (!(f.train >= 0 && f.val >= 0 && f.test >= 0) || Math.abs(s - 1) > 1e-9) {
    throw new RangeError(`split fractions must be ≥ 0 and sum to 1, got ${JSON.stringify(f)}`);
  }
}

const byNumber = (a: number, b: number) => a - b;

/** Seeded random split of `n` items. Part sizes are rounded from the fractions; test gets the rest. */
export function randomSplit(n: number, fractions: SplitFractions, seed: number): SplitIndices {
  checkFractions(fractions);
  const idx = shuffleInPlace(Array.from({ length: n }, (_, i) => i), createRng(seed));
  const nTrain = Math.round(n * fractions.train);
  const nVal = Math.min(n - nTrain, Math.round(n * fractions.val));
  return {
    train: idx.slice(0, nTrain).sort(byNumber),
    val: idx.slice(nTrain, nTrain + nVal).sort(byNumber),
    test: idx.slice(nTrain + nVal).sort(byNumber),
  };
}

/**
 * Seeded split by group (material): groups are shuffled, then assigned to train until it holds
 * its share of items, then to val, then the rest to test. Part sizes are close to, not exactly, the fractions.
 */
export function groupedSplit(groups: readonly string[], fractions: SplitFractions, seed: number): SplitIndices {
  checkFractions(fractions);
  const members = new Map<string, number[]>();
  groups.forEach((g, i) => {
    const list = members.get(g);
    if (list) list.push(i);
    else members.set(g, [i]);
  });
  const keys = shuffleInPlace([...members.keys()].sort(), createRng(seed));
  const n = groups.length;
  const trainTarget = n * fractions.train;
  const valTarget = n * (fractions.train + fractions.val);
  const train: number[] = [];
  const val: number[] = [];
  const test: number[] = [];
  let placed = 0;
  for (const k of keys) {
    const m = members.get(k)!;
    // Put the group where the running total lands closest to the target boundary.
    const mid = placed + m.length / 2;
    const part = mid <= trainTarget ? train : mid <= valTarget ? val : test;
    for (const i of m) part.push(i);
    placed += m.length;
  }
  return { train: train.sort(byNumber), val: val.sort(byNumber), test: test.sort(byNumber) };
}

export function makeSplits(groups: readonly string[], fractions: SplitFractions, seed: number): DatasetSplits {
  return {
    seed,
    fractions,
    random: randomSplit(groups.length, fractions, seed),
    grouped: groupedSplit(groups, fractions, seed),
  };
}
