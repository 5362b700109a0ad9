/**
 * The common interface of the five site descriptors and the per-site environment they share.
 * A Featurizer computes the geometry of a site once (neighbours within the largest cutoff any selected
 * descriptor needs; Voronoi faces only if one needs them) and every descriptor reads it from here.
 */
import type { Structure } from "../structure/types";
import type { NeighbourList } from "../geometry/neighbours";

/**
 * Two atoms closer than this (Å) overlap for the descriptors (Featurizer, coulomb cluster). Stricter
 * than structure/validate.ts OVERLAP_DISTANCE (0.1 Å, which only catches duplicated sites when a
 * file is read): no real bond is shorter than 0.5 Å (O–H 0.97 Å, H2 0.74 Å), while the Coulomb
 * matrix term Z_i Z_j / r_ij and the RDF grid (from rMin 0.5 Å) already misbehave below it.
 */
export const MIN_INTERATOMIC_DISTANCE = 0.5;

/** What the descriptors read of one Voronoi face (lib/geometry faces carry more; pymatgen VoronoiNN conventions). */
export interface VoronoiFaceInfo {
  /** POSCAR index of the neighbouring site across the face. */
  readonly index: number;
  /** Distance to that neighbour's image, Å. */
  readonly distance: number;
  /** Solid angle of the face seen from the centre, sr. */
  readonly solidAngle: number;
}

/** Per-structure data shared by all sites of a structure. */
export interface StructureContext {
  readonly structure: Structure;
  /** Atomic number of every site (validated once). */
  readonly z: Int32Array;
  /** Number of sites of each element, indexed by Z (length MAX_ELEMENT_Z + 1). */
  readonly elementCounts: Float64Array;
  /** Distinct atomic numbers present, ascending. */
  readonly elements: Int32Array;
}

/** What descriptors see of one site. */
export interface SiteEnvironment {
  readonly context: StructureContext;
  readonly site: number;
  /** Neighbours within `neighbourCutoff` (≥ the `neighbourCutoff` of every descriptor in use). */
  readonly neighbours: NeighbourList;
  readonly neighbourCutoff: number;
  /** Voronoi faces; null unless a descriptor in use sets `needsVoronoi`. */
  readonly voronoiFaces: readonly VoronoiFaceInfo[] | null;
}

export interface SiteDescriptor {
  /** Registry key. */
  readonly name: string;
  /** The reference that defines it (recorded with resolved options in metrics.json and saved models). */
  readonly citation: string;
  readonly length: number;
  readonly labels: readonly string[];
  /** Neighbour radius this descriptor reads from env.neighbours (0: none). */
  readonly neighbourCutoff: number;
  readonly needsVoronoi: boolean;
  /** Options after defaults were filled in (for toJSON / provenance). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Writes `length` values at out[offset..]; reads geometry from env, never recomputes it. */
  compute(structure: Structure, site: number, out: Float32Array, offset: number, env: SiteEnvironment): void;
}

/** A descriptor by registry name with optional overrides of its defaults. */
export interface DescriptorSpec {
  readonly name: string;
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Reads an option, checking its type; unknown option names are rejected by `checkDescriptorOptions`. */
export function descriptorNumberOption(opts: Readonly<Record<string, unknown>>, key: string, dflt: number, descriptor: string): number {
  const v = opts[key];
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${descriptor}: option ${key} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

/** Rejects option names a descriptor does not know (catches typos such as "cutof"). */
export function checkDescriptorOptions(opts: Readonly<Record<string, unknown>>, known: readonly string[], descriptor: string): void {
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw new Error(`${descriptor}: unknown option "${k}" (known: ${known.join(", ")})`);
  }
}
