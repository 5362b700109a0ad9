import * as fs from "node:fs";
import * as path from "node:path";
import type { Structure } from "../structure/types";
import { formula } from "../structure/validate";
import { equivalentSites } from "../geometry/equivalence";
import type { SiteSpectrum } from "../spectra/types";
import {
  EnergyMesh,
  NORMALISATIONS,
  Normalisation,
  checkSpectrumAxis,
  estimateEdgeEnergy,
  meshCovered,
  meshEnergies,
  normaliseInPlace,
  resampleLinear,
} from "../spectra/mesh";
import { DropReason, DroppedSpectrum, SpectrumSource } from "./sources";
import { DEFAULT_SPLIT_FRACTIONS, DatasetSplits, SplitFractions, makeSplits } from "./splits";

/** Keep only spectra matching every given criterion. */
export interface DatasetFilters {
  /** Absorbing elements to keep ("O", "Cu"). */
  readonly elements?: readonly string[];
  readonly edges?: readonly string[];
  readonly spectrumTypes?: readonly string[];
  /** Number of distinct elements in the structure (the study: 2 to 4). */
  readonly minElements?: number;
  readonly maxElements?: number;
}

export interface BuildOptions {
  readonly name: string;
  /** One or more sources (FEFF folders, document files, API documents, column files). */
  readonly sources: SpectrumSource | readonly SpectrumSource[];
  /** Free text recorded in dataset.json, e.g. "feff-cu-k-oxides". */
  readonly sourceLabel?: string;
  readonly filters?: DatasetFilters;
  /** Common mesh; `mesh.relative` selects edge-aligned (true) or absolute (false) energies. */
  readonly mesh: EnergyMesh;
  /** Default "max". */
  readonly normalisation?: Normalisation;
  /**
   * "drop" (default): a spectrum that does not cover the mesh to within `maxHold` is dropped;
   * "clamp": end values are held however far.
   */
  readonly outOfWindow?: "drop" | "clamp";
  /**
   * eV over which a spectrum's first or last value may be held before it counts as not covering the
   * mesh (default 6 eV: FEFF Cu K runs start at 8983.2–8988.7 eV, the default mesh at 8983 eV, so
   * every run is kept and its first value held over at most 5.7 eV; counted in quality.held).
   */
  readonly maxHold?: number;
  /** Shorter spectra are dropped as too short (default 10). */
  readonly minPoints?: number;
  readonly splitSeed?: number;
  readonly splitFractions?: SplitFractions;
  /** Called after every source item with (items seen, spectra kept). */
  readonly onProgress?: (seen: number, kept: number) => void;
}

/** One row of meta.csv / meta.json. */
export interface SpectrumMeta {
  readonly materialId: string;
  readonly formula: string;
  /** Absorbing site index in the material's structure; −1 for a site-averaged spectrum. */
  readonly site: number;
  /**
   * Number of sites of the cell this spectrum stands for: the size of the site's environment
   * equivalence class (`equivalentSites`, default cutoff/tolerance) — the weight of the site in a
   * whole-material average; for a site-averaged spectrum (site −1), the number of absorbing sites.
   * Format version 2; loading a version-1 folder fills it in from the structures.
   */
  readonly multiplicity: number;
  readonly element: string;
  readonly edge: string;
  readonly spectrumType: string;
  readonly nelements: number;
  /** Elements of the structure, sorted, joined by "-" (chemsys style). */
  readonly elements: string;
  /** Edge energy subtracted for edge-relative meshes (eV); null for absolute meshes. */
  readonly e0: number | null;
  readonly source: string;
}

export interface QualityReport {
  /** Items the sources produced (spectra + unreadable records). */
  readonly seen: number;
  readonly kept: number;
  /** Spectra removed by the filters, per filter. */
  readonly filtered: Record<string, number>;
  /** Drops per reason. */
  readonly droppedByReason: Partial<Record<DropReason, number>>;
  /** Every drop with its message. */
  readonly dropped: DroppedSpectrum[];
  /**
   * Kept spectra whose first sample lies after the mesh start (their first value held over the start
   * of the mesh) and whose last sample lies before the mesh end (last value held). Absent in datasets
   * saved before this count existed.
   */
  readonly held?: { readonly start: number; readonly end: number };
}

export interface DatasetConfig {
  readonly name: string;
  /** 2: meta has `multiplicity`. Version-1 folders still load (multiplicity computed on load). */
  readonly formatVersion: 1 | 2;
  readonly source: string;
  readonly filters: DatasetFilters;
  readonly mesh: EnergyMesh;
  readonly normalisation: Normalisation;
  readonly outOfWindow: "drop" | "clamp";
  /** eV an end value may be held with outOfWindow "drop" (absent in datasets saved before it existed). */
  readonly maxHold?: number;
  readonly minPoints: number;
  readonly counts: { readonly spectra: number; readonly materials: number; readonly points: number };
  readonly quality: QualityReport;
  readonly createdAt: string;
  readonly codeVersion: string;
  /** Seconds spent reading + resampling (measured). */
  readonly buildSeconds: number;
}

export interface Dataset {
  readonly config: DatasetConfig;
  /** Mesh energies, length M. */
  readonly energy: Float64Array;
  /** N × M row-major float32. */
  readonly spectra: Float32Array;
  readonly meta: SpectrumMeta[];
  /** One structure per material id. */
  readonly structures: Map<string, Structure>;
  readonly splits: DatasetSplits;
}

/** Row i of the spectra matrix (a view, no copy). */
export function datasetRow(ds: Dataset, i: number): Float32Array {
  const m = ds.energy.length;
  return ds.spectra.subarray(i * m, (i + 1) * m);
}

function codeVersion(): string {
  try {
    const pkg = path.join(__dirname, "..", "package.json");
    return `@xanes/lib ${JSON.parse(fs.readFileSync(pkg, "utf8")).version}`;
  } catch {
    return "@xanes/lib unknown";
  }
}

/**
 * Per site of `structure`: the size of its environment-equivalence class among the sites of `element`
 * (0 for other sites) — the multiplicity recorded in SpectrumMeta. One definition for building and
 * for upgrading version-1 datasets, so both agree.
 */
export function siteMultiplicities(structure: Structure, element: string): Int32Array {
  return equivalentSites(structure, element).multiplicity;
}

/** −0 → +0 (x + 0), so structures survive the JSON round trip of structures.json bit for bit. */
function withoutNegativeZeros(s: Structure): Structure {
  return { ...s, lattice: s.lattice.map((v) => v + 0), frac: s.frac.map((v) => v + 0) };
}

/** Same species, lattice, coordinates and periodicity (exact: copies of one parsed structure). */
function sameStructure(a: Structure, b: Structure): boolean {
  if (a === b) return true;
  const n = a.species.length;
  if (b.species.length !== n || (a.periodic ?? true) !== (b.periodic ?? true)) return false;
  for (let i = 0; i < n; i++) if (a.species[i] !== b.species[i]) return false;
  for (let k = 0; k < 9; k++) if (a.lattice[k] !== b.lattice[k]) return false;
  for (let k = 0; k < 3 * n; k++) if (a.frac[k] !== b.frac[k]) return false;
  return true;
}

function distinctSorted(species: readonly string[]): string[] {
  return [...new Set(species)].sort();
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof x === "object" && x !== null && Symbol.asyncIterator in x;
}

/**
 * Read every source, filter, check, resample onto the mesh, normalise, split. Nothing is dropped
 * silently: every spectrum not kept is counted under a filter or listed with a reason.
 */
export async function buildDataset(opts: BuildOptions): Promise<Dataset> {
  const t0 = process.hrtime.bigint();
  // An array is a list of sources when its elements are iterable, else one source of items.
  const list = opts.sources as readonly unknown[];
  const isSourceList = Array.isArray(list) && list.every((s) => typeof s === "object" && s !== null && (Symbol.iterator in s || Symbol.asyncIterator in s));
  const sources: SpectrumSource[] = isSourceList ? [...(list as SpectrumSource[])] : [opts.sources as SpectrumSource];
  const mesh = opts.mesh;
  const normalisation = opts.normalisation ?? "max";
  if (!NORMALISATIONS.includes(normalisation)) throw new RangeError(`buildDataset: unknown normalisation "${normalisation}" (${NORMALISATIONS.join(", ")})`);
  const outOfWindow = opts.outOfWindow ?? "drop";
  const maxHold = opts.maxHold ?? 6;
  if (!(maxHold >= 0) || !Number.isFinite(maxHold)) throw new RangeError(`buildDataset: maxHold must be a finite number of eV ≥ 0, got ${maxHold}`);
  const minPoints = opts.minPoints ?? 10;
  const filters = opts.filters ?? {};
  const M = mesh.points;
  let capacity = 1024;
  let spectra = new Float32Array(capacity * M);
  const meta: SpectrumMeta[] = [];
  const structures = new Map<string, Structure>();
  const filtered: Record<string, number> = {};
  const dropped: DroppedSpectrum[] = [];
  const held = { start: 0, end: 0 };
  const meshEnd = mesh.start + (M - 1) * mesh.step;
  const seenKeys = new Set<string>();
  const row = new Float64Array(M);
  let seen = 0;
  const elementSet = filters.elements ? new Set(filters.elements) : undefined;
  const edgeSet = filters.edges ? new Set(filters.edges) : undefined;
  const typeSet = filters.spectrumTypes ? new Set(filters.spectrumTypes) : undefined;
  const count = (f: string) => (filtered[f] = (filtered[f] ?? 0) + 1);
  // multiplicities of one material's absorbing sites, computed once per (material, element)
  const multiplicities = new Map<string, Int32Array>();

  const take = (s: SiteSpectrum) => {
    const id = `${s.materialId}/${s.site}`;
    const drop = (reason: DropReason, message: string) => dropped.push({ id, source: s.source, reason, message: `${s.source}: ${message}` });
    if (elementSet && !elementSet.has(s.element)) return count("element");
    if (edgeSet && !edgeSet.has(s.edge)) return count("edge");
    if (typeSet && !typeSet.has(s.spectrumType)) return count("spectrumType");
    const elements = distinctSorted(s.structure.species);
    if (filters.minElements !== undefined && elements.length < filters.minElements) return count("nelements");
    if (filters.maxElements !== undefined && elements.length > filters.maxElements) return count("nelements");
    const nsites = s.structure.species.length;
    if (s.site >= nsites || s.site < -1 || !Number.isInteger(s.site)) {
      return drop("wrong-absorber", `absorbing index ${s.site} outside the structure (${nsites} sites)`);
    }
    if (s.site >= 0 && s.structure.species[s.site] !== s.element) {
      return drop("wrong-absorber", `site ${s.site} is ${s.structure.species[s.site]}, not the absorbing element ${s.element}`);
    }
    if (s.site === -1 && !elements.includes(s.element)) {
      return drop("wrong-absorber", `absorbing element ${s.element} is not in the structure (${elements.join("-")})`);
    }
    const problem = checkSpectrumAxis(s.energy, s.mu, minPoints);
    if (problem === "nan") return drop("nan", "non-finite energy or intensity");
    if (problem === "too-short") return drop("too-short", `${s.energy.length} points (energy) / ${s.mu.length} (mu), need ≥ ${minPoints}`);
    if (problem === "non-monotonic") return drop("non-monotonic", "energy axis is not strictly increasing");
    let shift = 0;
    let e0: number | null = null;
    if (mesh.relative) {
      if (!s.energyRelative) {
        e0 = s.edgeEnergy ?? estimateEdgeEnergy(s.energy, s.mu);
        shift = e0;
      } else e0 = 0;
    } else if (s.energyRelative) {
      return drop("energy-reference", "energies are relative to the edge but the mesh is absolute");
    }
    const kept = structures.get(s.materialId);
    if (kept && !sameStructure(kept, s.structure)) {
      return drop("structure-mismatch", `structure differs from the one kept for ${s.materialId} (one structure per material; site indices refer to it)`);
    }
    const key = `${id}/${s.element}/${s.edge}/${s.spectrumType}`;
    if (seenKeys.has(key)) return drop("duplicate", `second spectrum for ${key} (first kept)`);
    if (outOfWindow === "drop" && !meshCovered(s.energy, mesh, shift, maxHold)) {
      const lo = s.energy[0] - shift;
      const hi = s.energy[s.energy.length - 1] - shift;
      return drop("window-not-covered", `spectrum spans ${lo.toFixed(2)}–${hi.toFixed(2)} eV, mesh ${mesh.start}–${(mesh.start + (M - 1) * mesh.step).toFixed(2)} eV`);
    }
    resampleLinear(s.energy, s.mu, mesh, row, shift, true);
    const heldStart = s.energy[0] - shift > mesh.start + mesh.step * 1e-9;
    const heldEnd = s.energy[s.energy.length - 1] - shift < meshEnd - mesh.step * 1e-9;
    if (!normaliseInPlace(row, normalisation, mesh.step, mesh.start)) return drop("zero-spectrum", `cannot normalise (${normalisation}): non-positive factor`);
    let multiplicity: number;
    if (s.site === -1) multiplicity = s.structure.species.filter((sp) => sp === s.element).length;
    else {
      const mkey = `${s.materialId}/${s.element}`;
      let mult = multiplicities.get(mkey);
      if (!mult) {
        try {
          mult = siteMultiplicities(s.structure, s.element);
        } catch (err) {
          return drop("unreadable-structure", `site equivalence failed: ${err instanceof Error ? err.message : String(err)}`);
        }
        multiplicities.set(mkey, mult);
      }
      multiplicity = mult[s.site];
    }
    seenKeys.add(key);
    if (heldStart) held.start++;
    if (heldEnd) held.end++;
    if (meta.length === capacity) {
      capacity *= 2;
      const grown = new Float32Array(capacity * M);
      grown.set(spectra);
      spectra = grown;
    }
    spectra.set(row, meta.length * M);
    if (!structures.has(s.materialId)) structures.set(s.materialId, withoutNegativeZeros(s.structure));
    meta.push({
      materialId: s.materialId,
      formula: formula(s.structure, { reduced: true }),
      site: s.site,
      multiplicity,
      element: s.element,
      edge: s.edge,
      spectrumType: s.spectrumType,
      nelements: elements.length,
      elements: elements.join("-"),
      e0,
      source: s.source,
    });
  };

  for (const src of sources) {
    const it = isAsyncIterable(src) ? src : (src as Iterable<any>);
    for await (const item of it as AsyncIterable<import("./sources").SourceItem>) {
      seen++;
      if ("drop" in item) dropped.push(item.drop);
      else take(item.spectrum);
      opts.onProgress?.(seen, meta.length);
    }
  }
  const N = meta.length;
  const droppedByReason: Partial<Record<DropReason, number>> = {};
  for (const d of dropped) droppedByReason[d.reason] = (droppedByReason[d.reason] ?? 0) + 1;
  const seed = opts.splitSeed ?? 42;
  const splits = makeSplits(
    meta.map((m) => m.materialId),
    opts.splitFractions ?? DEFAULT_SPLIT_FRACTIONS,
    seed,
  );
  const buildSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    config: {
      name: opts.name,
      formatVersion: 2,
      source: opts.sourceLabel ?? "unspecified",
      filters,
      mesh,
      normalisation,
      outOfWindow,
      maxHold,
      minPoints,
      counts: { spectra: N, materials: structures.size, points: M },
      quality: { seen, kept: N, filtered, droppedByReason, dropped, held },
      createdAt: new Date().toISOString(),
      codeVersion: codeVersion(),
      buildSeconds,
    },
    energy: meshEnergies(mesh),
    spectra: spectra.slice(0, N * M),
    meta,
    structures,
    splits,
  };
}

/** Plain-text summary of a quality report (counts per filter and reason, first few messages). */
export function formatQualityReport(q: QualityReport, maxMessages = 10): string {
  const lines = [`seen ${q.seen} items, kept ${q.kept} spectra`];
  for (const [k, v] of Object.entries(q.filtered)) lines.push(`  filtered by ${k}: ${v}`);
  for (const [k, v] of Object.entries(q.droppedByReason)) lines.push(`  dropped (${k}): ${v}`);
  if (q.held) lines.push(`  end values held (mesh wider than the spectrum): first value ${q.held.start}, last value ${q.held.end}`);
  for (const d of q.dropped.slice(0, maxMessages)) lines.push(`    ${d.id} [${d.reason}] ${d.message}`);
  if (q.dropped.length > maxMessages) lines.push(`    … ${q.dropped.length - maxMessages} more in dataset.json`);
  return lines.join("\n");
}
