/**
 * What the page computes for one structure: the absorbing-element sites grouped into symmetry
 * classes (lib equivalentSites / siteSymmetryInfo), each class's spectrum from every ensemble
 * member (one featurisation per class representative, shared by the members), and the
 * multiplicity-weighted average. Only glue: readers, descriptors, symmetry and the network are lib's.
 */
import type { Structure } from "../lib/structure/types";
import type { XanesPredictor } from "../lib/model/predictor";
import { equivalentSites } from "../lib/geometry/equivalence";
import { siteSymmetryInfo } from "../lib/geometry/symmetry";
import { InputError } from "../lib/util/errors";
import { recordsToCsv } from "../lib/util/csv";
import { drawSigma, predictDraws, type BandRecord } from "../lib/model/band";

export interface Band {
  /** Prediction per energy: the members' mean, or the single net. */
  mean: Float64Array;
  /**
   * σ per energy (lib/model/band): the members' or dropout samples' spread, calibrated when the model
   * recorded a calibration (StructurePrediction.calibrated); 0 without draws.
   */
  std: Float64Array;
}

export interface SiteClass {
  /** Site indices (0-based) of the class. */
  sites: number[];
  multiplicity: number;
  /** "P 1 (1), 1a" etc.; "" for clusters. */
  label: string;
  band: Band;
}

export interface StructurePrediction {
  element: string;
  formula: string;
  energy: Float64Array;
  classes: SiteClass[];
  /** Multiplicity-weighted average over the predicted classes (each draw averaged first, then spread). */
  average: Band;
  /** True when σ is calibrated (the model recorded a band calibration), false for a raw spread. */
  calibrated: boolean;
  /** Classes the featurizer rejected, with the lib's message. */
  skipped: { sites: number[]; reason: string }[];
  /** Milliseconds: symmetry + featurisation, network. */
  timing: { featurizeMs: number; predictMs: number };
}

/** Band of rows [offset, offset + m) of the prediction `mean` and its draws. */
function band(mean: ArrayLike<number>, draws: readonly Float32Array[], m: number, offset: number, rec: BandRecord | null): Band {
  const slice = (a: ArrayLike<number>) => Float32Array.from({ length: m }, (_, j) => a[offset + j]);
  return { mean: Float64Array.from(slice(mean)), std: Float64Array.from(drawSigma(draws.map(slice), m, rec)) };
}

export function formulaOf(s: Structure): string {
  const counts = new Map<string, number>();
  for (const el of s.species) counts.set(el, (counts.get(el) ?? 0) + 1);
  return [...counts].map(([el, n]) => (n === 1 ? el : `${el}${n}`)).join("");
}

export function predictStructure(structure: Structure, members: readonly XanesPredictor[]): StructurePrediction {
  const first = members[0];
  const element = first.spectral.mesh.element;
  const t0 = performance.now();
  const eq = equivalentSites(structure, element);
  const d = first.featurizer.length;
  const X = new Float32Array(eq.groups.length * d);
  const ok: number[][] = [];
  const skipped: { sites: number[]; reason: string }[] = [];
  for (const g of eq.groups) {
    try {
      first.featurizer.featurizeSite(structure, g[0], X, ok.length * d);
      ok.push(g);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      skipped.push({ sites: g, reason: e.message });
    }
  }
  const t1 = performance.now();
  const m = first.energy.length;
  const pred = ok.length ? predictDraws(members, { data: X.subarray(0, ok.length * d), rows: ok.length, cols: d }) : null;
  const t2 = performance.now();
  const classes: SiteClass[] = ok.map((g, i) => ({
    sites: g,
    multiplicity: g.length,
    label: structure.periodic === false ? "" : siteSymmetryInfo(structure, g[0]).label,
    band: band(pred!.mean, pred!.draws, m, i * m, pred!.band),
  }));
  // The weighted average of the prediction and of each draw, then the draws' spread.
  const total = ok.reduce((s, g) => s + g.length, 0);
  const average = (p: Float32Array) => {
    const a = new Float32Array(m);
    ok.forEach((g, i) => {
      for (let j = 0; j < m; j++) a[j] += (g.length / total) * p[i * m + j];
    });
    return a;
  };
  return {
    element,
    formula: formulaOf(structure),
    energy: first.energy,
    classes,
    average: pred ? band(average(pred.mean), pred.draws.map(average), m, 0, pred.band) : { mean: new Float64Array(0), std: new Float64Array(0) },
    calibrated: pred?.band != null,
    skipped,
    timing: { featurizeMs: t1 - t0, predictMs: t2 - t1 },
  };
}

/**
 * CSV (long format) of a prediction: one row per curve and energy, columns curve, energy, mean, lower,
 * upper (lower/upper = mean ∓ σ, the band of lib/model/band: calibrated when the model recorded it; equal to mean without draws).
 */
export function predictionCsv(p: StructurePrediction): string {
  type Row = { curve: string; energy: number; mean: number; lower: number; upper: number };
  const rows: Row[] = [];
  const add = (curve: string, b: Band) => {
    for (let j = 0; j < p.energy.length; j++) rows.push({ curve, energy: p.energy[j], mean: b.mean[j], lower: b.mean[j] - b.std[j], upper: b.mean[j] + b.std[j] });
  };
  add("weighted average", p.average);
  p.classes.forEach((c) => add(className(p, c), c.band));
  return recordsToCsv(rows, ["curve", "energy", "mean", "lower", "upper"]);
}

/** "Cu1 ×4 (P 1 (1), 1a)": first site (1-based, element-numbered as in the file) and multiplicity. */
export function className(p: StructurePrediction, c: SiteClass): string {
  return `${p.element} site ${c.sites[0] + 1} ×${c.multiplicity}${c.label ? ` (${c.label})` : ""}`;
}
