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
import { parseMeasuredTarget, parseTargetText } from "../lib/screening/target";
import { athenaText, looksLikeAthena, parseAthena } from "../lib/spectra/athena";
import { screenMeasured, type MeasuredScreeningResult } from "../lib/screening/rank";
import { BROADENINGS, DEFAULT_MATCH, MATCH_SCORES, broadeningOptions, checkScoreNormalisation, normaliseTarget, parseEnergyCalibration, prepareMatch, type Broadening, type EnergyCalibration, type MatchScore } from "../lib/screening/match";
import { measuredRankingRecords, MEASURED_RANKING_COLUMNS } from "../lib/screening/table";
import { measuredOverlayFigure, normalisationFigure } from "../lib/screening/plot";
import { InputError } from "../lib/util/errors";
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
  calibration: undefined as { calibration: EnergyCalibration; file: string } | undefined,
  calibrationError: undefined as string | undefined,
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

/**
 * The FEFF-vs-experiment energy offset stored with the model folder (energy-calibration.json, written
 * by scripts/validate-measured.ts and read by `npm run screen`): the shallowest one among the files.
 */
function storedCalibration(files: readonly FolderFile[]): { calibration: EnergyCalibration; file: string } | undefined {
  const found = files.filter((f) => /(^|\/)energy-calibration\.json$/.test(f.path)).sort((a, b) => a.path.split("/").length - b.path.split("/").length)[0];
  return found && { calibration: parseEnergyCalibration(new TextDecoder().decode(found.bytes), found.path), file: found.path };
}

async function loadModelFiles(name: string, files: FolderFile[]): Promise<void> {
  try {
    const members = await loadEnsembleFromFiles(files);
    let cal: typeof state.calibration;
    let calError: string | undefined;
    try {
      cal = storedCalibration(files);
    } catch (err) {
      calError = errorMessage(err);
    }
    setModel(name, members);
    state.calibration = cal;
    state.calibrationError = calError;
    showCalibration();
  } catch (err) {
    showModelError(name, err);
  }
}

function showCalibration(): void {
  const c = state.calibration;
  $("calibration-status").textContent = c
    ? `Energy offset stored with the model (${c.file}): ${c.calibration.offset.toFixed(2)} eV` +
      `${Number.isFinite(c.calibration.spread) ? ` ± ${c.calibration.spread.toFixed(2)}` : ""}, calibrated on ${c.calibration.standards.map((x) => x.name).join(", ")}` +
      ` (a target that is one of these standards helped calibrate its own ranking: enter an offset calibrated without it). An offset entered below replaces it.`
    : `The model folder has no energy-calibration.json${state.calibrationError ? ` (${state.calibrationError})` : ""}: enter the FEFF-vs-experiment offset below ` +
      `(npm run screen calibrates it on the xaslib standards, which the page cannot read).`;
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
  // A band when there are draws: ensemble members, or dropout samples of a net that records a band.
  const spread = p.average.std.some((v) => v > 0);
  const colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const data: object[] = [];
  const curve = (name: string, b: StructurePrediction["average"], colour: string, width: number) => {
    if (spread) {
      data.push({ type: "scatter", mode: "lines", x, y: Array.from(b.mean, (v, j) => v + b.std[j]), line: { width: 0, color: colour }, showlegend: false, hoverinfo: "skip" });
      data.push({ type: "scatter", mode: "lines", x, y: Array.from(b.mean, (v, j) => v - b.std[j]), line: { width: 0, color: colour }, fill: "tonexty", fillcolor: colour + "33", name: `${name} ±1σ${p.calibrated ? " (calibrated)" : " (raw spread)"}`, hoverinfo: "skip" });
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
const pm = (v: number, sd: number, d: number) => (Number.isFinite(sd) && sd > 0 ? `${fmt(v, d)} ± ${fmt(sd, d)}` : fmt(v, d));

/** A target file as the page hands it over: its bytes (a picked File) or text (tests). */
interface TargetInput {
  name: string;
  text?: string;
  bytes?: Uint8Array;
}

/** Options of the Screen section, named as `npm run screen`'s flags. */
interface ScreenPageOptions {
  /** "measured" (default, as the CLI with --target FILE) or "computed" (--computed: FEFF scale). */
  mode?: "measured" | "computed";
  /** computed: --metric */
  metric?: string;
  /** measured: --score, --broadening, --shift-window, --offset, --e0, --record, --mu, --column */
  score?: string;
  broadening?: string;
  shiftWindow?: number;
  offset?: number;
  e0?: number;
  record?: string;
  mu?: string;
  column?: number;
}

/** The file's bytes; a gzipped Athena project is decompressed here (DecompressionStream: the browser has no node:zlib). */
async function targetBytes(t: TargetInput): Promise<Uint8Array> {
  const b = t.bytes ?? new TextEncoder().encode(t.text ?? "");
  if (b.length < 2 || b[0] !== 0x1f || b[1] !== 0x8b) return b;
  try {
    return new Uint8Array(await new Response(new Blob([b as BlobPart]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
  } catch (e) {
    throw new InputError(`${t.name}: gzip-compressed but cannot be decompressed (${errorMessage(e)})`);
  }
}

function oneOf<T extends string>(v: string | undefined, name: string, allowed: readonly T[], dflt: T): T {
  if (v === undefined || v === "") return dflt;
  if (!allowed.includes(v as T)) throw new InputError(`${name} must be ${allowed.join(", ")}; got "${v}"`);
  return v as T;
}

/**
 * Screening as `npm run screen` does it, with the same lib calls and defaults. Measured (default): the
 * target read by content (XDI, Athena record, columns), normalised as Athena does, compared with the
 * model's predictions at the stored (or entered) energy offset ± a small shift, broadened, scored.
 * Computed: a two-column spectrum on the model's energy scale (`--computed`).
 */
async function screen(targetFile: TargetInput, candidateFiles: { name: string; text: string }[], opts: ScreenPageOptions = {}): Promise<void> {
  const out = $("screen-out");
  out.replaceChildren();
  state.screening = undefined;
  state.screenError = undefined;
  try {
    if (state.members.length === 0) throw new Error("no model loaded: pick a model folder first");
    const t0 = performance.now();
    const members = state.members;
    const spectral = members[0].spectral;
    const mesh = energyMeshOf(spectral.mesh);
    const element = spectral.mesh.element;
    const bytes = await targetBytes(targetFile);
    if ((opts.mode ?? "measured") === "computed") {
      const target = parseTargetText(new TextDecoder().decode(bytes), targetFile.name, { kind: "material", intensityColumn: opts.column === undefined ? undefined : opts.column - 1 });
      const prepared = prepareTarget(target, mesh, { normalisation: spectral.normalisation, window: 5 });
      const load = loadCandidates(candidateFiles);
      const res = await screenCandidates(prepared, load.candidates, ensemblePredictor(members), { element, metric: oneOf(opts.metric, "metric", ["cosine", "pearson", "mse", "spearman"] as const, "cosine") as ScreeningMetric });
      const totalMs = performance.now() - t0;
      state.screening = {
        mode: "computed",
        rows: res.rows.map((r) => ({ rank: r.rank, id: r.id, score: r.score, scoreStd: r.scoreStd, shift: r.shift, nSites: r.nSites, shiftAtEdge: r.shiftAtEdge })),
        skipped: res.skipped,
        skippedFiles: load.skipped,
        timing: { totalMs, predictMs: res.predictMs, scoreMs: res.scoreMs, sitesPredicted: res.sitesPredicted },
      };
      renderScreening(out, targetFile.name, res, load.skipped, totalMs);
      return;
    }
    const spec = parseMeasuredTarget(bytes, targetFile.name, { mu: opts.mu || undefined, record: opts.record || undefined, column: opts.column, element, edge: spectral.mesh.edge });
    const win = DEFAULT_MATCH.window;
    const normTarget = normaliseTarget(spec.energy, spec.mu, spec.source, opts.e0 === undefined ? {} : { e0: opts.e0 }, win);
    const score = oneOf<MatchScore>(opts.score, "score", MATCH_SCORES, DEFAULT_MATCH.score);
    checkScoreNormalisation(score, spectral.normalisation);
    const broadening = oneOf<Broadening>(opts.broadening, "broadening", BROADENINGS, "lorentzian");
    const shiftWindow = opts.shiftWindow ?? DEFAULT_MATCH.shiftWindow;
    if (!(shiftWindow >= 0)) throw new InputError(`shift window must be ≥ 0, got ${shiftWindow}`);
    const base = { ...DEFAULT_MATCH, score, window: win, shiftWindow, ...broadeningOptions(broadening) };
    let offset: number;
    let offsetNote: string;
    if (opts.offset !== undefined) {
      if (!Number.isFinite(opts.offset)) throw new InputError(`offset: "${opts.offset}" is not a number`);
      offset = opts.offset;
      offsetNote = `energy offset ${offset} eV (entered)`;
    } else if (state.calibration) {
      const c = state.calibration;
      offset = c.calibration.offset;
      offsetNote = `energy offset ${offset.toFixed(2)}${Number.isFinite(c.calibration.spread) ? ` ± ${c.calibration.spread.toFixed(2)}` : ""} eV (stored with the model: ${c.file}, standards ${c.calibration.standards.map((x) => x.name).join(", ")})`;
    } else {
      throw new InputError("no energy offset: the model folder has no energy-calibration.json; enter the FEFF-vs-experiment offset (eV, e.g. from npm run screen's output)");
    }
    const prepared = prepareMatch(normTarget, mesh, { ...base, offset });
    const load = loadCandidates(candidateFiles);
    const res = await screenMeasured(prepared, load.candidates, ensemblePredictor(members), { element, kind: "material" });
    const totalMs = performance.now() - t0;
    const pe = normTarget.preEdge;
    state.screening = {
      mode: "measured",
      rows: res.rows.map((r) => ({ rank: r.rank, id: r.id, score: r.score, scoreStd: r.scoreStd, shift: r.shift, nSites: r.nSites, shiftAtEdge: r.shiftAtEdge, sigma: r.sigma, gamma: r.gamma, broadeningAtEdge: r.broadeningAtEdge })),
      skipped: res.skipped,
      skippedFiles: load.skipped,
      timing: { totalMs, predictMs: res.predictMs, scoreMs: res.scoreMs, sitesPredicted: res.sitesPredicted },
      measured: { offset, offsetNote, e0: pe.e0, edgeStep: pe.edgeStep, rule: spec.rule },
    };
    out.appendChild(el("p", { class: "summary" },
      `${spec.source}: ${spec.energy.length} points ${spec.energy[0]}–${spec.energy[spec.energy.length - 1]} eV (${spec.energyNote}); μ = ${spec.rule} [${spec.ruleReason}]; ` +
        `E0 ${pe.e0} eV (${pe.e0Source}), edge step ${pe.edgeStep.toPrecision(4)}, pre-edge ${pe.pre1}…${pe.pre2} eV, post-edge ${pe.norm1.toFixed(0)}…${pe.norm2.toFixed(0)} eV (degree ${pe.nnorm}), flattened. ${offsetNote}.`));
    const norm = el("div", { class: "plot norm-plot" });
    out.appendChild(norm);
    const nf = normalisationFigure(spec.mu, normTarget, { muLabel: `μ(E) = ${spec.rule}` });
    void Plotly.newPlot(norm, nf.data as object[], { ...(nf.layout as object), width: undefined, title: { text: `${spec.source}: normalisation (larch pre_edge conventions)` } }, { responsive: true, displaylogo: false });
    renderMeasured(out, targetFile.name, res, load.skipped, totalMs, broadening);
  } catch (err) {
    state.screenError = errorMessage(err);
    out.appendChild(el("p", { class: "error" }, errorMessage(err)));
  }
}

function loadCandidates(files: { name: string; text: string }[]): ReturnType<typeof candidatesFromTexts> {
  const load = candidatesFromTexts(files.map((f) => ({ file: f.name, text: f.text })));
  if (load.candidates.length === 0 && load.skipped.length === 0) throw new Error("no candidate structures picked");
  return load;
}

function renderMeasured(out: HTMLElement, targetName: string, res: MeasuredScreeningResult, skippedFiles: { file: string; reason: string }[], totalMs: number, broadening: Broadening): void {
  const o = res.target.options;
  const ens = res.members > 1;
  out.appendChild(el("p", { class: "summary" },
    `${res.rows.length} candidates ranked by ${res.score}${res.score === "l2" ? " (−rms of the normalised spectra)" : ""} (higher is better) over ${o.window[0]}–${o.window[1]} eV, ` +
      `shift ±${o.shiftWindow} eV around the offset, ${broadening} broadening ≤ ${Math.max(...o.sigmas, ...(o.gammas ?? [0]))} eV; ${res.sitesPredicted} sites predicted in ${(totalMs / 1000).toFixed(2)} s`));
  const table = el("table", { class: "classes ranking" });
  const head = ["rank", "candidate", `${res.score} ↑`, "shift (eV)", "σ (eV)", "γ (eV)", ...(ens ? ["rank range"] : []), "sites", "flags"];
  table.appendChild(el("tr")).append(...head.map((h) => el("th", {}, h)));
  for (const r of res.rows.slice(0, 50)) {
    const flags = [r.shiftAtEdge ? "shift at window edge" : "", r.broadeningAtEdge ? "broadening at bound" : ""].filter(Boolean).join(", ") || "–";
    table.appendChild(el("tr")).append(
      ...[String(r.rank), r.id, pm(r.score, r.scoreStd, 4), pm(r.shift, r.shiftStd, 2), pm(r.sigma, r.sigmaStd, 2), pm(r.gamma, r.gammaStd, 2), ...(ens ? [`${r.rankBest}–${r.rankWorst}`] : []), String(r.nSites), flags].map((v) => el("td", {}, v)),
    );
  }
  out.appendChild(table);
  const nEdge = res.rows.filter((r) => r.shiftAtEdge).length;
  const nBound = res.rows.filter((r) => r.broadeningAtEdge).length;
  out.appendChild(el("p", { class: "note" },
    `total shift = offset ${o.offset.toFixed(2)} eV + shift; ${nEdge} of ${res.rows.length} candidates have their best shift at the ±${o.shiftWindow} eV window edge, ${nBound} their broadening at the upper bound` +
      (ens ? `; ± = spread over ${res.members} ensemble members` : "") + (res.rows.length > 50 ? `; first 50 of ${res.rows.length} shown, the CSV has all` : "")));
  for (const s of skippedFiles) out.appendChild(el("p", { class: "error" }, `skipped file ${s.file}: ${s.reason}`));
  for (const s of res.skipped) out.appendChild(el("p", { class: "error" }, `skipped candidate ${s.id}: ${s.reason}`));
  const csv = el("button", { class: "csv" }, "Export table (CSV)");
  csv.onclick = () => download(`${targetName.replace(/\.[^.]*$/, "")}-ranking.csv`, new Blob([recordsToCsv(measuredRankingRecords(res), MEASURED_RANKING_COLUMNS)], { type: "text/csv" }));
  out.appendChild(el("div", { class: "buttons" })).appendChild(csv);
  if (res.rows.length) {
    const plot = el("div", { class: "plot overlay-plot" });
    out.appendChild(plot);
    const fig = measuredOverlayFigure(res, { top: 5, title: `${targetName}: top candidates` });
    void Plotly.newPlot(plot, fig.data as object[], { ...(fig.layout as object), width: undefined }, { responsive: true, displaylogo: false });
  }
}

function renderScreening(out: HTMLElement, targetName: string, res: ScreeningResult, skippedFiles: { file: string; reason: string }[], totalMs: number): void {
  const t = res.target;
  out.appendChild(el("p", { class: "summary" },
    `${targetName} (computed, on the model's energy scale): ${t.target.energy.length} points, ${(t.coverage * 100).toFixed(0)}% of the model mesh covered; ${res.rows.length} candidates ranked by ${res.metric}` +
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

/** An Athena project picked as the target: list its records in the picker (mu records selectable). */
async function listRecords(file: File | undefined): Promise<void> {
  const pick = $("record") as HTMLSelectElement;
  const box = $("record-box");
  pick.replaceChildren();
  box.hidden = true;
  $("target-error").textContent = "";
  if (!file) return;
  try {
    const bytes = await targetBytes({ name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
    if (!looksLikeAthena(bytes)) return;
    const p = parseAthena(athenaText(bytes, file.name), file.name);
    const mu = p.records.filter((r) => r.kind === "mu");
    for (const r of p.records) {
      const o = el("option", { value: String(r.index) }, `${r.index}: ${r.label}${r.kind === "mu" ? "" : ` (${r.kind}, not a μ(E) record)`}`) as HTMLOptionElement;
      if (r.kind !== "mu") o.disabled = true;
      if (r === mu[0]) o.selected = true;
      pick.appendChild(o);
    }
    box.hidden = false;
  } catch (err) {
    $("target-error").textContent = errorMessage(err);
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
    showCalibration();
  }
}

function wire(): void {
  const modelDir = $("model-dir") as HTMLInputElement;
  const modelFiles = $("model-files") as HTMLInputElement;
  const pick = async (input: HTMLInputElement) => {
    if (!input.files?.length) return;
    // a previous folder's error is cleared at once (before any await): the message shown is this folder's
    $("model-error").textContent = "";
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
  const targetInput = $("target-file") as HTMLInputElement;
  targetInput.onchange = () => void listRecords(targetInput.files?.[0]);
  const mode = () => (($("mode-computed") as HTMLInputElement).checked ? "computed" : "measured");
  const showMode = () => {
    $("measured-options").hidden = mode() === "computed";
    $("computed-options").hidden = mode() === "measured";
  };
  ($("mode-measured") as HTMLInputElement).onchange = showMode;
  ($("mode-computed") as HTMLInputElement).onchange = showMode;
  showMode();
  const value = (id: string) => ($(id) as HTMLInputElement).value.trim();
  const number = (id: string) => (value(id) === "" ? undefined : Number(value(id)));
  const run = $("screen-run") as HTMLButtonElement;
  run.onclick = async () => {
    const t = targetInput.files?.[0];
    const picked = [...Array.from(($("candidate-files") as HTMLInputElement).files ?? []), ...Array.from(($("candidate-dir") as HTMLInputElement).files ?? [])];
    if (!t) {
      $("screen-out").replaceChildren(el("p", { class: "error" }, "pick a target spectrum file"));
      return;
    }
    run.disabled = true;
    try {
      const cands = await Promise.all(picked.map(async (f) => ({ name: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name, text: await f.text() })));
      const records = Array.from(($("record") as HTMLSelectElement).selectedOptions, (o) => o.value).join(",");
      await screen({ name: t.name, bytes: new Uint8Array(await t.arrayBuffer()) }, cands, {
        mode: mode(),
        metric: value("metric"),
        score: value("score"),
        broadening: value("broadening"),
        shiftWindow: number("shift-window"),
        offset: number("offset"),
        e0: number("e0"),
        record: records || undefined,
        mu: value("mu") || undefined,
        column: number("column"),
      });
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
