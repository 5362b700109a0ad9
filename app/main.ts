/**
 * The XANES page: loads a saved predictor (bundled by `npm run app:build`, or picked by the user),
 * predicts every absorbing-site class of dropped structures and plots them. Everything runs in the
 * page; nothing is sent anywhere.
 */
import * as tf from "@tensorflow/tfjs";
// plotly.js-dist is a UMD bundle: its CommonJS export is the Plotly object.
import Plotly from "plotly.js-dist";
import moyoWasm from "@spglib/moyo-wasm/moyo_wasm_bg.wasm";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
// tfjs-backend-wasm fetches its .wasm at start-up, which file:// pages cannot: the bytes are bundled
// and handed over as blob: URLs (the threaded build needs cross-origin isolation, never the case here).
import tfWasm from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm";
import tfWasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm";
import { initMoyo } from "../lib/geometry/symmetry";
import { parseStructureText } from "../lib/structure/read";
import { loadEnsembleFromFiles, type FolderFile } from "../lib/model/browser";
import type { XanesPredictor } from "../lib/model/predictor";
import { errorMessage } from "../lib/util/errors";
import { candidatesFromTexts } from "../lib/screening/sources";
import { parseTargetText } from "../lib/screening/target";
import { prepareTarget } from "../lib/screening/shift";
import { screenCandidates, type ScreeningResult } from "../lib/screening/rank";
import { ensemblePredictor } from "../lib/screening/predictor";
import { rankingRecords, RANKING_COLUMNS } from "../lib/screening/table";
import { screeningOverlayFigure } from "../lib/screening/plot";
import { energyMeshOf } from "../lib/model/spectral";
import { recordsToCsv } from "../lib/util/csv";
import type { ScreeningMetric } from "../lib/screening/types";
import { className, predictionCsv, predictStructure, type StructurePrediction } from "./predict";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = (tag: string, attrs: Record<string, string> = {}, text = "") => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
};

const state = {
  ready: Promise.resolve() as Promise<void>,
  backend: "",
  modelName: "",
  members: [] as XanesPredictor[],
  results: {} as Record<string, StructurePrediction>,
  errors: {} as Record<string, string>,
  predictFiles,
  screen,
  screening: undefined as Window["xanes"]["screening"],
  screenError: undefined as string | undefined,
};
window.xanes = state;

function setModel(name: string, members: XanesPredictor[]): void {
  state.members.forEach((p) => p.dispose());
  state.members = members;
  state.modelName = name;
  const s = members[0].spectral;
  const mesh = s.mesh;
  $("model-status").textContent =
    `${name}: ${members.length === 1 ? "one model" : `ensemble of ${members.length}`}, ${mesh.element} ${mesh.edge} edge, ${mesh.count} points ` +
    `${mesh.start}–${(mesh.start + (mesh.count - 1) * mesh.step).toFixed(1)} eV${mesh.kind === "edge-relative" ? " (relative to the edge)" : ""}, ${s.normalisation} normalisation; tfjs ${state.backend} backend`;
  $("model-error").textContent = "";
}

function showModelError(name: string, err: unknown): void {
  $("model-error").textContent = `${name}: ${errorMessage(err)}`;
}

async function loadModelFiles(name: string, files: FolderFile[]): Promise<void> {
  try {
    setModel(name, await loadEnsembleFromFiles(files));
  } catch (err) {
    showModelError(name, err);
  }
}

async function filesOf(list: FileList): Promise<FolderFile[]> {
  return Promise.all(
    Array.from(list, async (f) => ({ path: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
  );
}

const base64Bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

function download(name: string, blob: Blob): void {
  const a = el("a", { href: URL.createObjectURL(blob), download: name }) as HTMLAnchorElement;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function figureOf(p: StructurePrediction, title: string): { data: object[]; layout: object } {
  const x = Array.from(p.energy);
  const spread = state.members.length > 1;
  const colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const data: object[] = [];
  const curve = (name: string, b: StructurePrediction["average"], colour: string, width: number) => {
    if (spread) {
      data.push({ type: "scatter", mode: "lines", x, y: Array.from(b.mean, (v, j) => v + b.std[j]), line: { width: 0, color: colour }, showlegend: false, hoverinfo: "skip" });
      data.push({ type: "scatter", mode: "lines", x, y: Array.from(b.mean, (v, j) => v - b.std[j]), line: { width: 0, color: colour }, fill: "tonexty", fillcolor: colour + "33", name: `${name} ±1σ`, hoverinfo: "skip" });
    }
    data.push({ type: "scatter", mode: "lines", x, y: Array.from(b.mean), name, line: { color: colour, width } });
  };
  p.classes.forEach((c, i) => curve(className(p, c), c.band, colours[(i + 1) % colours.length], 1.5));
  if (p.classes.length > 1) curve("weighted average", p.average, "#000000", 2.5);
  const mesh = state.members[0].spectral.mesh;
  return {
    data,
    layout: {
      title: { text: title },
      xaxis: { title: { text: mesh.kind === "edge-relative" ? "E − E0 (eV)" : "energy (eV)" } },
      yaxis: { title: { text: `μ (${state.members[0].spectral.normalisation})` } },
      margin: { t: 50, r: 20, b: 50, l: 60 },
      legend: { orientation: "h", y: -0.2 },
    },
  };
}

function renderResult(card: HTMLElement, name: string, p: StructurePrediction): void {
  const table = el("table", { class: "classes" });
  table.appendChild(el("tr")).append(el("th", {}, "class"), el("th", {}, "sites"), el("th", {}, "multiplicity"), el("th", {}, "space group, Wyckoff"));
  p.classes.forEach((c, i) => {
    table.appendChild(el("tr")).append(
      el("td", {}, String(i + 1)),
      el("td", {}, c.sites.map((s) => s + 1).join(", ")),
      el("td", {}, String(c.multiplicity)),
      el("td", {}, c.label || "(cluster)"),
    );
  });
  card.appendChild(el("p", { class: "summary" }, `${p.formula}: ${p.classes.reduce((s, c) => s + c.multiplicity, 0)} ${p.element} sites in ${p.classes.length} symmetry class${p.classes.length === 1 ? "" : "es"}` +
    ` (featurised in ${p.timing.featurizeMs.toFixed(0)} ms, predicted in ${p.timing.predictMs.toFixed(0)} ms)`));
  card.appendChild(table);
  for (const s of p.skipped) card.appendChild(el("p", { class: "error" }, `sites ${s.sites.map((x) => x + 1).join(", ")} not predicted: ${s.reason}`));
  if (p.classes.length === 0) return;
  const plot = el("div", { class: "plot" });
  card.appendChild(plot);
  const fig = figureOf(p, `${p.formula} (${name})`);
  void Plotly.newPlot(plot, fig.data, fig.layout, { responsive: true, displaylogo: false });
  const stem = name.replace(/\.[^.]*$/, "");
  const buttons = el("div", { class: "buttons" });
  const csv = el("button", { class: "csv" }, "Export CSV");
  csv.onclick = () => download(`${stem}-xanes.csv`, new Blob([predictionCsv(p)], { type: "text/csv" }));
  const png = el("button", { class: "png" }, "Export PNG");
  png.onclick = async () => {
    const url: string = await Plotly.toImage(plot, { format: "png", width: 900, height: 500, scale: 2 });
    download(`${stem}-xanes.png`, await (await fetch(url)).blob());
  };
  buttons.append(csv, png);
  card.appendChild(buttons);
}

async function predictFiles(files: { name: string; text: string }[]): Promise<void> {
  const out = $("results");
  for (const f of files) {
    const card = el("section", { class: "card", "data-file": f.name });
    card.appendChild(el("h3", {}, f.name));
    out.prepend(card);
    delete state.results[f.name];
    delete state.errors[f.name];
    try {
      if (state.members.length === 0) throw new Error("no model loaded: pick a model folder first");
      const structure = parseStructureText(f.text, f.name);
      const p = predictStructure(structure, state.members);
      state.results[f.name] = p;
      renderResult(card, f.name, p);
    } catch (err) {
      // The lib's message (InputError names the file, line or site) next to the file name; other cards are untouched.
      state.errors[f.name] = errorMessage(err);
      card.classList.add("failed");
      card.appendChild(el("p", { class: "error" }, errorMessage(err)));
    }
  }
}

const fmt = (v: number, d = 4) => (Number.isFinite(v) ? v.toFixed(d) : "–");

/**
 * Screening as `npm run screen` does it (same lib calls, defaults: the model's element and
 * normalisation, ±5 eV shift window, material target): a two-column target and candidate files.
 */
async function screen(targetFile: { name: string; text: string }, candidateFiles: { name: string; text: string }[], metric = "cosine"): Promise<void> {
  const out = $("screen-out");
  out.replaceChildren();
  state.screening = undefined;
  state.screenError = undefined;
  try {
    if (state.members.length === 0) throw new Error("no model loaded: pick a model folder first");
    const t0 = performance.now();
    const members = state.members;
    const target = parseTargetText(targetFile.text, targetFile.name, { kind: "material" });
    const prepared = prepareTarget(target, energyMeshOf(members[0].spectral.mesh), { normalisation: members[0].spectral.normalisation, window: 5 });
    const load = candidatesFromTexts(candidateFiles.map((f) => ({ file: f.name, text: f.text })));
    if (load.candidates.length === 0 && load.skipped.length === 0) throw new Error("no candidate structures picked");
    const res = await screenCandidates(prepared, load.candidates, ensemblePredictor(members), { element: members[0].spectral.mesh.element, metric: metric as ScreeningMetric });
    const totalMs = performance.now() - t0;
    state.screening = {
      rows: res.rows.map((r) => ({ rank: r.rank, id: r.id, score: r.score, scoreStd: r.scoreStd, shift: r.shift, nSites: r.nSites })),
      skipped: res.skipped,
      skippedFiles: load.skipped,
      timing: { totalMs, predictMs: res.predictMs, scoreMs: res.scoreMs, sitesPredicted: res.sitesPredicted },
    };
    renderScreening(out, targetFile.name, res, load.skipped, totalMs);
  } catch (err) {
    state.screenError = errorMessage(err);
    out.appendChild(el("p", { class: "error" }, errorMessage(err)));
  }
}

function renderScreening(out: HTMLElement, targetName: string, res: ScreeningResult, skippedFiles: { file: string; reason: string }[], totalMs: number): void {
  const t = res.target;
  out.appendChild(el("p", { class: "summary" },
    `${targetName}: ${t.target.energy.length} points, ${(t.coverage * 100).toFixed(0)}% of the model mesh covered; ${res.rows.length} candidates ranked by ${res.metric}` +
    ` (${res.higherIsBetter ? "higher" : "lower"} is better), ${res.sitesPredicted} sites predicted in ${(totalMs / 1000).toFixed(2)} s`));
  const table = el("table", { class: "classes ranking" });
  const head = ["rank", "candidate", "score", "± spread", "shift (eV)", "sites", "rank range"];
  table.appendChild(el("tr")).append(...head.map((h) => el("th", {}, h)));
  for (const r of res.rows.slice(0, 50)) {
    table.appendChild(el("tr")).append(
      ...[String(r.rank), r.id, fmt(r.score), fmt(r.scoreStd), fmt(r.shift, 2) + (r.shiftAtEdge ? " (edge)" : ""), String(r.nSites), `${r.rankBest}–${r.rankWorst}`].map((v) => el("td", {}, v)),
    );
  }
  out.appendChild(table);
  if (res.rows.length > 50) out.appendChild(el("p", { class: "note" }, `first 50 of ${res.rows.length} shown; the CSV has all`));
  for (const s of skippedFiles) out.appendChild(el("p", { class: "error" }, `skipped file ${s.file}: ${s.reason}`));
  for (const s of res.skipped) out.appendChild(el("p", { class: "error" }, `skipped candidate ${s.id}: ${s.reason}`));
  const csv = el("button", { class: "csv" }, "Export table (CSV)");
  csv.onclick = () => download(`${targetName.replace(/\.[^.]*$/, "")}-ranking.csv`, new Blob([recordsToCsv(rankingRecords(res), RANKING_COLUMNS)], { type: "text/csv" }));
  out.appendChild(el("div", { class: "buttons" })).appendChild(csv);
  if (res.rows.length) {
    const plot = el("div", { class: "plot" });
    out.appendChild(plot);
    const fig = screeningOverlayFigure(res, { top: 5, title: `${targetName}: top candidates` });
    void Plotly.newPlot(plot, fig.data as object[], fig.layout as object, { responsive: true, displaylogo: false });
  }
}

async function readTexts(list: FileList | File[]): Promise<{ name: string; text: string }[]> {
  return Promise.all(Array.from(list, async (f) => ({ name: f.name, text: await f.text() })));
}

async function start(): Promise<void> {
  initMoyo(moyoWasm);
  const blob = (b: Uint8Array) => URL.createObjectURL(new Blob([b as BlobPart], { type: "application/wasm" }));
  setWasmPaths({ "tfjs-backend-wasm.wasm": blob(tfWasm), "tfjs-backend-wasm-simd.wasm": blob(tfWasmSimd), "tfjs-backend-wasm-threaded-simd.wasm": blob(tfWasmSimd) });
  const wanted = new URLSearchParams(location.search).get("backend") ?? "wasm";
  if (!(await tf.setBackend(wanted))) await tf.setBackend("cpu");
  await tf.ready();
  state.backend = tf.getBackend();
  const bundled = window.XANES_BUNDLED_MODEL;
  if (bundled) {
    await loadModelFiles(`bundled ${bundled.name}`, bundled.files.map((f) => ({ path: f.path, bytes: base64Bytes(f.base64) })));
  } else {
    $("model-status").textContent = `No model bundled: pick a model folder (results/model from npm run reproduce). tfjs ${state.backend} backend.`;
  }
}

function wire(): void {
  const modelDir = $("model-dir") as HTMLInputElement;
  const modelFiles = $("model-files") as HTMLInputElement;
  const pick = async (input: HTMLInputElement) => {
    if (!input.files?.length) return;
    const files = await filesOf(input.files);
    const first = files[0].path.split("/");
    await loadModelFiles(first.length > 1 ? first[0] : "picked files", files);
    input.value = "";
  };
  modelDir.onchange = () => void pick(modelDir);
  modelFiles.onchange = () => void pick(modelFiles);
  const structures = $("structure-files") as HTMLInputElement;
  structures.onchange = async () => {
    if (structures.files?.length) await predictFiles(await readTexts(structures.files));
    structures.value = "";
  };
  const run = $("screen-run") as HTMLButtonElement;
  run.onclick = async () => {
    const t = ($("target-file") as HTMLInputElement).files?.[0];
    const picked = [...Array.from(($("candidate-files") as HTMLInputElement).files ?? []), ...Array.from(($("candidate-dir") as HTMLInputElement).files ?? [])];
    if (!t) {
      $("screen-out").replaceChildren(el("p", { class: "error" }, "pick a target spectrum file"));
      return;
    }
    run.disabled = true;
    try {
      const cands = await Promise.all(picked.map(async (f) => ({ name: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name, text: await f.text() })));
      await screen({ name: t.name, text: await t.text() }, cands, ($("metric") as HTMLSelectElement).value);
    } finally {
      run.disabled = false;
    }
  };
  const drop = $("drop");
  drop.ondragover = (e) => {
    e.preventDefault();
    drop.classList.add("over");
  };
  drop.ondragleave = () => drop.classList.remove("over");
  drop.ondrop = async (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer?.files.length) await predictFiles(await readTexts(e.dataTransfer.files));
  };
}

wire();
state.ready = start().catch((err) => {
  $("model-error").textContent = `start-up failed: ${errorMessage(err)}`;
  throw err;
});
