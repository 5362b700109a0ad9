/**
 * The one place where measured-spectra validation calls the dataset / featurisation / training APIs
 * (buildDataset mesh options, featurizeExperiment, trainEnsemble → XanesPredictor). Those APIs are
 * being refactored (issues 9 and 11); keeping every call here means one file to adapt.
 *
 * The model is trained on the FEFF Cu set put on a mesh that starts at or before the earliest FEFF
 * energy (8983 eV; runs starting later hold their first value) with edge-step normalisation
 * (lib/spectra/normalize, zero pre-edge), i.e. the spectra the matching compares.
 */
import * as path from "node:path";
import { buildDataset, Dataset } from "../data/dataset";
import { collectFeffFolders } from "../data/feff";
import { DESCRIPTOR_NAMES } from "../descriptors/featurizer";
import { featurizeDataset } from "../descriptors/table";
import { datasetSpectral } from "../model/spectral";
import { mlpConfig } from "../model/mlp";
import type { EnergyMesh } from "../spectra/mesh";
import type { Structure } from "../structure/types";
import { equivalentSites } from "../geometry/equivalence";
import { trainEnsemble } from "../model/ensemble";
import { ensemblePredictor } from "./predictor";
import type { ScreeningPredictor } from "./types";
import type { XanesPredictor } from "../model/predictor";

export interface MeasuredModelOptions {
  /** FEFF root (feff-cu-k-oxides). */
  root: string;
  mesh: EnergyMesh;
  seeds: readonly number[];
  epochs: number;
  hidden?: number[];
  /** Materials left out of training (e.g. the targets' true structures, for an honest rank). */
  exclude?: readonly string[];
  /** At most this many materials (quick runs). */
  maxMaterials?: number;
  log?: (line: string) => void;
}

export interface MeasuredModel {
  readonly members: XanesPredictor[];
  readonly predictor: ScreeningPredictor;
  readonly dataset: Dataset;
  readonly trainRows: number;
  readonly seconds: { dataset: number; featurise: number; train: number };
}

/** Build the dataset on `mesh`, featurise with the five study descriptors, train one MLP per seed. */
export async function trainMeasuredModel(o: MeasuredModelOptions): Promise<MeasuredModel> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const dataset = await buildDataset({
    name: "cu-measured-validation",
    sources: collectFeffFolders(o.root, { maxMaterials: o.maxMaterials }),
    sourceLabel: path.basename(o.root),
    mesh: o.mesh,
    normalisation: "edge-step",
    outOfWindow: "clamp",
    filters: { elements: ["Cu"] },
  });
  const t1 = performance.now();
  const table = featurizeDataset(dataset, DESCRIPTOR_NAMES.map((name) => ({ name })), "Cu");
  const t2 = performance.now();
  const exclude = new Set(o.exclude ?? []);
  const trainIdx = table.rows.map((_, i) => i).filter((i) => !exclude.has(table.groups[i]));
  log(`dataset ${dataset.meta.length} spectra on ${o.mesh.points} points from ${o.mesh.start} eV; ${table.rows.length} featurised; training on ${trainIdx.length} (${exclude.size} materials excluded)`);
  const members = await trainEnsemble(table.X, table.Y, table.featurizer, datasetSpectral(dataset, "Cu", "K"), {
    config: mlpConfig({ hidden: o.hidden ?? [256, 256], epochs: o.epochs, batchSize: 64, learningRate: 1e-3 }),
    split: { train: trainIdx },
    seeds: o.seeds,
    meta: { normalisation: "edge-step", dataset: dataset.config.name, meshStart: o.mesh.start },
    onMember: (i, r) => log(`member ${i + 1}/${o.seeds.length}: best epoch ${r.bestEpoch}, ${((performance.now() - t2) / 1000).toFixed(0)} s so far`),
  });
  const t3 = performance.now();
  return {
    members,
    predictor: ensemblePredictor(members),
    dataset,
    trainRows: trainIdx.length,
    seconds: { dataset: (t1 - t0) / 1000, featurise: (t2 - t1) / 1000, train: (t3 - t2) / 1000 },
  };
}

/**
 * Whole-material predictions: every Cu environment class predicted once by every member, averaged
 * with the class sizes as weights. Returns one mesh spectrum per member and the pointwise spread.
 */
export async function predictMaterial(predictor: ScreeningPredictor, structure: Structure, element = "Cu"): Promise<{ members: Float64Array[]; band: Float64Array }> {
  const eq = equivalentSites(structure, element);
  const sites = eq.groups.map((g) => g[0]);
  const weights = eq.groups.map((g) => g.length);
  const wsum = weights.reduce((a, b) => a + b, 0);
  const preds = await predictor.predictSites(sites.map((site) => ({ structure, site })));
  const m = predictor.energy.length;
  const members = preds.map((p) => {
    const out = new Float64Array(m);
    sites.forEach((_, s) => {
      for (let j = 0; j < m; j++) out[j] += (weights[s] / wsum) * p[s * m + j];
    });
    return out;
  });
  const band = new Float64Array(m);
  if (members.length > 1) {
    for (let j = 0; j < m; j++) {
      let mu = 0;
      for (const x of members) mu += x[j];
      mu /= members.length;
      let v = 0;
      for (const x of members) v += (x[j] - mu) ** 2;
      band[j] = Math.sqrt(v / (members.length - 1));
    }
  }
  return { members, band };
}
