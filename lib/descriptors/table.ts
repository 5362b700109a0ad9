/**
 * The feature table of a dataset: every row featurised with the given descriptor specs (rows that fail
 * are reported in `errors`, never silently dropped), with the spectra and material of each feature row.
 */
import type { Dataset } from "../data/dataset";
import type { SplitIndices } from "../data/splits";
import { takeRows, type Matrix } from "../util/matrix";
import { Featurizer, type DescriptorBlock } from "./featurizer";
import type { DescriptorSpec } from "./types";

/** Features of every dataset row that featurises. */
export interface FeatureTable {
  X: Matrix;
  blocks: DescriptorBlock[];
  /** Dataset row of each feature row. */
  rows: number[];
  /** Spectra of `rows`. */
  Y: Matrix;
  /** Material id of each row (split groups). */
  groups: string[];
  errors: { row: number; message: string }[];
  featurizer: Featurizer;
  seconds: number;
}

/** `absorber`: the element whose sites the dataset's spectra belong to (the descriptors centre on it). */
export function featurizeDataset(ds: Dataset, descriptors: readonly DescriptorSpec[], absorber: string, onProgress?: (done: number, total: number) => void): FeatureTable {
  const t0 = performance.now();
  const featurizer = new Featurizer({ descriptors, absorber });
  const items = ds.meta.map((m) => {
    const structure = ds.structures.get(m.materialId);
    if (!structure) throw new Error(`featurizeDataset: dataset has no structure for ${m.materialId}`);
    return { structure, site: m.site };
  });
  const res = featurizer.featurizeBatch(items, onProgress);
  const M = ds.energy.length;
  return {
    X: { data: res.features, rows: res.rows.length, cols: featurizer.length },
    blocks: featurizer.blocks.map((b) => ({ ...b })),
    rows: res.rows,
    Y: takeRows({ data: ds.spectra, rows: ds.meta.length, cols: M }, res.rows),
    groups: res.rows.map((r) => ds.meta[r].materialId),
    errors: res.errors.map((e) => ({ row: e.item, message: e.message })),
    featurizer,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * A dataset split (`ds.splits.random` / `.grouped`, dataset rows) mapped onto feature-table rows;
 * dataset rows that failed featurisation (table.errors) are left out.
 */
export function featureRowSplit(split: SplitIndices, table: FeatureTable): SplitIndices {
  const toFeatureRow = new Map<number, number>();
  table.rows.forEach((r, i) => toFeatureRow.set(r, i));
  const map = (rows: readonly number[]) => rows.flatMap((r) => (toFeatureRow.has(r) ? [toFeatureRow.get(r)!] : []));
  return { train: map(split.train), val: map(split.val), test: map(split.test) };
}
