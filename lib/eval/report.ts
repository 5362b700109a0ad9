/**
 * Writing results: metrics JSON (typed arrays → arrays, non-finite → null) and figures as PNG plus
 * one interactive HTML page (plotly.js inlined once for all figures, instead of ~5 MB per figure).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Figure } from "../plots/figure";
import { jsonSafeReplacer, writeFigureHtml } from "../plots/figure";
import { openFigureExporter } from "../plots/export";

/** JSON text of `value` with typed arrays as plain arrays and NaN/±Infinity as null. */
export function toJsonText(value: unknown, indent = 1): string {
  return JSON.stringify(value, jsonSafeReplacer, indent);
}

export function writeJsonFile(file: string, value: unknown): string {
  const out = path.resolve(file);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, toJsonText(value) + "\n");
  return out;
}

export interface NamedFigure {
  /** File stem, e.g. "ablation-mse". */
  name: string;
  fig: Figure;
}

/**
 * Writes `<dir>/<name>.png` for every figure (one headless Chromium reused) and `<dir>/<htmlName>`
 * with all figures, interactive. Returns the written paths.
 */
export async function exportFigures(figs: readonly NamedFigure[], dir: string, htmlName = "figures.html", title = "XANES results"): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const exporter = await openFigureExporter();
  try {
    for (const f of figs) written.push(await exporter.png(f.fig, path.join(dir, `${f.name}.png`)));
  } finally {
    await exporter.close();
  }
  written.push(writeFigureHtml(figs.map((f) => f.fig), path.join(dir, htmlName), title));
  return written;
}
