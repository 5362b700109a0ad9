import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { Figure, FIGURE_DEFAULT_HEIGHT, FIGURE_DEFAULT_WIDTH, figureToJson, plotlyScriptTag } from "./figure";

const CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

/**
 * Path of a Chromium/Chrome binary: $CHROMIUM_PATH, else the usual Debian/Ubuntu locations.
 * Returns undefined when none exists (callers decide whether that is an error).
 */
export function findChromium(): string | undefined {
  const env = process.env.CHROMIUM_PATH;
  if (env) return fs.existsSync(env) ? env : undefined;
  return CHROMIUM_CANDIDATES.find((p) => fs.existsSync(p));
}

/** Flags for a quiet, offline, throw-away headless Chromium (as root in CI: no sandbox). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Launch headless Chromium through playwright-core (a fresh profile per launch). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error(
      `No Chromium found (looked at $CHROMIUM_PATH and ${CHROMIUM_CANDIDATES.join(", ")}). ` +
        `Install it: apt-get install chromium (Debian) or set CHROMIUM_PATH.`,
    );
  }
  let chromium: typeof import("playwright-core").chromium;
  try {
    chromium = (require("playwright-core") as typeof import("playwright-core")).chromium;
  } catch {
    throw new Error("playwright-core is not installed: run `npm ci` (it is a devDependency).");
  }
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

export interface FigureExporter {
  /** Render `fig` to a PNG file (size from layout.width/height, else 720x420; scale 2 by default). */
  png(fig: Figure, file: string, opts?: { width?: number; height?: number; scale?: number }): Promise<string>;
  /** Render `fig` to an SVG file (vector, for papers). */
  svg(fig: Figure, file: string, opts?: { width?: number; height?: number }): Promise<string>;
  close(): Promise<void>;
}

/**
 * One headless Chromium page with plotly.js loaded, reused for every figure: the reproduce command
 * writes dozens of PNGs and starting a browser costs ~1 s, drawing a figure tens of ms.
 *
 *   const exporter = await openFigureExporter();
 *   await exporter.png(fig, "results/figures/parity.png");
 *   await exporter.close();
 */
export async function openFigureExporter(): Promise<FigureExporter> {
  const browser = await launchChromium();
  let page: Page;
  try {
    page = await browser.newPage();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xanes-plotly-"));
    const pageFile = path.join(dir, "exporter.html");
    fs.writeFileSync(pageFile, `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>${plotlyScriptTag()}<div id="fig"></div></body></html>`);
    // Offline by construction: nothing but the page file and its inline bundle may load.
    await page.route((url) => url.protocol !== "file:" && url.protocol !== "data:", (route) => route.abort());
    await page.goto(`file://${pageFile}`);
    fs.rmSync(dir, { recursive: true, force: true });
    const ok = await page.evaluate(() => typeof (window as unknown as { Plotly?: unknown }).Plotly === "object");
    if (!ok) throw new Error("plotly.js did not load in headless Chromium");
  } catch (e) {
    await browser.close();
    throw e;
  }

  async function render(fig: Figure, format: "png" | "svg", width: number, height: number, scale: number): Promise<string> {
    const json = figureToJson(fig);
    return page.evaluate(
      async ({ json, format, width, height, scale }) => {
        const P = (window as unknown as { Plotly: any }).Plotly;
        const el = document.getElementById("fig")!;
        const f = JSON.parse(json);
        P.purge(el);
        await P.newPlot(el, f.data, { ...f.layout, width, height }, { ...f.config, staticPlot: true });
        return P.toImage(el, { format, width, height, scale }) as Promise<string>;
      },
      { json, format, width, height, scale },
    );
  }

  function writeOut(file: string, data: Buffer): string {
    const out = path.resolve(file);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, data);
    return out;
  }

  return {
    async png(fig, file, opts = {}) {
      const width = opts.width ?? fig.layout?.width ?? FIGURE_DEFAULT_WIDTH;
      const height = opts.height ?? fig.layout?.height ?? FIGURE_DEFAULT_HEIGHT;
      const url = await render(fig, "png", width, height, opts.scale ?? 2);
      const b64 = url.slice(url.indexOf(",") + 1);
      return writeOut(file, Buffer.from(b64, "base64"));
    },
    async svg(fig, file, opts = {}) {
      const width = opts.width ?? fig.layout?.width ?? FIGURE_DEFAULT_WIDTH;
      const height = opts.height ?? fig.layout?.height ?? FIGURE_DEFAULT_HEIGHT;
      const url = await render(fig, "svg", width, height, 1);
      const comma = url.indexOf(",");
      const head = url.slice(0, comma);
      const body = url.slice(comma + 1);
      const text = head.endsWith(";base64") ? Buffer.from(body, "base64") : Buffer.from(decodeURIComponent(body), "utf8");
      return writeOut(file, text);
    },
    async close() {
      await browser.close();
    },
  };
}
