/**
 * The spectral contract saved with every predictor: which energies its outputs are on and how the
 * training spectra were prepared. A consumer (screening, a browser app) puts a target on the same
 * mesh with the same normalisation from this record alone; nothing is guessed from the data.
 */
import { meshEnergies, NORMALISATIONS, type EnergyMesh, type Normalisation } from "../spectra/mesh";
import { at, fail, finite, object, oneOf, positive, integer, string, type Where } from "./check";
import type { Dataset } from "../data/dataset";

export const MESH_KINDS = ["absolute", "edge-relative"] as const;
export type MeshKind = (typeof MESH_KINDS)[number];

/** An equally spaced mesh: `start + i·step` eV for i < count, absolute or relative to the edge. */
export interface SpectralMesh {
  readonly start: number;
  readonly step: number;
  readonly count: number;
  readonly kind: MeshKind;
  /** Absorbing element, e.g. "Cu". */
  readonly element: string;
  /** Absorption edge, e.g. "K". */
  readonly edge: string;
}

export interface SpectralContract {
  readonly mesh: SpectralMesh;
  /** How each training spectrum was normalised (lib/spectra/mesh NORMALISATIONS). */
  readonly normalisation: Normalisation;
  /**
   * How a measured spectrum lines up with the outputs: the FEFF-vs-experiment energy offset of the
   * element and edge, calibrated on measured standards (lib/screening `calibrateModelAlignment`); null:
   * not calibrated. The training spectra themselves are not shifted.
   */
  readonly alignment: SpectralAlignment | null;
  /** Broadening applied to the training spectra; null: none. */
  readonly broadening: Readonly<Record<string, unknown>> | null;
}

/** One measured standard's fit against its known structure's computed spectrum. */
export interface AlignmentStandard {
  readonly name: string;
  /** Best total shift, eV (the standard compared as T(E + shift)). */
  readonly shift: number;
  /** Fitted Gaussian σ and Lorentzian γ, eV, and the score at the best shift. */
  readonly sigma: number;
  readonly gamma: number;
  readonly score: number;
}

/**
 * The FEFF-vs-experiment energy offset of one element and edge: a measured spectrum T is compared with
 * the model's outputs as T(E + offset + s), s a small per-candidate shift. Kept in the spectral contract.
 */
export interface SpectralAlignment {
  readonly element: string;
  readonly edge: string;
  /** Mean over the standards of their best shift, eV. */
  readonly offset: number;
  /** Standard deviation over the standards, eV; null for a single standard. */
  readonly spread: number | null;
  readonly standards: readonly AlignmentStandard[];
  /**
   * For each standard, the offset calibrated on the others only: the offset to use when that standard
   * is itself the target (a target never calibrates its own ranking). Absent with one standard.
   */
  readonly leaveOneOut?: readonly { readonly name: string; readonly offset: number }[];
  /** How it was fitted: computed spectra (FEFF or this model), window, score, search range. */
  readonly method: string;
}

/** An alignment read from JSON, every field checked (InputError naming file and field). */
export function checkAlignment(v: unknown, w: Where): SpectralAlignment {
  const o = object(v, w);
  const list = (x: unknown, key: string, min: number): unknown[] => {
    if (!Array.isArray(x) || x.length < min) fail(at(w, key), `must be an array of at least ${min} entr${min === 1 ? "y" : "ies"}`);
    return x;
  };
  const standards = list(o.standards, "standards", 1).map((x, i) => {
    const ws = at(at(w, "standards"), i);
    const r = object(x, ws);
    return { name: string(r.name, at(ws, "name")), shift: finite(r.shift, at(ws, "shift")), sigma: finite(r.sigma, at(ws, "sigma")), gamma: finite(r.gamma, at(ws, "gamma")), score: finite(r.score, at(ws, "score")) };
  });
  const spread = o.spread === null || o.spread === undefined ? null : finite(o.spread, at(w, "spread"));
  if (spread !== null && spread < 0) fail(at(w, "spread"), `must be ≥ 0, got ${spread}`);
  const out: SpectralAlignment = {
    element: string(o.element, at(w, "element")),
    edge: string(o.edge, at(w, "edge")),
    offset: finite(o.offset, at(w, "offset")),
    spread,
    standards,
    method: string(o.method, at(w, "method")),
  };
  if (o.leaveOneOut === undefined || o.leaveOneOut === null) return out;
  const loo = list(o.leaveOneOut, "leaveOneOut", 0).map((x, i) => {
    const wl = at(at(w, "leaveOneOut"), i);
    const r = object(x, wl);
    return { name: string(r.name, at(wl, "name")), offset: finite(r.offset, at(wl, "offset")) };
  });
  return { ...out, leaveOneOut: loo };
}

/** The contract of spectra resampled onto `mesh` (lib/spectra EnergyMesh) for `element` `edge`. */
export function spectralContract(mesh: EnergyMesh, element: string, edge: string, normalisation: Normalisation): SpectralContract {
  return {
    mesh: { start: mesh.start, step: mesh.step, count: mesh.points, kind: mesh.relative ? "edge-relative" : "absolute", element, edge },
    normalisation,
    alignment: null,
    broadening: null,
  };
}

/** Mesh energies (eV), increasing. */
export function spectralEnergies(mesh: SpectralMesh): Float64Array {
  return meshEnergies({ start: mesh.start, step: mesh.step, points: mesh.count, relative: mesh.kind === "edge-relative" });
}

/** The lib/spectra EnergyMesh of a contract (for resampling targets onto it). */
export function energyMeshOf(mesh: SpectralMesh): EnergyMesh {
  return { start: mesh.start, step: mesh.step, points: mesh.count, relative: mesh.kind === "edge-relative" };
}

/** A contract read from JSON, every field checked (InputError naming file and field). */
export function checkSpectralContract(v: unknown, w: Where): SpectralContract {
  const o = object(v, w);
  const m = object(o.mesh, at(w, "mesh"));
  const wm = at(w, "mesh");
  const mesh: SpectralMesh = {
    start: finite(m.start, at(wm, "start")),
    // A positive step makes the mesh strictly increasing.
    step: positive(m.step, at(wm, "step")),
    count: integer(m.count, at(wm, "count"), 2),
    kind: oneOf(m.kind, MESH_KINDS, at(wm, "kind")),
    element: string(m.element, at(wm, "element")),
    edge: string(m.edge, at(wm, "edge")),
  };
  if (!Number.isFinite(mesh.start + (mesh.count - 1) * mesh.step)) fail(wm, "ends at a non-finite energy");
  const alignment = o.alignment === null || o.alignment === undefined ? null : checkAlignment(o.alignment, at(w, "alignment"));
  if (alignment && (alignment.element.toLowerCase() !== mesh.element.toLowerCase() || alignment.edge.toUpperCase() !== mesh.edge.toUpperCase())) {
    fail(at(w, "alignment"), `is for ${alignment.element} ${alignment.edge}, the model predicts ${mesh.element} ${mesh.edge}`);
  }
  const optional = (x: unknown, key: string) => (x === null || x === undefined ? null : object(x, at(w, key)));
  return {
    mesh,
    normalisation: oneOf(o.normalisation, NORMALISATIONS, at(w, "normalisation")),
    alignment,
    broadening: optional(o.broadening, "broadening"),
  };
}

/** The spectral contract of a dataset's spectra (saved with every predictor trained on them). */
export function datasetSpectral(ds: Pick<Dataset, "config">, element: string, edge: string): SpectralContract {
  return spectralContract(ds.config.mesh, element, edge, ds.config.normalisation);
}
