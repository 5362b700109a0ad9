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
import * as crypto from "node:crypto";
import * as net from "node:net";
import type { Browser, Page } from "playwright-core";
import { findChromium, launchChromium } from "../lib/plots/export";

export const ROOT = path.resolve(__dirname, "..");
export const JUPYTER_PATH = path.join(ROOT, ".jupyter", "share", "jupyter");
const KERNEL_JSON = path.join(JUPYTER_PATH, "kernels", "tslab", "kernel.json");
const DRIVER = path.join(ROOT, "scripts", "run-notebooks.py");
// Debian's python: pyenv/conda pythons earlier on PATH do not have the apt-installed jupyter.
export const PYTHON = process.env.XANES_JUPYTER_PYTHON ?? "/usr/bin/python3";

const APT_HINT =
  "apt-get install -y --no-install-recommends jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-core jupyter-notebook";

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

/** Number of showFigure() outputs (figure divs) in an executed notebook. */
export function countNotebookFigures(executedIpynb: string): number {
  const nb = JSON.parse(fs.readFileSync(executedIpynb, "utf8")) as { cells: { outputs?: { data?: Record<string, string | string[]> }[] }[] };
  let n = 0;
  for (const cell of nb.cells) {
    for (const out of cell.outputs ?? []) {
      const html = out.data?.["text/html"];
      const text = Array.isArray(html) ? html.join("") : html ?? "";
      n += (text.match(/class="xanes-figure"/g) ?? []).length;
    }
  }
  return n;
}

/**
 * Wait until the page shows `expected` figure divs (if given) and each is drawn or gave up, then
 * check every figure drawn by showFigure(): the div became a plotly plot with an SVG and at least one
 * rendered trace element per visible data trace.
 */
export async function checkPageFigures(
  page: Page,
  { timeoutMs = 30000, expected }: { timeoutMs?: number; expected?: number } = {},
): Promise<{ figures: FigureCheck[]; problems: string[] }> {
  const settled = await page
    .waitForFunction(
      (expected) => {
        const divs = Array.from(document.querySelectorAll("div.xanes-figure"));
        if (expected !== null && divs.length < expected) return false;
        return divs.every((el) => el.classList.contains("js-plotly-plot") || (el.textContent ?? "").length > 0);
      },
      expected ?? null,
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
  if (expected !== undefined && figures.length !== expected) problems.push(`${figures.length} figure(s) on the page, ${expected} in the notebook`);
  figures.forEach((f, i) => {
    const name = `figure ${i + 1}${f.title ? ` "${f.title}"` : ""}`;
    if (!f.plotted) problems.push(`${name} not drawn${f.text ? `: ${f.text}` : ""}`);
    else if (f.svgs === 0) problems.push(`${name} has no SVG`);
    else if (f.visibleTraces === 0) problems.push(`${name} has no visible data traces`);
    else if (f.renderedTraces < f.visibleTraces) problems.push(`${name}: ${f.renderedTraces} of ${f.visibleTraces} traces rendered`);
  });
  return { figures, problems };
}

/**
 * Open an exported notebook HTML in headless Chromium with the network blocked (the page must
 * render offline) and check its figures (checkPageFigures).
 */
export async function checkHtmlFigures(
  browser: Browser,
  htmlFile: string,
  opts: { timeoutMs?: number; expected?: number } = {},
): Promise<{ figures: FigureCheck[]; problems: string[] }> {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  try {
    await page.route((url) => url.protocol !== "file:" && url.protocol !== "data:", (route) => route.abort());
    await page.goto(`file://${path.resolve(htmlFile)}`, { waitUntil: "load" });
    const res = await checkPageFigures(page, opts);
    if (res.problems.length && pageErrors.length) res.problems.push(`page errors: ${pageErrors.slice(0, 3).join(" | ")}`);
    return res;
  } finally {
    await page.close();
  }
}

/** [] when the classic Jupyter Notebook server (Debian jupyter-notebook) can run, else how to get it. */
export function notebookServerMissing(): string[] {
  if (!fs.existsSync(PYTHON)) return [`${PYTHON}: apt-get install -y --no-install-recommends jupyter-notebook`];
  const r = spawnSync(PYTHON, ["-c", "import notebook.notebookapp"], { encoding: "utf8" });
  return r.status === 0 ? [] : ["the Jupyter Notebook server: apt-get install -y --no-install-recommends jupyter-notebook"];
}

export interface NotebookServer {
  /** URL that opens `file` (inside the served folder) in the notebook web app. */
  url(file: string): string;
  /** Shut down every kernel the app started (opening a notebook starts one). */
  shutdownKernels(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start the classic Jupyter Notebook web app (Debian jupyter-notebook 6, which loads require.js) on
 * 127.0.0.1 serving `dir`, with the project's kernelspec. Resolves once it answers HTTP.
 */
export async function startNotebookServer(dir: string, { timeoutMs = 60000 }: { timeoutMs?: number } = {}): Promise<NotebookServer> {
  const port = await new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
    srv.on("error", reject);
  });
  const token = crypto.randomBytes(12).toString("hex");
  const child = spawn(
    PYTHON,
    ["-m", "notebook", "--no-browser", "--allow-root", "--ip=127.0.0.1", `--port=${port}`, `--NotebookApp.token=${token}`, `--NotebookApp.notebook_dir=${dir}`],
    { cwd: dir, env: { ...process.env, JUPYTER_PATH, PYDEVD_DISABLE_FILE_VALIDATION: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jupyter notebook server exited (${child.exitCode}):\n${log.slice(-3000)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/status?token=${token}`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() - t0 > timeoutMs) {
      await stop();
      throw new Error(`jupyter notebook server did not answer within ${timeoutMs} ms:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url: (file) => `http://127.0.0.1:${port}/notebooks/${path.relative(dir, file).split(path.sep).map(encodeURIComponent).join("/")}?token=${token}`,
    async shutdownKernels() {
      const base = `http://127.0.0.1:${port}/api/kernels`;
      const kernels = (await (await fetch(`${base}?token=${token}`)).json()) as { id: string }[];
      for (const k of kernels) await fetch(`${base}/${k.id}?token=${token}`, { method: "DELETE" });
    },
    stop,
  };
}

/**
 * Open an executed notebook in the running notebook web app, as a researcher would, and check its
 * figures. Only 127.0.0.1 is reachable. The app starts a kernel for the notebook; it is shut down
 * when the page closes.
 */
export async function checkServerFigures(
  browser: Browser,
  server: NotebookServer,
  executedIpynb: string,
  { timeoutMs = 90000 }: { timeoutMs?: number } = {},
): Promise<{ figures: FigureCheck[]; problems: string[] }> {
  const page = await browser.newPage();
  try {
    await page.route((url) => url.hostname !== "127.0.0.1", (route) => route.abort());
    await page.goto(server.url(executedIpynb), { waitUntil: "load" });
    const res = await checkPageFigures(page, { timeoutMs, expected: countNotebookFigures(executedIpynb) });
    const untrusted = await page.evaluate(() => document.body.innerText.includes("Not Trusted"));
    if (untrusted) res.problems.push("the notebook app shows it as Not Trusted (signature missing), so it does not run figure scripts");
    return res;
  } finally {
    await page.close();
    await server.shutdownKernels().catch(() => undefined);
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
        const { figures, problems } = await checkHtmlFigures(browser, r.html, { expected: countNotebookFigures(r.executed) });
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
