/**
 * Descriptor registry and the Featurizer that runs several descriptors over many sites, computing each
 * site's geometry once: neighbours within the largest cutoff any selected descriptor needs, and the
 * Voronoi cell only when one needs it. Per-structure data (atomic numbers, counts, neighbour finder) is
 * built once for consecutive sites of one structure object.
 */
import type { Structure } from "../structure/types";
import { InputError } from "../util/errors";
import { NeighbourFinder, neighbourFinder } from "../geometry/neighbours";
import { voronoiCellOf } from "../geometry/voronoi";
import { elementZ, MAX_ELEMENT_Z } from "../elements/table";
import { AtomicDescriptor } from "./atomic";
import { CompositionDescriptor } from "./composition";
import { CoulombDescriptor } from "./coulomb";
import { OfmDescriptor } from "./ofm";
import { RdfDescriptor } from "./rdf";
import { AdfDescriptor } from "./adf";
import { PrdfDescriptor } from "./prdf";
import { ShellDescriptor } from "./shell";
import { MIN_INTERATOMIC_DISTANCE, type DescriptorSpec, type SiteDescriptor, type SiteEnvironment, type StructureContext } from "./types";
import { assertOrderedEnvironment } from "../structure/disorder";

/** The five descriptors of the reproduced study (the "study" preset, lib/descriptors/presets.ts). */
export const DESCRIPTOR_NAMES = ["composition", "atomic", "rdf", "coulomb", "ofm"] as const;
/** Additions for the near-edge region (the "extended" preset adds them to the five). */
export const EXTENDED_DESCRIPTOR_NAMES = ["prdf", "adf", "shell"] as const;
export type DescriptorName = (typeof DESCRIPTOR_NAMES)[number] | (typeof EXTENDED_DESCRIPTOR_NAMES)[number];

/** A descriptor by registry name, options over its documented defaults. */
export function createDescriptor(spec: DescriptorSpec): SiteDescriptor {
  const o = spec.options ?? {};
  switch (spec.name) {
    case "composition":
      return new CompositionDescriptor(o);
    case "atomic":
      return new AtomicDescriptor(o);
    case "rdf":
      return new RdfDescriptor(o);
    case "coulomb":
      return new CoulombDescriptor(o);
    case "ofm":
      return new OfmDescriptor(o);
    case "prdf":
      return new PrdfDescriptor(o);
    case "adf":
      return new AdfDescriptor(o);
    case "shell":
      return new ShellDescriptor(o);
    default:
      throw new Error(`unknown descriptor "${spec.name}"; known: ${[...DESCRIPTOR_NAMES, ...EXTENDED_DESCRIPTOR_NAMES].join(", ")}`);
  }
}

/** Atomic numbers and element counts of a structure; InputError naming the site for unknown elements. */
export function structureContext(structure: Structure): StructureContext {
  const n = structure.species.length;
  const src = structure.source ?? "structure";
  if (n === 0) throw new InputError(`${src}: no sites`);
  const z = new Int32Array(n);
  const elementCounts = new Float64Array(MAX_ELEMENT_Z + 1);
  for (let i = 0; i < n; i++) {
    z[i] = elementZ(structure.species[i], `${src} site ${i}`);
    elementCounts[z[i]]++;
  }
  const present: number[] = [];
  for (let e = 1; e <= MAX_ELEMENT_Z; e++) if (elementCounts[e] > 0) present.push(e);
  return { structure, z, elementCounts, elements: Int32Array.from(present) };
}

export interface FeaturizerConfig {
  readonly descriptors: readonly DescriptorSpec[];
  /** If set, every featurised site must be this element (e.g. "Cu" for Cu K-edge spectra). */
  readonly absorber?: string;
}

export interface DescriptorBlock {
  readonly name: string;
  readonly start: number;
  readonly length: number;
}

/** Column indices (ascending) of the named blocks; throws naming an unknown one. */
export function blockColumns(blocks: readonly DescriptorBlock[], names: readonly string[]): Int32Array {
  for (const n of names) {
    if (!blocks.some((b) => b.name === n)) throw new Error(`descriptor "${n}" not in this featurizer (${blocks.map((x) => x.name).join(", ")})`);
  }
  const cols: number[] = [];
  for (const b of blocks) if (names.includes(b.name)) for (let k = 0; k < b.length; k++) cols.push(b.start + k);
  return Int32Array.from(cols);
}

export interface FeaturizeBatchResult {
  /** Row-major rows.length × featurizer.length. */
  readonly features: Float32Array;
  /** Item index of each row. */
  readonly rows: number[];
  /** Items that failed, with the reason (InputError message naming structure and site). */
  readonly errors: { item: number; message: string }[];
}

export class Featurizer {
  readonly descriptors: readonly SiteDescriptor[];
  readonly length: number;
  readonly labels: readonly string[];
  readonly blocks: readonly DescriptorBlock[];
  readonly absorber: string | undefined;
  /** Neighbour radius computed for each site (max over descriptors). */
  readonly neighbourCutoff: number;
  readonly needsVoronoi: boolean;
  private readonly specs: DescriptorSpec[];
  // cache for consecutive sites of one structure object
  private lastStructure: Structure | null = null;
  private lastContext: StructureContext | null = null;
  private lastFinder: NeighbourFinder | null = null;

  constructor(config: FeaturizerConfig) {
    if (!config.descriptors || config.descriptors.length === 0) throw new Error("Featurizer: no descriptors selected");
    const names = config.descriptors.map((d) => d.name);
    if (new Set(names).size !== names.length) throw new Error(`Featurizer: descriptor listed twice (${names.join(", ")})`);
    this.descriptors = config.descriptors.map(createDescriptor);
    this.specs = this.descriptors.map((d) => ({ name: d.name, options: { ...d.options } }));
    if (config.absorber !== undefined) elementZ(config.absorber, "Featurizer absorber");
    this.absorber = config.absorber;
    const blocks: DescriptorBlock[] = [];
    let start = 0;
    for (const d of this.descriptors) {
      blocks.push({ name: d.name, start, length: d.length });
      start += d.length;
    }
    this.blocks = blocks;
    this.length = start;
    this.labels = this.descriptors.flatMap((d) => d.labels);
    this.neighbourCutoff = Math.max(0, ...this.descriptors.map((d) => d.neighbourCutoff));
    this.needsVoronoi = this.descriptors.some((d) => d.needsVoronoi);
  }

  /** Column indices (ascending) of the blocks of the named descriptors, for ablations. */
  columnsFor(names: readonly string[]): Int32Array {
    return blockColumns(this.blocks, names);
  }

  /** The geometry every selected descriptor reads, for one site (validates site, element, overlap). */
  environment(structure: Structure, site: number): SiteEnvironment {
    const src = structure.source ?? "structure";
    if (structure !== this.lastStructure) {
      // build the context first: it names an unknown element with its site
      this.lastContext = structureContext(structure);
      this.lastFinder = neighbourFinder(structure); // shared per-structure cache of lib/geometry
      this.lastStructure = structure;
    }
    const context = this.lastContext!, finder = this.lastFinder!;
    if (!Number.isInteger(site) || site < 0 || site >= context.z.length) {
      throw new InputError(`${src}: site ${site} out of range (structure has ${context.z.length} sites, 0-based)`);
    }
    if (this.absorber !== undefined && structure.species[site] !== this.absorber) {
      throw new InputError(`${src} site ${site}: absorbing site is ${structure.species[site]}, expected ${this.absorber}`);
    }
    // at least the overlap-check radius, so a close neighbour is always seen
    const cutoff = Math.max(this.neighbourCutoff, MIN_INTERATOMIC_DISTANCE);
    const neighbours = finder.neighbours(site, cutoff);
    assertOrderedEnvironment(structure, site, neighbours, cutoff); // partial occupancy: name the partial sites
    if (neighbours.distance.length > 0 && neighbours.distance[0] < MIN_INTERATOMIC_DISTANCE) {
      throw new InputError(
        `${src} site ${site}: site ${neighbours.index[0]} is ${neighbours.distance[0].toFixed(3)} Å away (overlapping atoms)`,
      );
    }
    // the Voronoi cell starts from this list instead of searching the site's neighbours again
    const voronoiFaces = this.needsVoronoi ? voronoiCellOf(finder, site, { precomputed: { list: neighbours, cutoff } }).faces : null;
    return { context, site, neighbours, neighbourCutoff: cutoff, voronoiFaces };
  }

  /** All selected descriptors of one site, written at out[offset..offset + length). */
  featurizeSite(structure: Structure, site: number, out: Float32Array = new Float32Array(this.length), offset = 0): Float32Array {
    if (offset < 0 || offset + this.length > out.length) throw new RangeError(`featurizeSite: output too short (${out.length} < ${offset + this.length})`);
    const env = this.environment(structure, site);
    let o = offset;
    for (const d of this.descriptors) {
      d.compute(structure, site, out, o, env);
      o += d.length;
    }
    return out;
  }

  /**
   * Row-major N × length features of `items`. Throws on the first bad item (message names the item,
   * structure and site); use featurizeBatch to skip and report bad items instead.
   */
  featurizeSites(items: readonly { structure: Structure; site: number }[], onProgress?: (done: number, total: number) => void): Float32Array {
    const out = new Float32Array(items.length * this.length);
    for (let i = 0; i < items.length; i++) {
      try {
        this.featurizeSite(items[i].structure, items[i].site, out, i * this.length);
      } catch (e) {
        if (e instanceof InputError) throw new InputError(`item ${i}: ${e.message}`);
        throw e;
      }
      if (onProgress && ((i + 1) % 256 === 0 || i + 1 === items.length)) onProgress(i + 1, items.length);
    }
    return out;
  }

  /** Like featurizeSites, but items raising InputError are skipped and listed in `errors`. */
  featurizeBatch(items: readonly { structure: Structure; site: number }[], onProgress?: (done: number, total: number) => void): FeaturizeBatchResult {
    const buf = new Float32Array(items.length * this.length);
    const rows: number[] = [];
    const errors: { item: number; message: string }[] = [];
    for (let i = 0; i < items.length; i++) {
      try {
        this.featurizeSite(items[i].structure, items[i].site, buf, rows.length * this.length);
        rows.push(i);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        errors.push({ item: i, message: e.message });
      }
      if (onProgress && ((i + 1) % 256 === 0 || i + 1 === items.length)) onProgress(i + 1, items.length);
    }
    return { features: buf.slice(0, rows.length * this.length), rows, errors };
  }

  /** Each descriptor's resolved options and citation (provenance for metrics.json and saved models). */
  describe(): { name: string; options: Record<string, unknown>; citation: string }[] {
    return this.descriptors.map((d) => ({ name: d.name, options: { ...d.options }, citation: d.citation }));
  }

  /** Configuration and layout, enough to rebuild the featurizer (`new Featurizer(json)`). */
  toJSON(): { descriptors: DescriptorSpec[]; absorber?: string; length: number; blocks: DescriptorBlock[] } {
    return {
      descriptors: this.specs,
      ...(this.absorber !== undefined ? { absorber: this.absorber } : {}),
      length: this.length,
      blocks: this.blocks.map((b) => ({ ...b })),
    };
  }
}
