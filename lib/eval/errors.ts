/**
 * Error analysis: where the model is wrong, broken down by chemistry and local geometry.
 */
import { neighbours } from "../geometry/neighbours";
import type { Structure } from "../structure/types";
import { summarize } from "./metrics";

export interface ShellOptions {
  /** Neighbours considered, Å (default 3.5: beyond any first shell of a Cu oxide). */
  cutoff?: number;
  /** First shell = neighbours within (1 + tolerance) × nearest distance (default 0.2). */
  tolerance?: number;
}

export interface FirstShell {
  /** Coordination number: neighbours in the first shell. */
  cn: number;
  /** Nearest-neighbour distance, Å (NaN if none within the cutoff). */
  nearest: number;
  /** Distinct elements in the first shell, sorted ("O", "F-O"). */
  elements: string;
}

/**
 * First coordination shell of one site by a distance rule: every neighbour within (1 + tol) ×
 * the nearest distance. Simple and deterministic; it counts a Jahn–Teller-elongated Cu²⁺ as 4
 * (apical O at ≥ 1.2 × the planar distance fall outside), which is the usual chemical reading.
 */
export function firstShell(structure: Structure, site: number, options: ShellOptions = {}): FirstShell {
  const cutoff = options.cutoff ?? 3.5;
  const tol = options.tolerance ?? 0.2;
  const nl = neighbours(structure, site, cutoff);
  if (nl.distance.length === 0) return { cn: 0, nearest: NaN, elements: "" };
  const dmin = nl.distance[0];
  const limit = dmin * (1 + tol);
  let cn = 0;
  const els = new Set<string>();
  for (let k = 0; k < nl.distance.length && nl.distance[k] <= limit; k++) {
    cn++;
    els.add(structure.species[nl.index[k]]);
  }
  return { cn, nearest: dmin, elements: [...els].sort().join("-") };
}

export interface GroupRow {
  key: string;
  n: number;
  mean: number;
  median: number;
  std: number;
  p90: number;
}

/**
 * Summaries of `values` per group. `keys[i]` is the group of row i, or a list of groups (a row
 * then counts in each, e.g. every element of its compound). Groups with fewer than `minCount`
 * rows are pooled into "other". Sorted by key (numeric keys numerically).
 */
export function groupSummaries(
  values: ArrayLike<number>,
  keys: readonly (string | readonly string[])[],
  minCount = 1,
): GroupRow[] {
  if (keys.length !== values.length) throw new Error(`groupSummaries: ${values.length} values but ${keys.length} keys`);
  const groups = new Map<string, number[]>();
  for (let i = 0; i < keys.length; i++) {
    const ks = typeof keys[i] === "string" ? [keys[i] as string] : (keys[i] as readonly string[]);
    for (const k of ks) {
      const list = groups.get(k);
      if (list) list.push(values[i]);
      else groups.set(k, [values[i]]);
    }
  }
  const out: GroupRow[] = [];
  const other: number[] = [];
  for (const [key, vs] of groups) {
    if (vs.length < minCount) {
      other.push(...vs);
      continue;
    }
    const s = summarize(vs);
    out.push({ key, n: vs.length, mean: s.mean, median: s.median, std: s.std, p90: s.p90 });
  }
  const numeric = out.every((r) => /^-?\d+(\.\d+)?$/.test(r.key));
  out.sort((a, b) => (numeric ? Number(a.key) - Number(b.key) : a.key.localeCompare(b.key)));
  if (other.length) {
    const s = summarize(other);
    out.push({ key: "other", n: other.length, mean: s.mean, median: s.median, std: s.std, p90: s.p90 });
  }
  return out;
}

/**
 * Indices of the best, median and worst rows by `values` (ascending = better, e.g. MSE), `count`
 * of each. NaN rows are ranked last.
 */
export function rankExamples(values: ArrayLike<number>, count = 3): { best: number[]; median: number[]; worst: number[] } {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => {
    const va = Number.isNaN(values[a]) ? Infinity : values[a];
    const vb = Number.isNaN(values[b]) ? Infinity : values[b];
    return va - vb || a - b;
  });
  const n = order.length;
  const c = Math.min(count, n);
  const mid = Math.max(0, Math.floor(n / 2) - Math.floor(c / 2));
  return { best: order.slice(0, c), median: order.slice(mid, mid + c), worst: order.slice(n - c).reverse() };
}

/** What the breakdown needs to know about each evaluated row. */
export interface RowInfo {
  materialId: string;
  site: number;
  /** Absorbing element. */
  element: string;
  nelements: number;
  /** Elements of the compound joined by "-" (SpectrumMeta.elements). */
  elements: string;
}

export interface ErrorBreakdown {
  metric: string;
  byNelements: GroupRow[];
  /** By the elements of the first coordination shell of the absorbing site. */
  byShellElements: GroupRow[];
  /** By each other cation in the compound (not the absorber, not O): a row counts once per element. */
  byCoElement: GroupRow[];
  byCoordination: GroupRow[];
  /** Per-row shell data, aligned with the rows (for plots). */
  shells: FirstShell[];
}

/** Error of every row grouped by chemistry and first-shell geometry. */
export function errorBreakdown(
  values: ArrayLike<number>,
  rows: readonly RowInfo[],
  structures: ReadonlyMap<string, Structure>,
  metric = "mse",
  options: ShellOptions & { minCount?: number } = {},
): ErrorBreakdown {
  const minCount = options.minCount ?? 5;
  const shells = rows.map((r) => {
    const s = structures.get(r.materialId);
    if (!s) throw new Error(`errorBreakdown: no structure for material ${r.materialId}`);
    return firstShell(s, r.site, options);
  });
  const coKeys = rows.map((r) => {
    const co = r.elements.split("-").filter((e) => e && e !== r.element && e !== "O");
    return co.length ? co : ["(none)"];
  });
  return {
    metric,
    byNelements: groupSummaries(values, rows.map((r) => String(r.nelements)), 1),
    byShellElements: groupSummaries(values, shells.map((s) => s.elements || "(none)"), minCount),
    byCoElement: groupSummaries(values, coKeys, minCount),
    byCoordination: groupSummaries(values, shells.map((s) => String(s.cn)), minCount),
    shells,
  };
}

/** Markdown table of group rows. */
export function groupTable(rows: readonly GroupRow[], keyName = "group", digits = 5): string {
  const lines = [`| ${keyName} | n | mean | median | p90 |`, "|---|---:|---:|---:|---:|"];
  for (const r of rows) {
    lines.push(`| ${r.key} | ${r.n} | ${r.mean.toFixed(digits)} | ${r.median.toFixed(digits)} | ${r.p90.toFixed(digits)} |`);
  }
  return lines.join("\n");
}
