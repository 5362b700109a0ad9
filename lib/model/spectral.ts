/**
 * The spectral contract saved with every predictor: which energies its outputs are on and how the
 * training spectra were prepared. A consumer (screening, a browser app) puts a target on the same
 * mesh with the same normalisation from this record alone; nothing is guessed from the data.
 */
import { meshEnergies, NORMALISATIONS, type EnergyMesh, type Normalisation } from "../spectra/mesh";
import { at, fail, finite, object, oneOf, positive, integer, string, type Where } from "./check";

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
  /** Energy alignment applied to the training spectra; null: none. Later work fills this in. */
  readonly alignment: Readonly<Record<string, unknown>> | null;
  /** Broadening applied to the training spectra; null: none. */
  readonly broadening: Readonly<Record<string, unknown>> | null;
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
  const optional = (x: unknown, key: string) => (x === null || x === undefined ? null : object(x, at(w, key)));
  return {
    mesh,
    normalisation: oneOf(o.normalisation, NORMALISATIONS, at(w, "normalisation")),
    alignment: optional(o.alignment, "alignment"),
    broadening: optional(o.broadening, "broadening"),
  };
}
