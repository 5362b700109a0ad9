/**
 * Structure + site → predicted spectrum on the model's mesh: featurizer, scalers, MLP and the
 * spectral contract bundled, saved and reloaded together. Input clipping (MlpConfig.inputClip) is
 * part of the model's input scaler, so a site far outside the training range gets a bounded
 * prediction here too.
 */
import * as path from "node:path";
import type { Structure } from "../structure/types";
import { InputError, errorMessage } from "../util/errors";
import { Featurizer, FeaturizerConfig } from "../descriptors/featurizer";
import { XanesMlp } from "./mlp";
import { loadModel, saveModel, type DescriptorRecord, type LoadModelOptions, type XanesModelFile, type XanesModelMeta } from "./io";
import { spectralEnergies, type SpectralContract } from "./spectral";
import { SiteSymmetryInfo, symmetryOf } from "../geometry/symmetry";

/** What the predictor needs from a featurizer (lib/descriptors Featurizer satisfies it). */
export interface FeaturizerLike {
  readonly length: number;
  featurizeSite(structure: Structure, site: number, out?: Float32Array, offset?: number): Float32Array;
  toJSON(): unknown;
  /** Resolved options and citation of each descriptor, recorded in the saved model. */
  describe?(): DescriptorRecord[];
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
  /** Mesh energies of the outputs (eV; edge-relative when spectral.mesh.kind says so). */
  readonly energy: Float64Array;

  constructor(
    readonly model: XanesMlp,
    readonly featurizer: FeaturizerLike,
    readonly spectral: SpectralContract,
    /** Metadata saved with the model (dataset, training split, …). */
    readonly meta: XanesModelMeta = {},
  ) {
    if (featurizer.length !== model.nFeatures) {
      throw new Error(`XanesPredictor: featurizer gives ${featurizer.length} features, model expects ${model.nFeatures}`);
    }
    if (spectral.mesh.count !== model.nOutputs) {
      throw new Error(`XanesPredictor: energy mesh has ${spectral.mesh.count} points, model outputs ${model.nOutputs}`);
    }
    this.energy = spectralEnergies(spectral.mesh);
  }

  /** The spectrum of one absorbing site; InputError (naming structure and site) for a bad site. */
  predict(structure: Structure, site: number): PredictedSpectrum {
    const x = this.featurizer.featurizeSite(structure, site);
    return { site, symmetry: symmetryOf(structure, site), energy: this.energy, mu: this.model.predict({ data: x, rows: 1, cols: x.length }).data };
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
    const Y = this.model.predict({ data: X.subarray(0, ok.length * d), rows: ok.length, cols: d }).data;
    const m = this.model.nOutputs;
    const spectra = ok.map((site, k) => ({ site, symmetry: symmetryOf(structure, site), energy: this.energy, mu: Y.slice(k * m, (k + 1) * m) }));
    return { spectra, skipped };
  }

  /** Saves model, scalers, spectral contract, featurizer configuration and descriptor citations (see saveModel). */
  async save(dir: string, meta: XanesModelMeta = {}): Promise<{ dir: string; files: string[] }> {
    return saveModel(dir, this.model, {
      spectral: this.spectral,
      featurizer: this.featurizer.toJSON(),
      descriptors: this.featurizer.describe?.() ?? [],
      meta: { ...this.meta, ...meta },
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}

/**
 * Loads a predictor saved by XanesPredictor.save (a version 1 folder needs `legacy`, see
 * loadModel). The featurizer is rebuilt from the saved configuration unless one is injected.
 */
export async function loadPredictor(dir: string, options: LoadModelOptions & { featurizer?: FeaturizerLike } = {}): Promise<XanesPredictor> {
  const { model, file } = await loadModel(dir, options);
  return predictorFromModel(model, file, path.join(dir, "xanes-model.json"), options);
}

/**
 * A loaded model and its checked xanes-model.json (named `descPath` in errors) as a predictor; frees
 * the model when the file does not describe one. Shared by loadPredictor and the browser loader.
 */
export function predictorFromModel(model: XanesMlp, file: XanesModelFile, descPath: string, options: { featurizer?: FeaturizerLike } = {}): XanesPredictor {
  try {
    if (!file.spectral) throw new InputError(`${descPath}: spectral is null (a bare network, not a predictor)`);
    let featurizer = options.featurizer;
    if (!featurizer) {
      if (!file.featurizer) throw new InputError(`${descPath}: featurizer is missing; pass options.featurizer`);
      try {
        featurizer = new Featurizer(file.featurizer as FeaturizerConfig);
      } catch (e) {
        throw new InputError(`${descPath}: featurizer ${errorMessage(e)}`);
      }
    }
    if (featurizer.length !== model.nFeatures) throw new InputError(`${descPath}: featurizer gives ${featurizer.length} features, estimator.shape.nFeatures is ${model.nFeatures}`);
    return new XanesPredictor(model, featurizer, file.spectral, file.meta);
  } catch (e) {
    // The network's tensors were already allocated: free them before reporting the bad file.
    model.dispose();
    throw e;
  }
}
