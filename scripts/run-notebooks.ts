#!/usr/bin/env node
// Execute notebooks headlessly through the project's tslab kernel, export them to HTML, and check
// in headless Chromium that every plotly figure in the HTML renders (an SVG with its data traces).
//
//   npm run notebooks -- [--quick|--full] [--out DIR] [--timeout S] [--no-browser] [notebooks...]
//   (= node --import tsx scripts/run-notebooks.ts ...)
//
// Default: every notebooks/*.ipynb, profile from $XANES_PROFILE (default full), output to
// results/notebooks/<name>.ipynb + .html. Exit code 1 when any notebook or figure fails.
// Also imported by test/notebooks.test.ts (one test per notebook).
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { findChromium, launchChromium } from "../lib/plots/export";

export const ROOT = path.resolve(__dirname, "..");
export const JUPYTER_PATH = path.join(ROOT, ".jupyter", "share", "jupyter");
const KERNEL_JSON = path.join(JUPYTER_PATH, "kernels", "tslab", "kernel.json");
const DRIVER = path.join(ROOT, "scripts", "run-notebooks.py");
// Debian's python: pyenv/conda pythons earlier on PATH do not have the apt-installed jupyter.
export const PYTHON = process.env.XANES_JUPYTER_PYTHON ?? "/usr/bin/python3";

const APT_HINT =
  "apt-get install -y --no-install-recommends jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-core";

export interface NotebookError {
  cell: number | null;
  ename: string;
  evalue: string;
  source: string;
}
export interface NotebookResult {
  notebook: string;
  ok: boolean;
  seconds: number;
  executed: string;
  html: string;
  error: NotebookError | null;
}
export interface FigureCheck {
  id: string;
  title: string;
  plotted: boolean;
  svgs: number;
  visibleTraces: number;
  renderedTraces: number;
  text: string;
}

/** The notebooks of the project, sorted by name. */
export function listNotebooks(): string[] {
  const dir = path.join(ROOT, "notebooks");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb"))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * What is missing to execute notebooks: [] when everything is there, else one message per missing
 * piece saying how to get it.
 */
export function notebookToolsMissing(): string[] {
  const missing: string[] = [];
  if (!fs.existsSync(PYTHON)) {
    missing.push(`${PYTHON} not found. Debian: ${APT_HINT} (or set XANES_JUPYTER_PYTHON to a python with nbclient + nbconvert)`);
  } else {
    const r = spawnSync(PYTHON, ["-c", "import nbclient, nbconvert, nbformat, jupyter_client, ipykernel"], { encoding: "utf8" });
    if (r.status !== 0) missing.push(`${PYTHON} cannot import nbclient/nbconvert/ipykernel: ${APT_HINT}\n${(r.stderr || "").trim().split("\n").pop()}`);
  }
  if (!fs.existsSync(KERNEL_JSON)) missing.push(`tslab kernelspec not installed in the project (${KERNEL_JSON}): run \`npm run kernel:install\``);
  return missing;
}

/** True under CI (CI=true/1): missing tools are failures there, not skips. */
export function inCI(): boolean {
  const ci = (process.env.CI ?? "").toLowerCase();
  return ci !== "" && ci !== "false" && ci !== "0";
}

/**
 * Decide what a test does when tools are missing: undefined = run; a string = skip with this
 * message (developer machine, printed visibly); throws in CI so a missing package fails the run.
 */
export function toolsGate(what: string, missing: string[]): string | undefined {
  if (missing.length === 0) return undefined;
  const msg = `${what}: missing\n- ${missing.join("\n- ")}`;
  if (inCI()) throw new Error(`${msg}\n(CI=true: missing tools fail the run; .ci/run installs them)`);
  console.log(`\n*** SKIPPED: ${msg}\n`);
  return msg;
}

/** [] when Chromium is found, else how to get it. */
export function chromiumMissing(): string[] {
  return findChromium() ? [] : ["Chromium: apt-get install -y --no-install-recommends chromium (or set CHROMIUM_PATH)"];
}

/**
 * Execute notebooks with the Python driver. Resolves to one result per notebook:
 * { notebook, ok, seconds, executed, html, error: {cell, ename, evalue, source} | null }.
 */
export function executeNotebooks(
  notebooks: string[],
  { outDir, profile, timeout = 1800, env = {} }: { outDir?: string; profile?: "quick" | "full"; timeout?: number; env?: Record<string, string> } = {},
): Promise<NotebookResult[]> {
  const out = outDir ?? path.join(ROOT, "results", "notebooks");
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [DRIVER, "--out", out, "--timeout", String(timeout), ...notebooks], {
      cwd: ROOT,
      env: {
        ...process.env,
        JUPYTER_PATH,
        ...(profile ? { XANES_PROFILE: profile } : {}),
        PYDEVD_DISABLE_FILE_VALIDATION: "1",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const results = stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as NotebookResult);
      if (results.length !== notebooks.length) {
        reject(new Error(`notebook driver exited with ${code} after ${results.length}/${notebooks.length} notebooks:\n${stderr.slice(-4000)}`));
      } else resolve(results);
    });
  });
}

/** One-paragraph description of a failed notebook result, naming the cell and the error. */
export function describeFailure(r: NotebookResult): string {
  const e: Partial<NotebookError> = r.error ?? {};
  const cell = e.cell == null ? "" : ` in cell ${e.cell} (0-based, markdown cells counted)`;
  const src = e.source ? `\n  cell source:\n    ${e.source.split("\n").slice(0, 12).join("\n    ")}` : "";
  return `${path.basename(r.notebook)} failed${cell}: ${e.ename}: ${e.evalue}${src}\n  executed notebook: ${r.executed}`;
}

/**
 * Open an exported notebook HTML in headless Chromium (network blocked: the page must render
 * offline) and check every figure drawn by showFigure(): the div became a plotly plot with an SVG
 * and at least one rendered trace element per visible data trace.
 * Returns { figures, problems: string[] }.
 */
export async function checkHtmlFigures(
  browser: Browser,
  htmlFile: string,
  { timeoutMs = 30000 }: { timeoutMs?: number } = {},
): Promise<{ figures: FigureCheck[]; problems: string[] }> {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  try {
    await page.route((url) => url.protocol !== "file:" && url.protocol !== "data:", (route) => route.abort());
    await page.goto(`file://${path.resolve(htmlFile)}`, { waitUntil: "load" });
    const settled = await page
      .waitForFunction(
        () =>
          Array.from(document.querySelectorAll("div.xanes-figure")).every(
            (el) => el.classList.contains("js-plotly-plot") || (el.textContent ?? "").length > 0,
          ),
        null,
        { timeout: timeoutMs },
      )
      .then(() => true)
      .catch(() => false);
    // Let plotly finish its async draw steps.
    await page.waitForTimeout(200);
    const figures: FigureCheck[] = await page.evaluate(() =>
      Array.from(document.querySelectorAll("div.xanes-figure")).map((el) => {
        const plot = el as HTMLElement & { _fullData?: { visible: unknown }[]; layout?: { title?: { text?: string } } };
        const full = plot._fullData ?? [];
        return {
          id: el.id,
          title: plot.layout?.title?.text ?? "",
          plotted: el.classList.contains("js-plotly-plot"),
          svgs: el.querySelectorAll("svg.main-svg").length,
          visibleTraces: full.filter((t) => t.visible === true).length,
          renderedTraces: el.querySelectorAll(".trace, .hm").length,
          text: el.classList.contains("js-plotly-plot") ? "" : (el.textContent ?? "").slice(0, 200),
        };
      }),
    );
    const problems: string[] = [];
    if (!settled) problems.push(`figures still not drawn after ${timeoutMs} ms`);
    figures.forEach((f, i) => {
      const name = `figure ${i + 1}${f.title ? ` "${f.title}"` : ""}`;
      if (!f.plotted) problems.push(`${name} not drawn${f.text ? `: ${f.text}` : ""}`);
      else if (f.svgs === 0) problems.push(`${name} has no SVG`);
      else if (f.visibleTraces === 0) problems.push(`${name} has no visible data traces`);
      else if (f.renderedTraces < f.visibleTraces) problems.push(`${name}: ${f.renderedTraces} of ${f.visibleTraces} traces rendered`);
    });
    if (problems.length && pageErrors.length) problems.push(`page errors: ${pageErrors.slice(0, 3).join(" | ")}`);
    return { figures, problems };
  } finally {
    await page.close();
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  let outDir: string | undefined;
  let timeout = 1800;
  let browserCheck = true;
  let profile: "quick" | "full" | undefined;
  const notebooks: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--out") outDir = path.resolve(args[++i]);
    else if (a === "--timeout") timeout = Number(args[++i]);
    else if (a === "--quick") profile = "quick";
    else if (a === "--full") profile = "full";
    else if (a === "--no-browser") browserCheck = false;
    else if (a === "-h" || a === "--help") {
      console.log("usage: npm run notebooks -- [--quick|--full] [--out DIR] [--timeout S] [--no-browser] [notebooks...]");
      return 0;
    } else notebooks.push(path.resolve(a));
  }
  const list = notebooks.length ? notebooks : listNotebooks();
  const missing = notebookToolsMissing();
  if (missing.length) {
    console.error(`Cannot execute notebooks:\n- ${missing.join("\n- ")}`);
    return 2;
  }
  console.log(`Executing ${list.length} notebook(s), profile ${profile ?? process.env.XANES_PROFILE ?? "full"} ...`);
  let failed = 0;
  const results: NotebookResult[] = [];
  for (const nb of list) {
    const [r] = await executeNotebooks([nb], { outDir, profile, timeout });
    results.push(r);
    if (r.ok) console.log(`PASS ${path.basename(nb)} (${r.seconds.toFixed(1)} s) -> ${path.relative(ROOT, r.html)}`);
    else {
      failed++;
      console.log(`FAIL ${describeFailure(r)}`);
    }
  }
  if (browserCheck) {
    const browser = await launchChromium();
    try {
      for (const r of results) {
        const { figures, problems } = await checkHtmlFigures(browser, r.html);
        if (problems.length) {
          failed++;
          console.log(`FAIL figures in ${path.basename(r.html)}:\n  ${problems.join("\n  ")}`);
        } else console.log(`PASS ${figures.length} figure(s) render in ${path.basename(r.html)}`);
      }
    } finally {
      await browser.close();
    }
  }
  return failed ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
