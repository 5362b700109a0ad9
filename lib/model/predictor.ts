/**
 * Structure + site → predicted spectrum on the model's energy mesh: featurizer, scalers and MLP
 * bundled, saved and reloaded together. Input clipping (trainMlp's inputClip) is part of the
 * model's input scaler, so a site far outside the training range gets a bounded prediction here too.
 */
import * as fs from "fs";
import * as path from "path";
import type { Structure } from "../structure/types";
import { InputError } from "../util/errors";
import { Featurizer, FeaturizerConfig } from "../descriptors/featurizer";
import { XanesMlp } from "./mlp";
import { loadModel, saveModel, XanesModelMeta } from "./io";
import { SiteSymmetryInfo, symmetryOf } from "../geometry/symmetry";

/** What the predictor needs from a featurizer (lib/descriptors Featurizer satisfies it). */
export interface FeaturizerLike {
  readonly length: number;
  featurizeSite(structure: Structure, site: number, out?: Float32Array, offset?: number): Float32Array;
  toJSON(): unknown;
}

export interface PredictedSpectrum {
  site: number;
  /** Space group and Wyckoff position of the absorbing site (absent for clusters, which have none). */
  symmetry?: SiteSymmetryInfo;
  /** Mesh energies, eV (shared with the predictor; do not modify). */
  energy: Float64Array;
  mu: Float32Array;
}

export class XanesPredictor {
  readonly energy: Float64Array;

  constructor(
    readonly model: XanesMlp,
    readonly featurizer: FeaturizerLike,
    energyMesh: ArrayLike<number>,
    /** Metadata saved with the model (normalisation, training history, …). */
    readonly meta: XanesModelMeta = {},
  ) {
    if (featurizer.length !== model.nFeatures) {
      throw new Error(`XanesPredictor: featurizer gives ${featurizer.length} features, model expects ${model.nFeatures}`);
    }
    if (energyMesh.length !== model.nOutputs) {
      throw new Error(`XanesPredictor: energy mesh has ${energyMesh.length} points, model outputs ${model.nOutputs}`);
    }
    this.energy = Float64Array.from(energyMesh);
  }

  /** The spectrum of one absorbing site; InputError (naming structure and site) for a bad site. */
  predict(structure: Structure, site: number): PredictedSpectrum {
    const x = this.featurizer.featurizeSite(structure, site);
    return { site, symmetry: symmetryOf(structure, site), energy: this.energy, mu: this.model.predict(x) };
  }

  /**
   * Spectra of several sites of one structure in one batched model call. Sites the featurizer
   * rejects (InputError) are skipped and listed in `skipped` with the reason.
   */
  predictSites(structure: Structure, sites: readonly number[]): { spectra: PredictedSpectrum[]; skipped: { site: number; reason: string }[] } {
    const d = this.featurizer.length;
    const X = new Float32Array(sites.length * d);
    const ok: number[] = [];
    const skipped: { site: number; reason: string }[] = [];
    for (const site of sites) {
      try {
        this.featurizer.featurizeSite(structure, site, X, ok.length * d);
        ok.push(site);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        skipped.push({ site, reason: e.message });
      }
    }
    const Y = this.model.predict(X.subarray(0, ok.length * d));
    const m = this.model.nOutputs;
    const spectra = ok.map((site, k) => ({ site, symmetry: symmetryOf(structure, site), energy: this.energy, mu: Y.slice(k * m, (k + 1) * m) }));
    return { spectra, skipped };
  }

  /** Saves model, scalers, featurizer configuration and mesh (see saveModel). */
  async save(dir: string, meta: XanesModelMeta = {}): Promise<{ dir: string; files: string[] }> {
    return saveModel(dir, this.model, {
      ...this.meta,
      ...meta,
      featurizer: this.featurizer.toJSON(),
      energyMesh: Array.from(this.energy),
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}

/**
 * Loads a predictor saved by XanesPredictor.save. The featurizer is rebuilt from the saved
 * configuration (`new Featurizer(config)`) unless one is injected.
 */
export async function loadPredictor(dir: string, options: { featurizer?: FeaturizerLike } = {}): Promise<XanesPredictor> {
  const descPath = path.join(dir, "xanes-model.json");
  if (!fs.existsSync(descPath)) throw new Error(`loadPredictor: ${descPath} not found`);
  const { model, meta } = await loadModel(dir);
  try {
    if (!meta.energyMesh) throw new Error(`loadPredictor: ${descPath} has no meta.energyMesh`);
    let featurizer = options.featurizer;
    if (!featurizer) {
      if (!meta.featurizer) throw new Error(`loadPredictor: ${descPath} has no meta.featurizer configuration; pass options.featurizer`);
      featurizer = new Featurizer(meta.featurizer as FeaturizerConfig);
    }
    return new XanesPredictor(model, featurizer, meta.energyMesh, meta);
  } catch (e) {
    // The network's tensors were already allocated: free them before reporting the bad file.
    model.dispose();
    throw e;
  }
}
