/**
 * Dataset and split of a study: build the dataset from the shared data (featurising it:
 * lib/descriptors/table.ts).
 */
import * as path from "node:path";
import { sharedDataDir, workDir } from "../config";
import { buildDataset, Dataset } from "../data/dataset";
import { collectFeffFolders } from "../data/feff";
import { collectColumnSets } from "../data/columns";
import { saveDataset } from "../data/store";
import { groupedSplit, SplitIndices } from "../data/splits";
import { DEFAULT_MESHES } from "../spectra/mesh";
import { errorMessage } from "../util/errors";
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

/** The study's grouped split (seeded; no material on both sides). */
export function studySplit(groups: readonly string[], cfg: StudyConfig, seed = cfg.split.seed): SplitIndices {
  return groupedSplit(groups, cfg.split.fractions, seed);
}
