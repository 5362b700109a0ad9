import * as fs from "node:fs";
import * as path from "node:path";
import { workDir } from "../config";
import { writeFileAtomic } from "../util/fs";

/**
 * A plotly.js figure as plain data: the same object goes to `showFigure` (notebook),
 * `openFigureExporter().png` (PNG) and `writeFigureHtml` (standalone HTML).
 * Traces and layout are kept loose on purpose: any plotly.js attribute is allowed.
 * Numeric arrays may be typed arrays; they are converted when serialised.
 * plotly.js 4 wants titles as objects: `title: { text: "..." }`.
 */
export interface FigureTrace {
  type?: string;
  name?: string;
  x?: ArrayLike<number> | ArrayLike<string>;
  y?: ArrayLike<number> | ArrayLike<string>;
  z?: ArrayLike<ArrayLike<number>> | ArrayLike<number>;
  mode?: string;
  [attr: string]: unknown;
}
export interface FigureLayout {
  title?: { text: string; [attr: string]: unknown };
  width?: number;
  height?: number;
  [attr: string]: unknown;
}
export interface Figure {
  data: FigureTrace[];
  layout?: FigureLayout;
  config?: Record<string, unknown>;
}

/** Default pixel size used when a figure's layout does not set one (PNG export and notebook height). */
export const FIGURE_DEFAULT_WIDTH = 720;
export const FIGURE_DEFAULT_HEIGHT = 420;

/**
 * JSON.stringify replacer for numeric results: typed arrays become plain arrays (JSON.stringify
 * would turn them into {"0":..} objects), NaN/±Infinity become null, Maps become objects.
 */
export function jsonSafeReplacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number>, (v) => (Number.isFinite(v) ? v : null));
  }
  if (value instanceof Map) return Object.fromEntries(value);
  if (typeof value === "number" && !Number.isFinite(value)) return null;
  return value;
}

/**
 * JSON for embedding a figure in HTML/JS (jsonSafeReplacer: non-finite numbers become null,
 * plotly's gap), with "<" escaped so a string like "</script>" in a title cannot end the
 * surrounding script tag.
 */
export function figureToJson(fig: Figure): string {
  if (!fig || !Array.isArray(fig.data)) throw new TypeError("figure must be an object with a data array of traces");
  const json = JSON.stringify({ data: fig.data, layout: fig.layout ?? {}, config: fig.config ?? {} }, jsonSafeReplacer);
  return json.replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** Title text of a figure, or "" (used in messages and file names). */
export function figureTitle(fig: Figure): string {
  const t = fig.layout?.title;
  return typeof t === "object" && t && typeof t.text === "string" ? t.text : "";
}

let cachedBundle: { version: string; source: string } | undefined;

/** Version of the plotly.js bundle the helpers embed. */
export function plotlyVersion(): string {
  return JSON.parse(fs.readFileSync(require.resolve("plotly.js-dist/package.json"), "utf8")).version as string;
}

/**
 * plotly.js browser bundle source, minified. plotly.js-dist ships only the 10 MB unminified build;
 * esbuild (already in the tree through tsx) minifies it to ~4.8 MB in ~1.5 s, cached in
 * <workDir>/cache so a notebook output or HTML file carries the small one. Falls back to the
 * unminified file when esbuild is not installed.
 */
export function plotlyBundle(): string {
  const version = plotlyVersion();
  if (cachedBundle?.version === version) return cachedBundle.source;
  const srcPath = require.resolve("plotly.js-dist/plotly.js");
  const cachePath = path.join(workDir(), "cache", `plotly-${version}.min.js`);
  let source: string | undefined;
  if (fs.existsSync(cachePath)) source = fs.readFileSync(cachePath, "utf8");
  if (!source) {
    const raw = fs.readFileSync(srcPath, "utf8");
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const esbuild = require("esbuild") as {
        transformSync(src: string, opts: Record<string, unknown>): { code: string };
      };
      source = esbuild.transformSync(raw, { minify: true, legalComments: "none", target: "es2020" }).code;
      const header = `/* plotly.js v${version} (MIT licence, Plotly, Inc.), minified */\n`;
      source = header + source;
      try {
        fs.mkdirSync(path.dirname(cachePath), { recursive: true });
        writeFileAtomic(cachePath, source); // parallel kernels never read half a file
      } catch {
        /* read-only work dir: keep it in memory only */
      }
    } catch {
      source = raw;
    }
  }
  cachedBundle = { version, source };
  return source;
}

/**
 * The bundle as an inline <script>. It is wrapped so `module`/`exports`/`define` are hidden: the
 * bundle then always sets window.Plotly, also on pages with require.js (classic notebook, nbconvert
 * HTML templates) or a CommonJS shim.
 */
export function plotlyScriptTag(): string {
  const src = plotlyBundle().replace(/<\/script/gi, "<\\/script");
  return `<script type="text/javascript">if (!window.Plotly) { (function (module, exports, define) {\n${src}\n}).call(window); }</script>`;
}

let figureCounter = 0;

/**
 * A div plus the script that draws the figure into it. The script waits (up to ~20 s) for the div
 * to be attached and for window.Plotly: JupyterLab may run output scripts before it attaches the
 * output node, and the bundle may come from an earlier output.
 */
export function figureDivHtml(fig: Figure, opts: { id?: string; height?: number } = {}): string {
  const id = opts.id ?? `xanes-fig-${process.pid.toString(36)}-${Date.now().toString(36)}-${(figureCounter++).toString(36)}`;
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new Error(`figure id must be a plain HTML id, got "${id}"`);
  const height = opts.height ?? fig.layout?.height ?? FIGURE_DEFAULT_HEIGHT;
  const width = fig.layout?.width;
  const style = `width:${width ? `${width}px` : "100%"};height:${height}px;`;
  const json = figureToJson(fig);
  return (
    `<div id="${id}" class="xanes-figure" style="${style}"></div>\n` +
    `<script type="text/javascript">(function () {\n` +
    `  var fig = ${json};\n` +
    `  var tries = 0;\n` +
    `  function draw() {\n` +
    `    var el = document.getElementById("${id}");\n` +
    `    if (!el || !window.Plotly) {\n` +
    `      if (++tries < 400) { setTimeout(draw, 50); return; }\n` +
    `      if (el) el.textContent = "plotly.js did not load: re-run the notebook from the top (the bundle is sent with the first figure).";\n` +
    `      return;\n` +
    `    }\n` +
    `    fig.config = Object.assign({ responsive: true, displaylogo: false }, fig.config);\n` +
    `    window.Plotly.newPlot(el, fig.data, fig.layout, fig.config);\n` +
    `  }\n` +
    `  draw();\n` +
    `})();</script>`
  );
}

/** A standalone HTML page (bundle inlined, works offline) showing one or more figures. */
export function figurePageHtml(figs: Figure | Figure[], title?: string): string {
  const list = Array.isArray(figs) ? figs : [figs];
  const heading = title ?? (list.length === 1 ? figureTitle(list[0]) : "");
  const esc = heading.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return (
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${esc}</title></head>\n<body>\n` +
    `${plotlyScriptTag()}\n` +
    list.map((f, i) => figureDivHtml(f, { id: `figure-${i}` })).join("\n") +
    `\n</body></html>\n`
  );
}

/** Write a standalone interactive HTML file for a figure (the bundle is inlined: ~5 MB per file). */
export function writeFigureHtml(fig: Figure | Figure[], file: string, title?: string): string {
  const out = path.resolve(file);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, figurePageHtml(fig, title));
  return out;
}
