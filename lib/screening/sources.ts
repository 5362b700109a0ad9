/**
 * Where candidates and targets come from: structure files, a folder of them, or a built dataset.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../util/errors";
import { parseStructureText } from "../structure/read";
import type { Dataset } from "../data/dataset";
import { errorMessage } from "../util/errors";
import { equivalentSites } from "../geometry/equivalence";
import type { Candidate } from "./types";
import type { TargetSpectrum } from "./target";

const STRUCTURE_FILE = /^(poscar|contcar)|\.(vasp|poscar|cif|json)$/i;

export interface CandidateLoad {
  candidates: Candidate[];
  /** Files that could not be read, with the reader's message (file and line). */
  skipped: { file: string; reason: string }[];
}

/** Read candidate structures from files; unreadable files are skipped and reported. */
export function candidatesFromFiles(files: readonly string[]): CandidateLoad {
  // ids from the absolute path, so a bare "POSCAR" is named after the current folder
  return candidatesFromSources(files.map((file) => ({ file, idPath: path.resolve(file), text: () => fs.readFileSync(file, "utf8") })));
}

/**
 * Candidates from structure texts already read (the browser's File objects), named by `file` (a
 * relative path such as "candidates/mp-123/POSCAR" names it mp-123): the same readers, naming and
 * skipping as candidatesFromFiles.
 */
export function candidatesFromTexts(items: readonly { file: string; text: string }[]): CandidateLoad {
  return candidatesFromSources(items.map((it) => ({ file: it.file, idPath: it.file, text: () => it.text })));
}

function candidatesFromSources(items: readonly { file: string; idPath: string; text: () => string }[]): CandidateLoad {
  const candidates: Candidate[] = [];
  const skipped: CandidateLoad["skipped"] = [];
  const ids = new Map<string, number>();
  for (const { file, idPath, text } of items) {
    // "mp-123/POSCAR" is named after its folder; "x.cif" after the file.
    const parts = idPath.split(/[\\/]/).filter(Boolean);
    const base = parts[parts.length - 1] ?? idPath;
    let id = /^(poscar|contcar)$/i.test(base) && parts.length > 1 ? parts[parts.length - 2] : base.replace(/\.(vasp|poscar|cif|json)$/i, "");
    const n = ids.get(id) ?? 0;
    ids.set(id, n + 1);
    if (n > 0) id = `${id}#${n + 1}`;
    try {
      candidates.push({ id, structure: parseStructureText(text(), file), origin: "file" });
    } catch (err) {
      skipped.push({ file, reason: errorMessage(err) });
    }
  }
  return { candidates, skipped };
}

/**
 * Structure files in `dir`: POSCAR/CONTCAR*, *.vasp, *.poscar, *.cif, *.json directly inside it, and
 * `<sub>/POSCAR` one level down (the layout of FEFF run folders, named after the sub-folder).
 * Sorted by path so runs are reproducible.
 */
export function listStructureFiles(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new InputError(`${dir}: cannot list candidate folder (${errorMessage(err)})`);
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isFile() && STRUCTURE_FILE.test(e.name)) out.push(p);
    else if (e.isDirectory() && fs.existsSync(path.join(p, "POSCAR"))) out.push(path.join(p, "POSCAR"));
  }
  if (out.length === 0) throw new InputError(`${dir}: no structure files (POSCAR, *.vasp, *.cif, *.json, <name>/POSCAR)`);
  return out.sort();
}

/**
 * The structures of a FEFF run set: `<id>/POSCAR` one level down only. Its top level holds run
 * parameters (feff-parameters.json), not structures, so a run set is not listed as a plain folder.
 */
export function listRunSetStructures(dir: string): string[] {
  const top = path.resolve(dir);
  const files = listStructureFiles(dir).filter((f) => path.dirname(path.resolve(f)) !== top);
  if (files.length === 0) throw new InputError(`${dir}: no <id>/POSCAR run folders`);
  return files;
}

/** Candidates from every structure file of a folder (see listStructureFiles). */
export function candidatesFromFolder(dir: string): CandidateLoad {
  return candidatesFromFiles(listStructureFiles(dir));
}

/**
 * One candidate per material among dataset rows `rows` (e.g. a test split), carrying the material's
 * structure; no sites are listed, so the ranking covers every site of the absorbing element (not only
 * those with spectra), one per equivalence class weighted by its size (see Candidate.sites).
 */
export function candidatesFromDataset(ds: Dataset, rows: readonly number[]): Candidate[] {
  const seen = new Set<string>();
  const out: Candidate[] = [];
  for (const i of rows) {
    const id = ds.meta[i].materialId;
    if (seen.has(id)) continue;
    seen.add(id);
    const structure = ds.structures.get(id);
    if (!structure) throw new Error(`dataset ${ds.config.name}: no structure for ${id}`);
    out.push({ id, structure, origin: "dataset" });
  }
  return out;
}

/** Dataset row `row` as a target (already on the dataset mesh; kind from its site: -1 = material). */
export function targetFromDataset(ds: Dataset, row: number): TargetSpectrum {
  if (!Number.isInteger(row) || row < 0 || row >= ds.meta.length) throw new InputError(`dataset ${ds.config.name}: no row ${row} (${ds.meta.length} spectra)`);
  const m = ds.energy.length;
  const meta = ds.meta[row];
  return {
    energy: ds.energy,
    intensity: Float64Array.from(ds.spectra.subarray(row * m, (row + 1) * m)),
    source: meta.site >= 0 ? `${meta.materialId} site ${meta.site}` : meta.materialId,
    kind: meta.site >= 0 ? "site" : "material",
  };
}

/** Rows of a material's site spectra and their weights in the whole-material average (sum 1). */
export interface MaterialAverageWeights {
  readonly rows: number[];
  readonly weights: Float64Array;
  readonly element: string;
  /** Absorbing sites in the cell (the sum of the class sizes). */
  readonly nsites: number;
  /** Equivalence classes of the absorbing element (see equivalentSites). */
  readonly nclasses: number;
}

/**
 * How a material's site spectra combine into its whole-material spectrum: each environment class of
 * the absorbing element (equivalentSites) weighs its size (the `multiplicity` recorded in the dataset)
 * divided among the class's computed sites. Returns a reason string instead when some class has no
 * computed spectrum (then no honest average exists) or the dataset's multiplicities disagree with
 * the structure's classes.
 */
export function materialAverageWeights(ds: Dataset, materialId: string, rows?: readonly number[]): MaterialAverageWeights | string {
  const structure = ds.structures.get(materialId);
  const own = (rows ?? ds.meta.map((_, i) => i)).filter((i) => ds.meta[i].materialId === materialId && ds.meta[i].site >= 0);
  if (!structure || own.length === 0) return `no site spectra for ${materialId}`;
  const element = ds.meta[own[0]].element;
  const eq = equivalentSites(structure, element);
  const perClass = new Int32Array(eq.groups.length);
  for (const r of own) {
    const m = ds.meta[r];
    if (m.element !== element) return `${materialId}: site spectra of two absorbing elements (${element}, ${m.element})`;
    const c = eq.classOf[m.site];
    if (c < 0) return `${materialId}: site ${m.site} is not ${element}`;
    if (m.multiplicity !== eq.groups[c].length) return `${materialId}: site ${m.site} has multiplicity ${m.multiplicity} in the dataset but its class holds ${eq.groups[c].length} sites`;
    perClass[c]++;
  }
  const missing = eq.groups.filter((_, c) => perClass[c] === 0);
  if (missing.length) {
    return `${materialId}: ${missing.length} of ${eq.groups.length} ${element} site classes have no spectrum (e.g. site ${missing[0][0]}, multiplicity ${missing[0].length}); the average needs all of them`;
  }
  const nsites = eq.groups.reduce((a, g) => a + g.length, 0);
  const weights = Float64Array.from(own, (r) => {
    const c = eq.classOf[ds.meta[r].site];
    return eq.groups[c].length / perClass[c] / nsites;
  });
  return { rows: own, weights, element, nsites, nclasses: eq.groups.length };
}

/**
 * The multiplicity-weighted average spectrum of a material (what the Materials Project serves per
 * material) from its site spectra: FEFF runs cover one site per symmetry class, each weighted by its
 * class size (see materialAverageWeights). An InputError says which class lacks a spectrum.
 */
export function averagedTargetFromDataset(ds: Dataset, materialId: string): TargetSpectrum {
  const w = materialAverageWeights(ds, materialId);
  if (typeof w === "string") throw new InputError(`dataset ${ds.config.name}: ${w}`);
  const m = ds.energy.length;
  const intensity = new Float64Array(m);
  w.rows.forEach((r, k) => {
    const o = r * m, wk = w.weights[k];
    for (let j = 0; j < m; j++) intensity[j] += wk * ds.spectra[o + j];
  });
  return {
    energy: ds.energy,
    intensity,
    source: `${materialId} (average of ${w.nsites} ${w.element} sites from ${w.rows.length} site spectra)`,
    kind: "material",
  };
}
