import type { Structure } from "../structure/types";

/** One candidate atomic arrangement to be scored against a target spectrum. */
export interface Candidate {
  /** Unique name shown in the ranked table (file name, material id, "mp-1234 strain a+2%"). */
  readonly id: string;
  readonly structure: Structure;
  /**
   * Absorbing sites to predict (0-based). Absent: one site per environment-equivalence class of the
   * absorbing element (lib/geometry equivalentSites) weighted by the class size, so equivalent sites
   * are featurised and predicted once; but every site of the element when `weights` is given.
   * For a whole-material target the predictions of these sites are averaged with `weights`.
   */
  readonly sites?: readonly number[];
  /** Weight of each entry of `sites` (multiplicity); absent: 1 each, which is the multiplicity
   * weighting when `sites` lists every absorbing site of the cell. */
  readonly weights?: readonly number[];
  /** How it was made ("file", "dataset", "substitution Cu→Ni", "strain", "vacancy"): for reports. */
  readonly origin?: string;
}

/** One (structure, site) pair to featurise and predict. */
export interface SiteRef {
  readonly structure: Structure;
  readonly site: number;
}

/**
 * What the ranking needs from a model: the energy mesh it predicts on and, for a batch of sites,
 * one prediction matrix per ensemble member (row-major, items × mesh length). A single model is an
 * ensemble of one. Kept as an interface so the ranking is testable without a trained network.
 */
export interface ScreeningPredictor {
  /** The model's equally spaced energy mesh (eV). */
  readonly energy: Float64Array;
  /** Number of ensemble members (length of the array `predictSites` returns). */
  readonly members: number;
  predictSites(items: readonly SiteRef[]): Float32Array[] | Promise<Float32Array[]>;
}

/** Similarity measures the ranking can use; "mse" is lower-is-better, the others higher-is-better. */
export type ScreeningMetric = "mse" | "cosine" | "pearson" | "spearman";
