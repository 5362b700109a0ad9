/**
 * The OmniXAS Cu K-edge FEFF benchmark protocol (Kharel et al., arXiv 2409.19552; split lists from
 * github AI-multimodal/OmniXAS): their train/val/test split by material, their processing and their
 * score, so a model trained here can be placed next to the published values.
 *
 * Processing (their code, checked against their processed rows in `test/benchmark.test.ts`):
 *   mesh      E_i = 8983.173 + 0.25·i eV, i = 0..140 (absolute photon energy);
 *   ends      the spectrum is first cut to the window [E_0, E_140), then numpy `interp` holds the
 *             end values: a spectrum starting after E_0 is held at its first value, and the points
 *             after its last sample < E_140 at that sample's value (not interpolated towards the next
 *             sample: measured, the last mesh point differs by up to 4 % relative otherwise);
 *   intensity y = mu · xsedge50 · 1000 / a0²  (mu: column 4 of xmu.dat; xsedge50: the header value
 *             "xsedge+ 50, used to normalize mu" that FEFF divided mu by; a0 = 0.529177 Å), no other
 *             normalisation.
 * Score: eta = median_i MSE_i(mean training spectrum) / median_i MSE_i(model), MSE_i the mean over
 * the 141 points of spectrum i (omnixas/scripts/misc/etas.py). Higher is better; scale-free.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { EnergyMesh } from "../spectra/mesh";
import type { SiteSpectrum } from "../spectra/types";
import { InputError } from "../util/errors";
import { buildDataset, Dataset } from "./dataset";
import { collectFeffFolders } from "./feff";
import type { SourceItem } from "./sources";
import type { SplitIndices } from "./splits";

/** Their 141-point mesh. */
export const OMNIXAS_MESH: EnergyMesh = { start: 8983.173, step: 0.25, points: 141, relative: false };

/** Bohr radius in Å, as their code has it. */
export const BOHR_RADIUS_ANGSTROM = 0.529177;

/** y = mu · xsedge50 · OMNIXAS_INTENSITY_FACTOR. */
export const OMNIXAS_INTENSITY_FACTOR = 1000 / (BOHR_RADIUS_ANGSTROM * BOHR_RADIUS_ANGSTROM);

/** Published eta of the Cu FEFF models (paper table). */
export const OMNIXAS_PUBLISHED_ETA = {
  /** ExpertXAS: pretrained M3GNet 64-d site embedding → MLP [600, 600, 400]. */
  expertXAS: 5.19,
  /** UniversalXAS: one model for Ti–Cu. */
  universalXAS: 2.75,
  /** UniversalXAS fine-tuned on Cu. */
  tunedUniversalXAS: 4.81,
} as const;

export const SPLIT_PARTS = ["train", "val", "test"] as const;
export type SplitPart = (typeof SPLIT_PARTS)[number];

/** One split line `<material_id>_<site>` (site 0-based, zero-padded to 3 digits). */
export interface SplitLine {
  readonly id: string;
  readonly materialId: string;
  readonly site: number;
}

const LINE = /^(.+)_(\d{3,})$/;

/** `mp-704645_000` → { materialId "mp-704645", site 0 }; InputError naming the file and line otherwise. */
export function parseSplitLine(line: string, source = "split", lineNo = 0): SplitLine {
  const id = line.trim();
  const m = LINE.exec(id);
  if (!m) throw new InputError(`${source}:${lineNo}: expected "<material_id>_<site>" (site zero-padded, e.g. mp-704645_000), found "${id.slice(0, 60)}"`);
  return { id, materialId: m[1], site: Number(m[2]) };
}

/** The id of a site spectrum in their split files. */
export function splitLineId(materialId: string, site: number): string {
  return `${materialId}_${String(site).padStart(3, "0")}`;
}

/** Non-blank, non-`#` lines of a split file. A line listed twice is an error (it would be counted twice). */
export function readSplitFile(file: string): SplitLine[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new InputError(`${file}: cannot read split file (${err instanceof Error ? err.message : String(err)})`);
  }
  const out: SplitLine[] = [];
  const seen = new Set<string>();
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith("#")) return;
    const s = parseSplitLine(line, file, i + 1);
    if (seen.has(s.id)) throw new InputError(`${file}:${i + 1}: ${s.id} listed twice`);
    seen.add(s.id);
    out.push(s);
  });
  return out;
}

export type OmnixasSplitLines = Record<SplitPart, SplitLine[]>;

/** train.txt, val.txt, test.txt of a split folder; a material on two sides is an InputError. */
export function readOmnixasSplit(dir: string): OmnixasSplitLines {
  const lines = {} as OmnixasSplitLines;
  const partOf = new Map<string, SplitPart>();
  for (const part of SPLIT_PARTS) {
    const file = path.join(dir, `${part}.txt`);
    lines[part] = readSplitFile(file);
    for (const l of lines[part]) {
      const other = partOf.get(l.materialId);
      if (other !== undefined && other !== part) throw new InputError(`${file}: material ${l.materialId} is also in ${other}.txt (the split is by material)`);
      partOf.set(l.materialId, part);
    }
  }
  return lines;
}

/**
 * Their processing before interpolation, as a new spectrum: samples cut to the mesh window
 * [start, stop) and mu scaled to mu · xsedge50 · 1000/a0² (buildDataset then interpolates with the
 * ends held, as numpy `interp`). A spectrum without the header value (not a FEFF xmu.dat) or with no
 * sample in the window gives an InputError naming its file.
 */
export function omnixasIntensity(s: SiteSpectrum, mesh: EnergyMesh = OMNIXAS_MESH): SiteSpectrum {
  if (s.xsedge50 === undefined) throw new InputError(`${s.source}: no "xsedge+ 50, used to normalize mu" header line (needed for the OmniXAS intensity scale)`);
  const f = s.xsedge50 * OMNIXAS_INTENSITY_FACTOR;
  const lo = mesh.start - 1e-9;
  // the window is half-open: a sample exactly at the last mesh energy is cut (measured on their rows,
  // e.g. mp-551456_002 has one at 9018.173 eV, and their last points hold the sample before it)
  const hi = mesh.start + (mesh.points - 1) * mesh.step - 1e-9;
  let a = 0;
  while (a < s.energy.length && s.energy[a] < lo) a++;
  let b = a;
  while (b < s.energy.length && s.energy[b] < hi) b++;
  if (b - a < 2) throw new InputError(`${s.source}: fewer than 2 samples in the window ${mesh.start}–${hi.toFixed(3)} eV`);
  const mu = new Float64Array(b - a);
  for (let i = a; i < b; i++) mu[i - a] = s.mu[i] * f;
  return { ...s, energy: s.energy.slice(a, b), mu };
}

/** FEFF folders read with their intensity scale; a spectrum without the header value is a reported drop. */
export async function* omnixasSource(roots: readonly string[], materialIds?: readonly string[]): AsyncGenerator<SourceItem> {
  for (const root of roots) {
    for await (const item of collectFeffFolders(root, materialIds ? { materialIds } : {})) {
      if ("drop" in item) {
        yield item;
        continue;
      }
      try {
        yield { spectrum: omnixasIntensity(item.spectrum) };
      } catch (err) {
        const s = item.spectrum;
        yield { drop: { id: `${s.materialId}/${s.site}`, source: s.source, reason: "unreadable-spectrum", message: err instanceof Error ? err.message : String(err) } };
      }
    }
  }
}

/** Split lines against what the FEFF roots hold. */
export interface OmnixasCoverage {
  /** Lines per part. */
  readonly lines: Record<SplitPart, number>;
  /** Lines whose spectrum is in the dataset (the n of every score). */
  readonly found: Record<SplitPart, number>;
  /** Lines whose material folder is in none of the roots (kept elsewhere by the data's publishers). */
  readonly materialMissing: Record<SplitPart, number>;
  /** Lines whose material folder exists but whose site spectrum is not in the dataset (no run, or a reported drop). */
  readonly siteMissing: Record<SplitPart, number>;
  /** Ids of the siteMissing lines (few), for the report. */
  readonly siteMissingIds: string[];
  /** Dataset spectra on no split line (a root holding other runs). */
  readonly notInSplit: number;
}

export interface OmnixasBenchmarkData {
  readonly dataset: Dataset;
  /** Dataset rows of each part, in split-file order. */
  readonly split: SplitIndices;
  readonly coverage: OmnixasCoverage;
}

/**
 * Their processing over one or more FEFF roots (`<material>/POSCAR` + `<material>/[FEFF-XANES/]<idx>_Cu/xmu.dat`),
 * restricted to the materials of the split, and the split mapped onto dataset rows.
 */
export async function buildOmnixasData(roots: readonly string[], splitDir: string): Promise<OmnixasBenchmarkData> {
  if (roots.length === 0) throw new InputError("buildOmnixasData: no FEFF data root given");
  const lines = readOmnixasSplit(splitDir);
  const materials = new Set<string>();
  for (const part of SPLIT_PARTS) for (const l of lines[part]) materials.add(l.materialId);
  const present = new Set<string>();
  for (const root of roots) {
    if (!fs.existsSync(root)) throw new InputError(`${root}: FEFF data root does not exist`);
    for (const name of fs.readdirSync(root)) if (materials.has(name)) present.add(name);
  }
  const dataset = await buildDataset({
    name: "omnixas-cu-feff",
    sourceLabel: `omnixas split ${splitDir} over ${roots.join(", ")}`,
    sources: omnixasSource(roots, [...present].sort()),
    mesh: OMNIXAS_MESH,
    normalisation: "none",
    outOfWindow: "clamp",
    filters: { elements: ["Cu"] },
  });
  const rowOf = new Map<string, number>();
  dataset.meta.forEach((m, i) => rowOf.set(splitLineId(m.materialId, m.site), i));
  const zero = (): Record<SplitPart, number> => ({ train: 0, val: 0, test: 0 });
  const count = { lines: zero(), found: zero(), materialMissing: zero(), siteMissing: zero() };
  const siteMissingIds: string[] = [];
  const split: SplitIndices = { train: [], val: [], test: [] };
  const used = new Set<number>();
  for (const part of SPLIT_PARTS) {
    for (const l of lines[part]) {
      count.lines[part]++;
      const row = rowOf.get(l.id);
      if (row !== undefined) {
        split[part].push(row);
        used.add(row);
        count.found[part]++;
      } else if (!present.has(l.materialId)) count.materialMissing[part]++;
      else {
        count.siteMissing[part]++;
        siteMissingIds.push(l.id);
      }
    }
  }
  return { dataset, split, coverage: { ...count, siteMissingIds, notInSplit: dataset.meta.length - used.size } };
}

/** Their processed spectra (`val-y-available.txt`): id → 141 values. */
export function readProcessedSpectra(file: string, points = OMNIXAS_MESH.points): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  fs.readFileSync(file, "utf8")
    .split("\n")
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line.length === 0 || line.startsWith("#")) return;
      const parts = line.split(/\s+/);
      if (parts.length !== points + 1) throw new InputError(`${file}:${i + 1}: expected an id and ${points} values, found ${parts.length - 1} values`);
      const y = new Float64Array(points);
      for (let j = 0; j < points; j++) {
        y[j] = Number(parts[j + 1]);
        if (!Number.isFinite(y[j])) throw new InputError(`${file}:${i + 1}: value ${j + 1} "${parts[j + 1]}" is not a finite number`);
      }
      out.set(parts[0], y);
    });
  return out;
}

/** Per-spectrum MSE (mean over the M points) of n predictions against n truths, both n × M row-major. */
export function perSpectrumMse(pred: ArrayLike<number>, truth: ArrayLike<number>, M: number): Float64Array {
  if (pred.length !== truth.length || truth.length % M !== 0) throw new RangeError(`perSpectrumMse: lengths ${pred.length} and ${truth.length} are not the same multiple of ${M}`);
  const n = truth.length / M;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * M; j < (i + 1) * M; j++) {
      const d = pred[j] - truth[j];
      s += d * d;
    }
    out[i] = s / M;
  }
  return out;
}

/** Median as numpy has it (mean of the two middle values for an even count). */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) throw new RangeError("median of no values");
  const s = Float64Array.from(values).sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : 0.5 * (s[h - 1] + s[h]);
}

export interface EtaScore {
  readonly eta: number;
  readonly n: number;
  readonly medianMseModel: number;
  readonly medianMseBaseline: number;
}

/**
 * eta = median per-spectrum MSE of the baseline (one spectrum, e.g. the mean training spectrum,
 * predicted for every test spectrum) / median per-spectrum MSE of the model.
 */
export function etaScore(pred: ArrayLike<number>, truth: ArrayLike<number>, baseline: ArrayLike<number>): EtaScore {
  const M = baseline.length;
  const n = truth.length / M;
  const tiled = new Float64Array(truth.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < M; j++) tiled[i * M + j] = baseline[j];
  const medianMseModel = median(perSpectrumMse(pred, truth, M));
  const medianMseBaseline = median(perSpectrumMse(tiled, truth, M));
  return { eta: medianMseBaseline / medianMseModel, n, medianMseModel, medianMseBaseline };
}
