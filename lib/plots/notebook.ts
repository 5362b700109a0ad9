import { Figure, figureDivHtml, figureTitle, plotlyScriptTag } from "./figure";

interface TslabDisplay {
  html(s: string): void;
}

/** True when running inside a tslab kernel (the kernel sets globalThis.__tslab__ before each cell). */
export function inNotebook(): boolean {
  return (globalThis as { __tslab__?: unknown }).__tslab__ !== undefined;
}

// Once per kernel process: the first figure output carries the plotly.js bundle, later ones only
// their div + data. Restarting the kernel resets this, so "run all" always re-sends it.
let bundleSent = false;

function tslabDisplay(): TslabDisplay {
  // Required lazily: the lib must load outside notebooks (tests, reproduce) without tslab.
  // Resolves to the same tslab module instance the kernel runs from (node_modules/tslab).
  return (require("tslab") as { display: TslabDisplay }).display;
}

/**
 * Show a plotly figure inline in a tslab notebook (JupyterLab, classic notebook, VS Code, and the
 * HTML export, all offline). Outside a notebook it prints one line naming the figure and does
 * nothing else; write files with `openFigureExporter().png(...)` or `writeFigureHtml(...)`.
 */
export function showFigure(fig: Figure, opts: { height?: number } = {}): void {
  if (!inNotebook()) {
    console.log(`[figure${figureTitle(fig) ? `: ${figureTitle(fig)}` : ""}] (not in a notebook; not shown)`);
    return;
  }
  const parts: string[] = [];
  if (!bundleSent) parts.push(plotlyScriptTag());
  parts.push(figureDivHtml(fig, opts));
  tslabDisplay().html(parts.join("\n"));
  bundleSent = true;
}
