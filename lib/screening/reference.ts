/**
 * Computed (FEFF) whole-material spectra of candidates, and the validation candidate set for measured
 * Cu oxides. The FEFF spectra are the ceiling of screening: a model can at best reproduce them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parsePoscar } from "../structure/poscar";
import type { Structure } from "../structure/types";
import { parseXmuDat } from "../spectra/xmu";
import { EnergyMesh, resampleLinear } from "../spectra/mesh";
import { listFeffSiteDirs } from "../data/feff";
import { equivalentSites } from "../geometry/equivalence";
import { createRng, shuffleInPlace } from "../util/random";
import { errorMessage } from "../util/errors";
import { normaliseComputed } from "./match";

/** A material's multiplicity-weighted FEFF spectrum on a mesh, or why there is none. */
export interface FeffMaterialSpectrum {
  readonly materialId: string;
  readonly structure: Structure;
  /** Normalised (edge step, zero pre-edge, flattened), on the mesh; below a run's first energy its first value is held. */
  readonly spectrum: Float64Array;
  readonly nsites: number;
  readonly nspectra: number;
  /** Site runs that start after the mesh start (first value held). */
  readonly held: number;
}

/**
 * Read `<dir>/POSCAR` and every `<idx>_<element>/xmu.dat`, normalise each site spectrum
 * (`normaliseComputed`), put it on the mesh and average with class-size weights (each environment
 * class of the element weighs its size, shared among its computed sites). A string says why not
 * (a class without a spectrum, unreadable files).
 */
export function feffMaterialSpectrum(dir: string, mesh: EnergyMesh, element = "Cu"): FeffMaterialSpectrum | string {
  const materialId = path.basename(dir);
  try {
    const structure = parsePoscar(fs.readFileSync(path.join(dir, "POSCAR"), "utf8"), path.join(dir, "POSCAR"));
    const runs = listFeffSiteDirs(dir, element);
    if (runs.length === 0) return `${materialId}: no ${element} FEFF runs`;
    const eq = equivalentSites(structure, element);
    const perClass = new Int32Array(eq.groups.length);
    for (const r of runs) {
      const c = eq.classOf[r.site];
      if (c === undefined || c < 0) return `${materialId}: run ${r.site} is not a ${element} site`;
      perClass[c]++;
    }
    const missing = perClass.findIndex((v) => v === 0);
    if (missing >= 0) return `${materialId}: ${element} site class of site ${eq.groups[missing][0]} (multiplicity ${eq.groups[missing].length}) has no FEFF run`;
    const nsites = eq.groups.reduce((a, g) => a + g.length, 0);
    const out = new Float64Array(mesh.points);
    const row = new Float64Array(mesh.points);
    let held = 0;
    for (const r of runs) {
      const file = path.join(r.dir, "xmu.dat");
      const x = parseXmuDat(fs.readFileSync(file, "utf8"), file);
      const norm = normaliseComputed(x.omega, x.mu, file);
      if (x.omega[0] > mesh.start) held++;
      resampleLinear(x.omega, norm, mesh, row, 0, true);
      const c = eq.classOf[r.site];
      const w = eq.groups[c].length / perClass[c] / nsites;
      for (let j = 0; j < mesh.points; j++) out[j] += w * row[j];
    }
    return { materialId, structure, spectrum: out, nsites, nspectra: runs.length, held };
  } catch (err) {
    return errorMessage(err);
  }
}

/** Species of a FEFF material folder's POSCAR (cheap: the header lines only are needed, but parse all). */
function speciesOf(dir: string): string[] | undefined {
  try {
    return [...new Set(parsePoscar(fs.readFileSync(path.join(dir, "POSCAR"), "utf8"), dir).species)].sort();
  } catch {
    return undefined;
  }
}

/** The candidate set of the measured-spectra validation (issue 10), fixed by `seed`. */
export interface ValidationCandidateSet {
  /** Every Cu–O binary of the folder. */
  readonly binaries: string[];
  /** Materials that must be present (the true structures of the targets). */
  readonly required: string[];
  /** `others` further Cu oxides (not binaries), drawn with the seed. */
  readonly others: string[];
  /** All ids, sorted. */
  readonly ids: string[];
}

/**
 * Every Cu–O binary of `root`, the `required` ids, and `nOthers` other Cu-containing materials drawn
 * by a seeded shuffle of the sorted remaining folder names.
 */
export function validationCandidates(root: string, required: readonly string[], nOthers = 100, seed = 10): ValidationCandidateSet {
  // Every material folder (Materials Project mp-… and mvc-… ids alike): two Cu–O binaries are mvc-.
  const names = fs.readdirSync(root).filter((n) => fs.existsSync(path.join(root, n, "POSCAR"))).sort();
  const binaries: string[] = [];
  const rest: string[] = [];
  for (const n of names) {
    const sp = speciesOf(path.join(root, n));
    if (!sp || !sp.includes("Cu")) continue;
    if (sp.length === 2 && sp[0] === "Cu" && sp[1] === "O") binaries.push(n);
    else if (!required.includes(n)) rest.push(n);
  }
  const others = shuffleInPlace(rest, createRng(seed)).slice(0, nOthers).sort();
  const ids = [...new Set([...binaries, ...required, ...others])].sort();
  return { binaries, required: [...required], others, ids };
}

/** The validation candidates of a FEFF set with their FEFF averages (see validationCandidates). */
export interface FeffValidationSet {
  readonly set: ValidationCandidateSet;
  /** Material id → its FEFF average on the mesh, for every candidate that has one, in id order. */
  readonly spectra: Map<string, Float64Array>;
  /** Why each other candidate has none (no runs, or a site class without a run). */
  readonly skipped: string[];
  /** Site runs that start after the mesh and hold their first value. */
  readonly held: number;
}

/** validationCandidates, each with its FEFF average on `mesh` (feffMaterialSpectrum), skips reported. */
export function feffValidationSet(root: string, mesh: EnergyMesh, required: readonly string[], nOthers = 100, seed = 10): FeffValidationSet {
  const set = validationCandidates(root, required, nOthers, seed);
  const spectra = new Map<string, Float64Array>();
  const skipped: string[] = [];
  let held = 0;
  for (const id of set.ids) {
    const r = feffMaterialSpectrum(path.join(root, id), mesh);
    if (typeof r === "string") skipped.push(r);
    else {
      spectra.set(id, r.spectrum);
      held += r.held;
    }
  }
  return { set, spectra, skipped, held };
}
