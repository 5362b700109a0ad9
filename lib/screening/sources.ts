/**
 * Where candidates and targets come from: structure files, a folder of them, or a built dataset.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../structure/types";
import { readStructureFile } from "../structure/read";
import type { Dataset } from "../data/dataset";
import { errorMessage } from "../data/sources";
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
  const candidates: Candidate[] = [];
  const skipped: CandidateLoad["skipped"] = [];
  const ids = new Map<string, number>();
  for (const file of files) {
    // "mp-123/POSCAR" is named after its folder; "x.cif" after the file.
    const base = path.basename(file);
    let id = /^(poscar|contcar)$/i.test(base) ? path.basename(path.dirname(path.resolve(file))) : base.replace(/\.(vasp|poscar|cif|json)$/i, "");
    const n = ids.get(id) ?? 0;
    ids.set(id, n + 1);
    if (n > 0) id = `${id}#${n + 1}`;
    try {
      candidates.push({ id, structure: readStructureFile(file), origin: "file" });
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

/** Candidates from every structure file of a folder (see listStructureFiles). */
export function candidatesFromFolder(dir: string): CandidateLoad {
  return candidatesFromFiles(listStructureFiles(dir));
}

/**
 * One candidate per material among dataset rows `rows` (e.g. a test split), carrying the material's
 * structure; its absorbing sites default to every site of the element (not only those with spectra).
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

/**
 * The multiplicity-weighted average spectrum of a material (what the Materials Project serves per
 * material), from its site spectra: the plain mean over every absorbing site of the cell. Needs a
 * spectrum for every site of the element (FEFF runs usually cover only inequivalent sites, whose
 * multiplicities the dataset does not record); otherwise an InputError says how many are missing.
 */
export function averagedTargetFromDataset(ds: Dataset, materialId: string): TargetSpectrum {
  const structure = ds.structures.get(materialId);
  const rows: number[] = [];
  for (let i = 0; i < ds.meta.length; i++) if (ds.meta[i].materialId === materialId && ds.meta[i].site >= 0) rows.push(i);
  if (!structure || rows.length === 0) throw new InputError(`dataset ${ds.config.name}: no site spectra for ${materialId}`);
  const element = ds.meta[rows[0]].element;
  const bySite = new Map(rows.map((r) => [ds.meta[r].site, r]));
  const sites = structure.species.flatMap((sp, i) => (sp === element ? [i] : []));
  const missing = sites.filter((i) => !bySite.has(i));
  if (missing.length) {
    throw new InputError(`${materialId}: ${missing.length} of ${sites.length} ${element} sites have no spectrum (e.g. site ${missing[0]}); the average needs all of them`);
  }
  const m = ds.energy.length;
  const intensity = new Float64Array(m);
  for (const i of sites) {
    const o = bySite.get(i)! * m;
    for (let j = 0; j < m; j++) intensity[j] += ds.spectra[o + j];
  }
  for (let j = 0; j < m; j++) intensity[j] /= sites.length;
  return { energy: ds.energy, intensity, source: `${materialId} (average of ${sites.length} ${element} sites)`, kind: "material" };
}
