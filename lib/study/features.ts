/**
 * Dataset and feature table of a study: build the dataset from the shared data, featurise every
 * row with the configured descriptor specs (rows that fail are reported, never silently dropped).
 */
import * as path from "node:path";
import { sharedDataDir, workDir } from "../config";
import { buildDataset, Dataset } from "../data/dataset";
import { collectFeffFolders } from "../data/feff";
import { collectColumnSets } from "../data/columns";
import { saveDataset } from "../data/store";
import { groupedSplit, SplitIndices } from "../data/splits";
import { Featurizer, type DescriptorBlock } from "../descriptors/featurizer";
import type { DescriptorSpec } from "../descriptors/types";
import { DEFAULT_MESHES } from "../spectra/mesh";
import { spectralContract, type SpectralContract } from "../model/spectral";
import { errorMessage } from "../util/errors";
import { takeRows, type Matrix } from "../util/matrix";
import type { StudyConfig } from "./config";

/** Build the Cu K-edge dataset (≈1 s for the full set) and save a copy under the work dir. */
export async function buildStudyDataset(cfg: StudyConfig, log: (s: string) => void = () => {}): Promise<Dataset> {
  const root = path.join(sharedDataDir(), cfg.dataset.source);
  const ds = await buildDataset({
    name: `${cfg.dataset.source}-${cfg.profile}`,
    sourceLabel: cfg.dataset.source,
    sources: collectFeffFolders(root, cfg.dataset.maxMaterials ? { maxMaterials: cfg.dataset.maxMaterials } : {}),
    mesh: DEFAULT_MESHES[cfg.dataset.mesh],
    normalisation: cfg.dataset.normalisation,
    filters: { elements: [cfg.dataset.element] },
    // The dataset's saved splits (random by spectrum and grouped by material) use the study's
    // fractions and seed, so the random split is comparable with the grouped one.
    splitSeed: cfg.split.seed,
    splitFractions: cfg.split.fractions,
  });
  const q = ds.config.quality;
  log(
    `dataset: ${ds.meta.length} spectra of ${ds.structures.size} materials on ${ds.energy.length} mesh points ` +
      `(${ds.energy[0]}–${ds.energy[ds.energy.length - 1]} eV); dropped ${q.dropped.length} ` +
      `${JSON.stringify(q.droppedByReason)}` +
      (q.held ? `; end values held (within ${ds.config.maxHold} eV) at the start for ${q.held.start}, at the end for ${q.held.end}` : "") +
      ` in ${ds.config.buildSeconds.toFixed(1)} s`,
  );
  // A copy for inspection only; notebooks run in parallel may race on the folder, which must not fail the study.
  const copy = path.join(workDir(), "datasets", `experiment-cu-k-${cfg.profile}`);
  try {
    saveDataset(ds, copy);
  } catch (e) {
    log(`note: could not save the dataset copy to ${copy}: ${errorMessage(e)}`);
  }
  return ds;
}

/** The O K-edge (Li3FeO3.5) dataset: three MD snapshots, each its own "material". */
export async function buildOxygenDataset(cfg: StudyConfig): Promise<Dataset> {
  const dir = path.join(sharedDataDir(), cfg.oxygen.source);
  return buildDataset({ name: cfg.oxygen.source, sourceLabel: cfg.oxygen.source, sources: collectColumnSets(dir), mesh: DEFAULT_MESHES[cfg.oxygen.mesh] });
}

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

/** The spectral contract of a dataset's spectra (saved with every predictor trained on them). */
export function datasetSpectral(ds: Dataset, element: string, edge: string): SpectralContract {
  return spectralContract(ds.config.mesh, element, edge, ds.config.normalisation);
}

/** The study's grouped split (seeded; no material on both sides). */
export function studySplit(groups: readonly string[], cfg: StudyConfig, seed = cfg.split.seed): SplitIndices {
  return groupedSplit(groups, cfg.split.fractions, seed);
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
