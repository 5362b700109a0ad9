import * as fs from "node:fs";
import * as path from "node:path";
import { Structure } from "../structure/types";
import { InputError, errorMessage } from "../util/errors";
import { ownerPid, processAlive, sha256Hex } from "../util/fs";
import { parseJsonFileText, readJsonFile } from "../util/json";
import { recordsToCsv } from "../util/csv";
import { structureFromPymatgen, structureToPymatgen } from "../structure/pymatgen";
import { Dataset, DatasetConfig, SpectrumMeta, siteMultiplicities } from "./dataset";
import type { DatasetSplits } from "./splits";
import { decodeNpy, encodeNpy, readNpy } from "./npy";

/**
 * Dataset folder layout (readable from Python: numpy.load + json/csv):
 *   spectra.npy     float32 N×M        energy.npy   float64 M
 *   meta.csv        one row per spectrum (same rows as meta.json)
 *   meta.json       array of SpectrumMeta
 *   structures.json {materialId: pymatgen Structure dict}
 *   splits.json     seeded random and grouped-by-material index lists
 *   dataset.json    config: source, filters, mesh, normalisation, counts, quality report, time, version
 */

const META_COLUMNS: (keyof SpectrumMeta)[] = ["materialId", "formula", "site", "multiplicity", "element", "edge", "spectrumType", "nelements", "elements", "e0", "source"];

export function metaToCsv(meta: readonly SpectrumMeta[]): string {
  return recordsToCsv(meta, META_COLUMNS);
}

/** Every file of a dataset folder; a folder missing one (or with one unreadable) is incomplete. */
export const DATASET_FILES = ["spectra.npy", "energy.npy", "meta.csv", "meta.json", "structures.json", "splits.json", "dataset.json"] as const;

export interface DatasetStoreOptions {
  /** Where recovery of an interrupted save is reported; default console.warn. */
  readonly log?: (message: string) => void;
}

/** True when `dir` holds every dataset file and its JSON and .npy files decode (used only when a save was interrupted). */
function isCompleteDatasetFolder(dir: string): boolean {
  try {
    if (!DATASET_FILES.every((f) => fs.statSync(path.join(dir, f)).isFile())) return false;
    for (const f of ["dataset.json", "meta.json", "structures.json", "splits.json"]) JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    readNpy(path.join(dir, "spectra.npy"));
    readNpy(path.join(dir, "energy.npy"));
    return true;
  } catch {
    return false;
  }
}

/**
 * Clean up after a `saveDataset` that was killed: its `<dir>.tmp-<pid>` (new files being written) and
 * `<dir>.old-<pid>` (the previous folder, moved aside) siblings. When `dir` is missing or incomplete,
 * the newest complete one of them takes its place (a complete temp folder is the finished new write,
 * killed between its two renames; else the old folder is restored); every other stale sibling is
 * removed. Folders of a writer that is still running are left alone. Returns what was done, one
 * message per action (empty when there was nothing to do).
 */
export function recoverDatasetFolder(dir: string): string[] {
  const abs = path.resolve(dir);
  const parent = path.dirname(abs);
  const base = path.basename(abs);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const stale: { p: string; kind: "tmp" | "old" }[] = [];
  for (const name of names) {
    if (!name.startsWith(`${base}.`)) continue;
    const rest = name.slice(base.length);
    const kind = /^\.tmp-\d+$/.test(rest) ? "tmp" : /^\.old-\d+$/.test(rest) ? "old" : undefined;
    if (!kind) continue;
    const pid = ownerPid(rest, kind)!;
    if (pid !== process.pid && processAlive(pid)) continue; // another writer is at work
    stale.push({ p: path.join(parent, name), kind });
  }
  if (stale.length === 0) return [];
  const done: string[] = [];
  if (!isCompleteDatasetFolder(abs)) {
    const mtime = (p: string) => fs.statSync(p).mtimeMs;
    const complete = stale.filter((c) => isCompleteDatasetFolder(c.p)).sort((a, b) => (a.kind === b.kind ? mtime(b.p) - mtime(a.p) : a.kind === "tmp" ? -1 : 1));
    const pick = complete[0];
    if (pick) {
      if (fs.existsSync(abs)) {
        fs.rmSync(abs, { recursive: true, force: true });
        done.push(`${abs}: removed an incomplete dataset folder`);
      }
      fs.renameSync(pick.p, abs);
      stale.splice(stale.indexOf(pick), 1);
      done.push(`${abs}: restored from ${path.basename(pick.p)} (${pick.kind === "tmp" ? "the finished write of an interrupted save" : "the previous dataset, moved aside by an interrupted save"})`);
    }
  }
  for (const c of stale) {
    fs.rmSync(c.p, { recursive: true, force: true });
    done.push(`${abs}: removed ${path.basename(c.p)} left by an interrupted save`);
  }
  return done;
}

function recoverAndReport(dir: string, opts: DatasetStoreOptions): void {
  const log = opts.log ?? ((m: string) => console.warn(m));
  try {
    for (const m of recoverDatasetFolder(dir)) log(`dataset store: ${m}`);
  } catch (err) {
    log(`dataset store: could not clean up after an interrupted save of ${dir}: ${errorMessage(err)}`);
  }
}

/**
 * Write a dataset folder. Files go to a temporary sibling folder first, which then replaces `dir`,
 * so an interrupted save never leaves a half-written dataset under the final name; what a killed
 * save left behind is cleaned (or restored) on the next save or load (`recoverDatasetFolder`).
 */
export function saveDataset(ds: Dataset, dir: string, opts: DatasetStoreOptions = {}): void {
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  recoverAndReport(dir, opts);
  const tmp = `${path.resolve(dir)}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  const N = ds.meta.length;
  const M = ds.energy.length;
  const structures: Record<string, unknown> = {};
  for (const [id, s] of ds.structures) {
    const d = structureToPymatgen(s) as ReturnType<typeof structureToPymatgen> & { properties?: Record<string, unknown> };
    // A FEFF cluster (feff.inp) is not periodic; pymatgen keeps `properties`, so the flag survives.
    if (s.periodic === false) d.properties = { ...(d.properties ?? {}), periodic: false };
    structures[id] = d;
  }
  const data: Record<HashedFile, string | Buffer> = {
    "spectra.npy": encodeNpy(ds.spectra, [N, M]),
    "energy.npy": encodeNpy(ds.energy, [M]),
    "meta.json": JSON.stringify(ds.meta),
    "structures.json": JSON.stringify(structures),
    "splits.json": JSON.stringify(ds.splits),
  };
  for (const f of HASHED_FILES) fs.writeFileSync(path.join(tmp, f), data[f]);
  fs.writeFileSync(path.join(tmp, "meta.csv"), metaToCsv(ds.meta));
  // SHA-256 of every data file (of the bytes just written), checked on load: a changed or damaged file
  // (a bit flip keeps an npy well-formed) is refused instead of trained on.
  const integrity = Object.fromEntries(HASHED_FILES.map((f) => [f, sha256Hex(data[f])]));
  // Written last: its presence (and that it parses) marks a finished folder for recovery.
  fs.writeFileSync(path.join(tmp, "dataset.json"), JSON.stringify({ ...ds.config, integrity }, null, 1));
  const old = `${path.resolve(dir)}.old-${process.pid}`;
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}


/** Files whose SHA-256 dataset.json records (`integrity`). */
const HASHED_FILES = ["spectra.npy", "energy.npy", "meta.json", "structures.json", "splits.json"] as const;
type HashedFile = (typeof HASHED_FILES)[number];

/**
 * The data files' bytes, each read once and compared with the SHA-256 recorded when the folder was
 * saved. Folders saved before hashes were recorded have none and load as before.
 */
function readDataFiles(dir: string, integrity: unknown): Record<HashedFile, Buffer> {
  const checked = integrity !== undefined;
  if (checked && (!integrity || typeof integrity !== "object" || Array.isArray(integrity))) throw new InputError(`${dir}/dataset.json: "integrity" must be an object of file → sha256`);
  const rec = (integrity ?? {}) as Record<string, unknown>;
  const out = {} as Record<HashedFile, Buffer>;
  for (const f of HASHED_FILES) {
    const want = rec[f];
    if (checked && typeof want !== "string") throw new InputError(`${dir}/dataset.json: integrity has no sha256 for ${f}`);
    const file = path.join(dir, f);
    try {
      out[f] = fs.readFileSync(file);
    } catch (err) {
      throw new InputError(`${file}: cannot read (${errorMessage(err)})`);
    }
    if (checked && sha256Hex(out[f]) !== want) throw new InputError(`${file}: contents differ from what was saved (sha256 mismatch); rebuild the dataset`);
  }
  return out;
}

/** Load a dataset folder written by `saveDataset`; arrays come back bit-identical. */
export function loadDataset(dir: string, opts: DatasetStoreOptions = {}): Dataset {
  recoverAndReport(dir, opts);
  const raw = readJsonFile(path.join(dir, "dataset.json")) as (DatasetConfig & { integrity?: unknown }) | null;
  if (!raw || typeof raw !== "object" || (raw.formatVersion !== 1 && raw.formatVersion !== 2)) {
    throw new InputError(`${dir}/dataset.json: format version ${String(raw?.formatVersion)} is not supported (1 or 2)`);
  }
  const { integrity, ...config } = raw;
  const bytes = readDataFiles(dir, integrity);
  const json = (f: HashedFile) => parseJsonFileText(bytes[f].toString("utf8"), path.join(dir, f));
  const spectraFile = path.join(dir, "spectra.npy");
  const energyFile = path.join(dir, "energy.npy");
  const s = decodeNpy(bytes["spectra.npy"], spectraFile);
  const e = decodeNpy(bytes["energy.npy"], energyFile);
  const metaFile = path.join(dir, "meta.json");
  const meta = json("meta.json") as SpectrumMeta[];
  if (!(s.data instanceof Float32Array) || s.shape.length !== 2) throw new InputError(`${spectraFile}: expected a float32 N×M matrix`);
  if (!(e.data instanceof Float64Array) || e.shape.length !== 1 || e.shape[0] !== s.shape[1]) throw new InputError(`${energyFile}: expected float64 of length ${s.shape[1]}`);
  if (!Array.isArray(meta)) throw new InputError(`${metaFile}: expected an array of spectrum records`);
  if (s.shape[0] !== meta.length) throw new InputError(`${spectraFile}: ${s.shape[0]} rows but meta.json has ${meta.length}`);
  for (let j = 0; j < e.data.length; j++) {
    if (!Number.isFinite(e.data[j]) || (j > 0 && !(e.data[j] > e.data[j - 1]))) throw new InputError(`${energyFile}: energy[${j}] = ${e.data[j]} is not finite and increasing`);
  }
  for (let k = 0; k < s.data.length; k++) {
    if (!Number.isFinite(s.data[k])) throw new InputError(`${spectraFile}: row ${Math.floor(k / s.shape[1])}, point ${k % s.shape[1]} is ${s.data[k]}`);
  }
  const rawStructures = json("structures.json") as Record<string, unknown>;
  if (!rawStructures || typeof rawStructures !== "object" || Array.isArray(rawStructures)) throw new InputError(`${dir}/structures.json: expected an object of structures by material id`);
  const structures = new Map<string, Structure>();
  for (const [id, d] of Object.entries(rawStructures)) {
    const s = structureFromPymatgen(d, `${dir}/structures.json#${id}`);
    structures.set(id, (d as { properties?: { periodic?: unknown } })?.properties?.periodic === false ? { ...s, periodic: false } : s);
  }
  const relative = (config.mesh as { relative?: unknown } | undefined)?.relative === true;
  meta.forEach((m, row) => checkMetaRow(m, row, metaFile, config.formatVersion, structures, relative));
  // Version 1 had no multiplicity column: derive it from the structures with the same definition
  // buildDataset uses (the folder on disk is left as it is).
  const upgraded = config.formatVersion === 1 ? withMultiplicities(meta, structures) : meta;
  const splitsFile = path.join(dir, "splits.json");
  const splits = json("splits.json") as DatasetSplits;
  checkSplits(splits, meta.length, splitsFile);
  return { config, energy: e.data, spectra: s.data, meta: upgraded, structures, splits };
}

/** One meta.json record: every field of its type, the site inside its structure (InputError naming file, row and field). */
function checkMetaRow(m: SpectrumMeta, row: number, file: string, version: number, structures: Map<string, Structure>, relativeMesh: boolean): void {
  const bad = (field: string, want: string): never => {
    throw new InputError(`${file}: row ${row}: ${field} ${JSON.stringify((m as unknown as Record<string, unknown>)?.[field])} is not ${want}`);
  };
  if (!m || typeof m !== "object" || Array.isArray(m)) throw new InputError(`${file}: row ${row} is not an object`);
  for (const f of ["materialId", "formula", "element", "edge", "spectrumType", "elements", "source"] as const) if (typeof m[f] !== "string") bad(f, "a string");
  if (!Number.isInteger(m.site) || m.site < -1) bad("site", "an integer ≥ −1");
  if (!Number.isInteger(m.nelements) || m.nelements < 1) bad("nelements", "a positive integer");
  if (version >= 2 && (!Number.isInteger(m.multiplicity) || m.multiplicity < 0)) bad("multiplicity", "a non-negative integer");
  // e0 is what was subtracted for an edge-relative mesh, and nothing for an absolute one.
  if (relativeMesh ? !(typeof m.e0 === "number" && Number.isFinite(m.e0)) : m.e0 !== null) bad("e0", relativeMesh ? "a finite number (edge-relative mesh)" : "null (absolute mesh)");
  const st = structures.get(m.materialId);
  if (!st) throw new InputError(`${path.join(path.dirname(file), "structures.json")}: no structure for ${m.materialId} (${file} row ${row})`);
  if (m.site >= st.species.length || (m.site >= 0 && st.species[m.site] !== m.element)) bad("site", `a ${m.element} site of ${m.materialId} (${st.species.length} sites)`);
  if (m.nelements !== new Set(st.species).size) bad("nelements", `the ${new Set(st.species).size} elements of ${m.materialId}'s structure`);
}

function checkSplits(sp: DatasetSplits, n: number, file: string): void {
  const isList = (v: unknown) => Array.isArray(v) && v.every((i) => Number.isInteger(i) && i >= 0 && i < n);
  for (const kind of ["random", "grouped"] as const) {
    for (const part of ["train", "val", "test"] as const) {
      if (!isList((sp as unknown as Record<string, Record<string, unknown> | undefined>)?.[kind]?.[part])) {
        throw new InputError(`${file}: ${kind}.${part} must be a list of row indices 0..${n - 1}`);
      }
    }
  }
}

function withMultiplicities(meta: readonly SpectrumMeta[], structures: Map<string, Structure>): SpectrumMeta[] {
  const cache = new Map<string, Int32Array>();
  return meta.map((m) => {
    const s = structures.get(m.materialId)!;
    if (m.site < 0) return { ...m, multiplicity: s.species.filter((sp) => sp === m.element).length };
    const key = `${m.materialId}/${m.element}`;
    let mult = cache.get(key);
    if (!mult) cache.set(key, (mult = siteMultiplicities(s, m.element)));
    return { ...m, multiplicity: mult[m.site] };
  });
}
