import * as fs from "node:fs";
import * as path from "node:path";
import { Structure } from "../structure/types";
import { InputError } from "../util/errors";
import { readJsonFile } from "../util/json";
import { recordsToCsv } from "../util/csv";
import { structureFromPymatgen, structureToPymatgen } from "../structure/pymatgen";
import { Dataset, DatasetConfig, SpectrumMeta, siteMultiplicities } from "./dataset";
import type { DatasetSplits } from "./splits";
import { readNpy, writeNpy } from "./npy";

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

/**
 * Write a dataset folder. Files go to a temporary sibling folder first, which then replaces `dir`,
 * so an interrupted save never leaves a half-written dataset under the final name.
 */
export function saveDataset(ds: Dataset, dir: string): void {
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  const tmp = `${path.resolve(dir)}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  const N = ds.meta.length;
  const M = ds.energy.length;
  writeNpy(path.join(tmp, "spectra.npy"), ds.spectra, [N, M]);
  writeNpy(path.join(tmp, "energy.npy"), ds.energy, [M]);
  fs.writeFileSync(path.join(tmp, "meta.csv"), metaToCsv(ds.meta));
  fs.writeFileSync(path.join(tmp, "meta.json"), JSON.stringify(ds.meta));
  const structures: Record<string, unknown> = {};
  for (const [id, s] of ds.structures) {
    const d = structureToPymatgen(s) as ReturnType<typeof structureToPymatgen> & { properties?: Record<string, unknown> };
    // A FEFF cluster (feff.inp) is not periodic; pymatgen keeps `properties`, so the flag survives.
    if (s.periodic === false) d.properties = { ...(d.properties ?? {}), periodic: false };
    structures[id] = d;
  }
  fs.writeFileSync(path.join(tmp, "structures.json"), JSON.stringify(structures));
  fs.writeFileSync(path.join(tmp, "splits.json"), JSON.stringify(ds.splits));
  fs.writeFileSync(path.join(tmp, "dataset.json"), JSON.stringify(ds.config, null, 1));
  const old = `${path.resolve(dir)}.old-${process.pid}`;
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}


/** Load a dataset folder written by `saveDataset`; arrays come back bit-identical. */
export function loadDataset(dir: string): Dataset {
  const config = readJsonFile(path.join(dir, "dataset.json")) as DatasetConfig;
  const spectraFile = path.join(dir, "spectra.npy");
  const s = readNpy(spectraFile);
  const e = readNpy(path.join(dir, "energy.npy"));
  const meta = readJsonFile(path.join(dir, "meta.json")) as SpectrumMeta[];
  if (!(s.data instanceof Float32Array) || s.shape.length !== 2) throw new InputError(`${spectraFile}: expected a float32 N×M matrix`);
  if (!(e.data instanceof Float64Array) || e.shape[0] !== s.shape[1]) throw new InputError(`${dir}/energy.npy: expected float64 of length ${s.shape[1]}`);
  if (s.shape[0] !== meta.length) throw new InputError(`${spectraFile}: ${s.shape[0]} rows but meta.json has ${meta.length}`);
  const rawStructures = readJsonFile(path.join(dir, "structures.json")) as Record<string, unknown>;
  const structures = new Map<string, Structure>();
  for (const [id, d] of Object.entries(rawStructures)) {
    const s = structureFromPymatgen(d, `${dir}/structures.json#${id}`);
    structures.set(id, (d as { properties?: { periodic?: unknown } })?.properties?.periodic === false ? { ...s, periodic: false } : s);
  }
  for (const m of meta) if (!structures.has(m.materialId)) throw new InputError(`${dir}/structures.json: no structure for ${m.materialId}`);
  if (config.formatVersion !== 1 && config.formatVersion !== 2) {
    throw new InputError(`${dir}/dataset.json: format version ${String(config.formatVersion)} is not supported (1 or 2)`);
  }
  // Version 1 had no multiplicity column: derive it from the structures with the same definition
  // buildDataset uses (the folder on disk is left as it is).
  const upgraded = config.formatVersion === 1 ? withMultiplicities(meta, structures) : meta;
  const splits = readJsonFile(path.join(dir, "splits.json")) as DatasetSplits;
  return { config, energy: e.data, spectra: s.data, meta: upgraded, structures, splits };
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
