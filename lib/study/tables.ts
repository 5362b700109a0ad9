/** Study tables: one record per table, shown as markdown (reports, notebooks) or as a danfojs DataFrame. */

import { danfo, type DataFrame } from "../util/dataframe";
export type StudyDataFrame = DataFrame;

export interface StudyTable {
  /** Stable key, e.g. "comparison". */
  name: string;
  title: string;
  columns: string[];
  /** Formatted cells, one array per row. */
  rows: string[][];
}

export function markdownTable(t: StudyTable): string {
  const align = t.columns.map((_, i) => (i === 0 ? "---" : "---:"));
  return [`| ${t.columns.join(" | ")} |`, `|${align.join("|")}|`, ...t.rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

/** The table as a danfojs DataFrame (danfojs loads tfjs, ≈1.5 s: required on first use only). */
export function tableDataFrame(t: StudyTable): StudyDataFrame {
  return new (danfo().DataFrame)(t.rows, { columns: t.columns });
}
