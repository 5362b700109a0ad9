/**
 * The ranked table in three forms: plain records (tests, JSON), a danfojs DataFrame (notebooks) and
 * fixed-width text (CLI).
 */
import { danfo, type DataFrame } from "../util/dataframe";
export type RankingDataFrame = DataFrame;
import type { MeasuredRankedCandidate, MeasuredScreeningResult, RankedCandidate, ScreeningResult } from "./rank";

/** One row of the ranked table without the spectra. */
export type RankingRecord = Omit<RankedCandidate, "prediction" | "predictionStd">;

export function rankingRecords(result: ScreeningResult, top = Infinity): RankingRecord[] {
  return result.rows.slice(0, top).map(({ prediction, predictionStd, ...rest }) => rest);
}

export const RANKING_COLUMNS: readonly (keyof RankingRecord)[] = [
  "rank", "id", "site", "symmetry", "score", "scoreStd", "shift", "shiftStd", "rankBest", "rankWorst",
  "mse", "cosine", "pearson", "spearman", "peakError", "nSites", "shiftAtEdge", "origin",
];

/**
 * The ranked table as a danfojs DataFrame, best first. `columns` selects and orders columns (default
 * all of RANKING_COLUMNS); `digits` rounds numbers for display (default: full precision).
 */
export function rankingDataFrame(
  result: ScreeningResult,
  opts: { top?: number; columns?: readonly (keyof RankingRecord)[]; digits?: number } = {},
): RankingDataFrame {
  const recs = rankingRecords(result, opts.top ?? Infinity);
  const cols = opts.columns ?? RANKING_COLUMNS;
  const scale = opts.digits === undefined ? 0 : 10 ** opts.digits;
  const data: Record<string, unknown[]> = {};
  for (const c of cols) {
    data[c] = recs.map((r) => {
      const v = r[c];
      if (typeof v === "boolean") return String(v);
      if (typeof v === "number" && scale && Number.isFinite(v) && !Number.isInteger(v)) return Math.round(v * scale) / scale;
      return v;
    });
  }
  const dfd = danfo();
  return new dfd.DataFrame(data, { columns: cols as string[] });
}

function fmt(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : "—";
}

/** `mean ± std` (or just the mean for a single model). */
function pm(mean: number, std: number, digits: number): string {
  return Number.isFinite(std) ? `${fmt(mean, digits)} ± ${fmt(std, digits)}` : fmt(mean, digits);
}

/** Fixed-width text table of the best `top` candidates, for the command line. */
export function formatRankingTable(result: ScreeningResult, top = 20): string {
  const digits = result.metric === "mse" ? 5 : 4;
  const ens = result.members > 1;
  const head = ["rank", "candidate", "site", "symmetry", `${result.metric}${result.higherIsBetter ? "↑" : "↓"}`, "shift eV", ...(ens ? ["rank range"] : []), "cosine", "pearson", "peak ΔE"];
  const rows = result.rows.slice(0, top).map((r) => [
    String(r.rank),
    r.id,
    r.site < 0 ? "avg" : String(r.site),
    r.symmetry,
    pm(r.score, r.scoreStd, digits),
    pm(r.shift, r.shiftStd, 2) + (r.shiftAtEdge ? "*" : ""),
    ...(ens ? [`${r.rankBest}–${r.rankWorst}`] : []),
    fmt(r.cosine, 4),
    fmt(r.pearson, 4),
    fmt(r.peakError, 2),
  ]);
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((s, c) => (c === 1 || c === 3 ? s.padEnd(width[c]) : s.padStart(width[c]))).join("  ");
  const out = [line(head), width.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)];
  if (result.rows.slice(0, top).some((r) => r.shiftAtEdge)) out.push(`* shift at the ±${result.target.window} eV window edge: the best alignment may lie outside it`);
  return out.join("\n");
}

/** One row of the measured-target ranking without the spectra. */
export type MeasuredRankingRecord = Omit<MeasuredRankedCandidate, "prediction" | "predictionStd">;

export const MEASURED_RANKING_COLUMNS: readonly (keyof MeasuredRankingRecord)[] = [
  "rank", "id", "site", "symmetry", "score", "scoreStd", "shift", "shiftStd", "sigma", "sigmaStd", "gamma", "gammaStd",
  "rankBest", "rankWorst", "shiftAtEdge", "broadeningAtEdge", "nSites", "origin",
];

export function measuredRankingRecords(result: MeasuredScreeningResult, top = Infinity): MeasuredRankingRecord[] {
  return result.rows.slice(0, top).map(({ prediction, predictionStd, ...rest }) => rest);
}

/**
 * Fixed-width table for a measured target: score, shift (total = offset + shift), broadening, the
 * ensemble's spread and rank range, and window-edge flags spelled out (not only starred).
 */
export function formatMeasuredTable(result: MeasuredScreeningResult, top = 20): string {
  const o = result.target.options;
  const ens = result.members > 1;
  const lorentz = (o.gammas ?? [0]).length > 1;
  const gauss = o.sigmas.length > 1;
  const head = ["rank", "candidate", "site", "symmetry", `${result.score}${result.score === "l2" ? " (−rms)" : ""}↑`, "shift eV", ...(gauss ? ["σ eV"] : []), ...(lorentz ? ["γ eV"] : []), ...(ens ? ["rank range"] : []), "flags"];
  const rows = result.rows.slice(0, top).map((r) => [
    String(r.rank),
    r.id,
    r.site < 0 ? "avg" : String(r.site),
    r.symmetry,
    pm(r.score, r.scoreStd, 4),
    pm(r.shift, r.shiftStd, 2),
    ...(gauss ? [pm(r.sigma, r.sigmaStd, 2)] : []),
    ...(lorentz ? [pm(r.gamma, r.gammaStd, 2)] : []),
    ...(ens ? [`${r.rankBest}–${r.rankWorst}`] : []),
    [r.shiftAtEdge ? "shift-at-window-edge" : "", r.broadeningAtEdge ? "broadening-at-bound" : ""].filter(Boolean).join(",") || "-",
  ]);
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((s, c) => (c === 1 || c === 3 || c === cells.length - 1 ? s.padEnd(width[c]) : s.padStart(width[c]))).join("  ");
  const out = [line(head), width.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)];
  const nEdge = result.rows.filter((r) => r.shiftAtEdge).length;
  const nBound = result.rows.filter((r) => r.broadeningAtEdge).length;
  out.push(
    `total shift = offset ${o.offset.toFixed(2)} eV + shift (target compared as T(E + total)); ` +
      `${nEdge} of ${result.rows.length} candidates have their best shift at the ±${o.shiftWindow} eV window edge, ${nBound} their broadening at the upper bound` +
      (ens ? `; ± = spread over ${result.members} ensemble members` : ""),
  );
  return out.join("\n");
}
