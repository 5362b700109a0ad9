/**
 * Rank candidate structures against a spectrum with a trained model (or ensemble).
 *
 *   npm run screen -- --target CuO.xdi        (after npm run reproduce: its model, every FEFF-set structure)
 *   npm run screen -- --target CuO.xdi --candidates structures/ --model results/model
 *   npm run screen -- --target project.prj --record "CuO 13K" --candidates structures/ --model m/
 *   npm run screen -- --dataset data/datasets/cu --target-row 17 --candidates-split test --model results/ensemble
 *
 * Target (measured): --target FILE — XDI (mu by rule: ln(i0/itrans), mutrans, ifluor/i0, …; override with
 *              --mu "ln(i0/itrans)"), Athena .prj (--record LABEL|INDEX, or several comma-separated to
 *              average aligned scans), or plain columns (energy eV, intensity; --column N when there are
 *              more than two). Normalised as Athena does (E0, pre-edge line, post-edge, flattened), aligned
 *              with the calibrated FEFF-vs-experiment offset ± --shift-window, broadened (--broadening), scored.
 *              An XDI reference channel stated to be a foil of the element (ln(itrans/irefer)) calibrates the
 *              energies first: its E0 is moved to the tabulated foil energy (≤ 10 eV; reported; lib/spectra/
 *              energy-calibration.ts). [--energy-as-written: skip that]
 *              [--kind material|site, default material] [--e0 EV: E0 instead of the derivative]
 *              [--offset EV: use this offset instead of the calibration; default: the model's spectral
              contract (alignment), else an energy-calibration.json beside it, else calibrated now on the
              xaslib standards — leave-one-out when the target is one of them]
 *              [--xanes-window LO,HI: comparison window on the model's energy scale, default 8990,9120]
 *              [--score l2|pearson|pearson+derivative, default l2] [--broadening lorentzian|gaussian|both]
 *              [--shift-window EV, default 1] [--fit-threads N: worker threads fitting while the next batch is
 *              predicted; default 1 when other processes leave a second core idle, else 0 = on the main
 *              thread; same results either way]
 * Target (computed, already on the model's energy scale): --computed with --target FILE, or
 *              --dataset DIR --target-row N; scored with --metric cosine|pearson|mse|spearman (default
 *              cosine), --window EV (shift ±EV, default 5), --normalisation (default the model's).
 * Candidates:  --candidates DIR|FILE (repeatable; structure files or <name>/POSCAR folders; default for a
 *              measured target: every structure of <shared data>/feff-cu-k-oxides)
 *              --candidates-list FILE (one structure file path per line; # comments)
 *              --candidates-split train|test|val (with --dataset; grouped-by-material split)
 *              --base FILE with generated variants: --substitute FROM:TO1,TO2  --strain=S1,S2 (fractions)
 *                [--uniaxial false]  --vacancy SITE [--vacancy-element O]
 * Model:       --model DIR (a saved predictor, or a folder of them = ensemble; repeatable; default
 *              results/model, written by npm run reproduce with its energy alignment)
 *              --element Cu --edge K (default: the model's absorber, K)
 * Output:      --top N (rows printed, default 20)  --out DIR (ranking.csv, ranking.json, overlay.html)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { scriptUsage } from "./usage";
import { matchWorkers } from "../lib/screening/parallel";
import { secondCoreIdle } from "../lib/util/load";
import { InputError } from "../lib/util/errors";
import { resultsDir, sharedDataDir } from "../lib/config";
import { initBackend } from "../lib/model/backend";
import type { XanesPredictor } from "../lib/model/predictor";
import { loadEnsemble } from "../lib/model/ensemble";
import { energyMeshOf } from "../lib/model/spectral";
import { loadDataset } from "../lib/data/store";
import { recordsToCsv } from "../lib/util/csv";
import { NORMALISATIONS, Normalisation } from "../lib/spectra/mesh";
import { writeFigureHtml } from "../lib/plots/figure";
import {
  BROADENINGS,
  Broadening,
  Candidate,
  DEFAULT_MATCH,
  MATCH_SCORES,
  MatchScore,
  RANKING_COLUMNS,
  ScreeningMetric,
  TargetSpectrum,
  broadeningOptions,
  checkScoreNormalisation,
  candidatesFromDataset,
  candidatesFromFiles,
  energyCalibrationFor,
  ensemblePredictor,
  formatAlignment,
  formatMeasuredTable,
  formatRankingTable,
  listRunSetStructures,
  listStructureFiles,
  measuredOverlayFigure,
  measuredRankingRecords,
  MEASURED_RANKING_COLUMNS,
  MeasuredScreeningResult,
  normaliseTarget,
  prepareMatch,
  prepareTarget,
  rankingRecords,
  readMeasuredTarget,
  readTargetFile,
  screenCandidates,
  screenMeasured,
  screeningOverlayFigure,
  strainCandidates,
  substitutionCandidates,
  targetFromDataset,
  vacancyCandidates,
} from "../lib/screening";

const OPTIONS = {
  target: { type: "string" },
  mu: { type: "string" },
  "energy-as-written": { type: "boolean" },
  record: { type: "string" },
  column: { type: "string" },
  kind: { type: "string" },
  e0: { type: "string" },
  offset: { type: "string" },
  "xanes-window": { type: "string" },
  score: { type: "string" },
  broadening: { type: "string" },
  "shift-window": { type: "string" },
  "fit-threads": { type: "string" },
  computed: { type: "boolean" },
  dataset: { type: "string" },
  "target-row": { type: "string" },
  candidates: { type: "string", multiple: true },
  "candidates-list": { type: "string", multiple: true },
  "candidates-split": { type: "string" },
  base: { type: "string" },
  substitute: { type: "string", multiple: true },
  strain: { type: "string" },
  uniaxial: { type: "string" },
  vacancy: { type: "string", multiple: true },
  "vacancy-element": { type: "string" },
  model: { type: "string", multiple: true },
  metric: { type: "string" },
  window: { type: "string" },
  element: { type: "string" },
  edge: { type: "string" },
  normalisation: { type: "string" },
  top: { type: "string" },
  out: { type: "string" },
  help: { type: "boolean" },
} as const;

function num(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x)) throw new InputError(`--${name}: "${v}" is not a number`);
  return x;
}

function oneOf<T extends string>(v: string | undefined, name: string, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!allowed.includes(v as T)) throw new InputError(`--${name} must be ${allowed.join(", ")}; got "${v}"`);
  return v as T;
}

async function loadCandidates(a: Record<string, unknown>, ds: ReturnType<typeof loadDataset> | undefined): Promise<{ candidates: Candidate[]; skippedFiles: { file: string; reason: string }[] }> {
  const candidates: Candidate[] = [];
  const skippedFiles: { file: string; reason: string }[] = [];
  const files = ((a.candidates as string[] | undefined) ?? []).flatMap((c) => (fs.statSync(c, { throwIfNoEntry: false })?.isDirectory() ? listStructureFiles(c) : [c]));
  for (const list of (a["candidates-list"] as string[] | undefined) ?? []) {
    let text: string;
    try {
      text = fs.readFileSync(list, "utf8");
    } catch (err) {
      throw new InputError(`${list}: cannot read candidate list (${(err as Error).message})`);
    }
    // Relative paths are relative to the list file.
    for (const line of text.split(/\r?\n/)) {
      const p = line.replace(/#.*/, "").trim();
      if (p) files.push(path.resolve(path.dirname(list), p));
    }
  }
  if (files.length) {
    const load = candidatesFromFiles(files);
    candidates.push(...load.candidates);
    skippedFiles.push(...load.skipped);
  }
  const split = a["candidates-split"] as string | undefined;
  if (split) {
    if (!ds) throw new InputError("--candidates-split needs --dataset DIR");
    const rows = (ds.splits.grouped as unknown as Record<string, number[]>)[split];
    if (!rows) throw new InputError(`--candidates-split must be train, val or test, got "${split}"`);
    candidates.push(...candidatesFromDataset(ds, rows));
  }
  const baseFile = a.base as string | undefined;
  if (baseFile) {
    const baseLoad = candidatesFromFiles([baseFile]);
    if (baseLoad.skipped.length) throw new InputError(baseLoad.skipped[0].reason);
    const base: Candidate = { ...baseLoad.candidates[0], origin: "base" };
    candidates.push(base);
    for (const spec of (a.substitute as string[] | undefined) ?? []) {
      const m = /^([A-Z][a-z]?):([A-Za-z,]+)$/.exec(spec);
      if (!m) throw new InputError(`--substitute "${spec}": expected FROM:TO1,TO2 (e.g. O:S,Se)`);
      candidates.push(...substitutionCandidates(base, m[1], m[2].split(",")));
    }
    const strain = a.strain as string | undefined;
    if (strain) {
      const steps = strain.split(",").map(Number);
      if (steps.some((x) => !Number.isFinite(x))) throw new InputError(`--strain "${strain}": expected comma-separated fractions, e.g. -0.02,0.02`);
      candidates.push(...strainCandidates(base, steps, { uniaxial: a.uniaxial !== "false" }));
    }
    for (const v of (a.vacancy as string[] | undefined) ?? []) {
      candidates.push(...vacancyCandidates(base, num(v, "vacancy", 0), { element: a["vacancy-element"] as string | undefined }));
    }
  } else if (a.substitute || a.strain || a.vacancy) {
    throw new InputError("--substitute/--strain/--vacancy generate variants of --base FILE; give --base");
  }
  if (candidates.length === 0) {
    const why = skippedFiles.length
      ? `every candidate file was skipped:\n${skippedFiles.map((s) => `  ${s.file}: ${s.reason}`).join("\n")}`
      : "give --candidates DIR|FILE, --candidates-split (with --dataset) or --base FILE";
    throw new InputError(`no candidates: ${why}`);
  }
  return { candidates, skippedFiles };
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ options: OPTIONS, allowPositionals: false, strict: true });
  } catch (err) {
    throw new InputError(`${(err as Error).message} (see --help)`);
  }
  const a = parsed.values as Record<string, unknown> & { [K in keyof typeof OPTIONS]?: string };
  if (a.help || Object.keys(a).length === 0) {
    console.log(scriptUsage(__filename));
    return;
  }
  // Defaults for a beamline user who gives only a file: the model reproduce saves, and every
  // structure of the FEFF set as candidates (a measured target only).
  const modelDirs = (a.model as unknown as string[] | undefined) ?? [path.join(resultsDir(), "model")];
  if (!a.model && !fs.existsSync(modelDirs[0])) {
    throw new InputError(`--model DIR is required: the default ${modelDirs[0]} does not exist (run npm run reproduce, or give a saved predictor or a folder of ensemble members)`);
  }
  const noCandidateOption = !a.candidates && !a["candidates-list"] && !a["candidates-split"] && !a.base;
  const datasetDir = a.dataset;
  const ds = datasetDir ? loadDataset(datasetDir) : undefined;
  const targetFile = a.target;
  const targetRow = a["target-row"];
  if (targetFile && targetRow) throw new InputError("give --target FILE or --target-row N, not both");
  if (!targetFile && targetRow === undefined) throw new InputError("--target FILE (or --dataset DIR --target-row N) is required");
  const kind = oneOf(a.kind, "kind", ["material", "site"] as const, "material");

  // The target is read before the model is loaded, so a bad file fails fast.
  const measured = targetFile !== undefined && !a.computed;
  const element0 = a.element;
  const edge = a.edge ?? "K";
  const spec = measured
    ? readMeasuredTarget(targetFile!, { mu: a.mu, record: a.record, column: a.column === undefined ? undefined : num(a.column, "column", 2), element: element0, edge, referenceCalibration: !a["energy-as-written"] })
    : undefined;
  const win = (a["xanes-window"] ?? DEFAULT_MATCH.window.join(",")).split(",").map((v) => num(v, "xanes-window", NaN));
  if (win.length !== 2 || !(win[1] > win[0])) throw new InputError(`--xanes-window "${a["xanes-window"]}": expected LO,HI in eV`);
  const normTarget = spec ? normaliseTarget(spec.energy, spec.mu, spec.source, a.e0 === undefined ? {} : { e0: num(a.e0, "e0", 0) }, [win[0], win[1]]) : undefined;
  const defaultCandidates = noCandidateOption && measured ? path.join(sharedDataDir(), "feff-cu-k-oxides") : undefined;
  if (defaultCandidates) console.log(`candidates: every structure of ${defaultCandidates} (default; --candidates DIR|FILE for others)`);
  const { candidates, skippedFiles } = await loadCandidates(defaultCandidates ? { ...a, candidates: listRunSetStructures(defaultCandidates) } : a, ds);

  const backend = await initBackend();
  const members: XanesPredictor[] = [];
  for (const d of modelDirs) members.push(...(await loadEnsemble(d)));
  const predictor = ensemblePredictor(members);
  // The model's spectral contract says mesh, element, edge and normalisation; nothing is guessed.
  const spectral = members[0].spectral;
  const meta = { normalisation: spectral.normalisation };
  const element = element0 ?? spectral.mesh.element;
  const mesh = energyMeshOf(spectral.mesh);
  const top = num(a.top, "top", 20);
  const outDir = a.out;

  if (spec && normTarget) {
    if (spec.element === undefined) console.log(`note: ${spec.source} does not name its element/edge; assumed ${element} ${edge}`);
    else if (spec.element.toLowerCase() !== element.toLowerCase() || (spec.edge ?? edge).toLowerCase() !== edge.toLowerCase()) {
      throw new InputError(`${spec.source}: spectrum of ${spec.element} ${spec.edge ?? ""}, but the model predicts ${element} ${edge}`);
    }
    const score = oneOf<MatchScore>(a.score, "score", MATCH_SCORES, DEFAULT_MATCH.score);
    checkScoreNormalisation(score, meta.normalisation);
    const broadening = oneOf<Broadening>(a.broadening, "broadening", BROADENINGS, "lorentzian");
    const base = { ...DEFAULT_MATCH, score, window: [win[0], win[1]] as [number, number], shiftWindow: num(a["shift-window"], "shift-window", DEFAULT_MATCH.shiftWindow), ...broadeningOptions(broadening) };
    if (!(base.shiftWindow >= 0)) throw new InputError(`--shift-window must be ≥ 0, got ${base.shiftWindow}`);
    const cal = a.offset !== undefined ? undefined : energyCalibrationFor(normTarget, mesh, element, edge, base, { alignment: spectral.alignment, dir: modelDirs[0] });
    const offset = a.offset !== undefined ? num(a.offset, "offset", 0) : cal!.offset;
    const prepared = prepareMatch(normTarget, mesh, { ...base, offset });
    const pe = normTarget.preEdge;
    console.log(
      `target ${spec.source}: ${spec.energy.length} points ${spec.energy[0]}–${spec.energy[spec.energy.length - 1]} eV (${spec.energyNote}); mu = ${spec.rule} [${spec.ruleReason}]; ` +
        `E0 ${pe.e0} eV (${pe.e0Source}), edge step ${pe.edgeStep.toPrecision(4)}, pre-edge ${pe.pre1}…${pe.pre2} eV, post-edge ${pe.norm1.toFixed(0)}…${pe.norm2.toFixed(0)} eV (degree ${pe.nnorm}), flattened`,
    );
    if (spec.referenceCalibration) console.log(`energy calibration: ${spec.referenceCalibration.note}`);
    console.log(
      a.offset !== undefined
        ? `energy offset ${offset} eV (given)`
        : `energy offset ${formatAlignment(cal!)} (${cal!.note})`,
    );
    console.log(
      `${candidates.length} candidates; model: ${members.length} member(s), ${mesh.points}-point mesh ${mesh.start}–${predictor.energy[mesh.points - 1]} eV, ${backend.name} backend; ` +
        `score ${score} over ${base.window[0]}–${base.window[1]} eV, shift ±${base.shiftWindow} eV, ${broadening} broadening ≤ ${broadening === "gaussian" ? base.sigmas.slice(-1)[0] : (base.gammas ?? [0]).slice(-1)[0]} eV`,
    );
    const t0 = performance.now();
    // Fits on worker threads while the main thread predicts the next batch (same results).
    // Default 0: on the shared 2-core machine the worker slowed prediction more than it saved (bench:screen).
    // Default: one worker when other processes leave a second core idle (1.38× wall in bench:screen, idle).
    const threads = a["fit-threads"] === undefined ? (secondCoreIdle() ? 1 : 0) : num(a["fit-threads"], "fit-threads", 0);
    if (!(Number.isInteger(threads) && threads >= 0)) throw new InputError(`--fit-threads must be a whole number ≥ 0, got ${threads}`);
    const workers = threads > 0 ? matchWorkers(prepared, threads) : undefined;
    let res: MeasuredScreeningResult;
    try {
      res = await screenMeasured(prepared, candidates, predictor, { element, kind, fitRows: workers?.fitRows });
    } finally {
      await workers?.close();
    }
    const secs = (performance.now() - t0) / 1000;
    console.log(formatMeasuredTable(res, top));
    console.log(`${res.rows.length} ranked, ${res.sitesPredicted} sites in ${secs.toFixed(2)} s (predict ${(res.predictMs / 1000).toFixed(2)} s, score ${(res.scoreMs / 1000).toFixed(2)} s)`);
    const recs = measuredRankingRecords(res);
    writeOutputs(outDir, skippedFiles, res.skipped, () => ({
      csv: recordsToCsv(recs, MEASURED_RANKING_COLUMNS),
      json: { target: spec.source, rule: spec.rule, e0: pe.e0, edgeStep: pe.edgeStep, kind, options: { ...base, offset }, calibration: cal, members: members.length, rows: recs },
      figure: measuredOverlayFigure(res, { top: 5 }),
      title: `screening ${spec.source}`,
    }));
    return;
  }

  // Computed target, already on the model's energy scale.
  let target: TargetSpectrum;
  if (targetFile) {
    target = readTargetFile(targetFile, { intensityColumn: a.column === undefined ? undefined : num(a.column, "column", 2) - 1, kind });
  } else {
    if (!ds) throw new InputError("--target-row needs --dataset DIR");
    target = targetFromDataset(ds, num(targetRow, "target-row", 0));
  }
  const normalisation = (a.normalisation ?? meta.normalisation) as Normalisation;
  if (!NORMALISATIONS.includes(normalisation)) {
    throw new InputError(
      a.normalisation !== undefined
        ? `--normalisation must be ${NORMALISATIONS.join(", ")}; got "${a.normalisation}"`
        : `--normalisation ${NORMALISATIONS.join("|")} is required: the model records ${JSON.stringify(meta.normalisation)}`,
    );
  }
  const metric = oneOf<ScreeningMetric>(a.metric, "metric", ["cosine", "pearson", "mse", "spearman"], "cosine");
  const prepared = prepareTarget(target, mesh, { normalisation, window: num(a.window, "window", 5) });
  console.log(
    `target ${target.source} (${target.kind}, ${target.energy.length} points, ${target.energy[0]}–${target.energy[target.energy.length - 1]} eV, ` +
      `${(prepared.coverage * 100).toFixed(0)}% of the mesh covered); ${candidates.length} candidates; ` +
      `model: ${members.length} member(s), ${mesh.points}-point mesh ${mesh.start}–${predictor.energy[mesh.points - 1]} eV, ${normalisation} normalisation, ${backend.name} backend`,
  );
  const t0 = performance.now();
  const res = await screenCandidates(prepared, candidates, predictor, { element, metric });
  const secs = (performance.now() - t0) / 1000;
  console.log(formatRankingTable(res, top));
  console.log(
    `${res.rows.length} ranked, ${res.sitesPredicted} sites in ${secs.toFixed(2)} s ` +
      `(predict ${(res.predictMs / 1000).toFixed(2)} s, score ${(res.scoreMs / 1000).toFixed(2)} s; ${(res.sitesPredicted / secs).toFixed(0)} sites/s)`,
  );
  const recs = rankingRecords(res);
  writeOutputs(outDir, skippedFiles, res.skipped, () => ({
    csv: recordsToCsv(recs, RANKING_COLUMNS),
    json: { target: target.source, kind: target.kind, metric, window: prepared.window, members: members.length, rows: recs },
    figure: screeningOverlayFigure(res, { top: 5 }),
    title: `screening ${target.source}`,
  }));
}

/** Lists what was skipped; with --out, writes ranking.csv, ranking.json (with the skipped list) and overlay.html. */
function writeOutputs(
  outDir: string | undefined,
  skippedFiles: readonly { file: string; reason: string }[],
  skipped: readonly { id: string; reason: string }[],
  build: () => { csv: string; json: Record<string, unknown>; figure: Parameters<typeof writeFigureHtml>[0]; title: string },
): void {
  for (const s of skippedFiles) console.log(`skipped file ${s.file}: ${s.reason}`);
  for (const s of skipped) console.log(`skipped candidate ${s.id}: ${s.reason}`);
  if (!outDir) return;
  const o = build();
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "ranking.csv"), o.csv);
  fs.writeFileSync(path.join(outDir, "ranking.json"), JSON.stringify({ ...o.json, skipped: [...skippedFiles, ...skipped] }, null, 1));
  writeFigureHtml(o.figure, path.join(outDir, "overlay.html"), o.title);
  console.log(`wrote ${path.join(outDir, "ranking.csv")}, ranking.json, overlay.html`);
}

main().catch((err) => {
  // One clear line; the stack only with XANES_DEBUG=1.
  console.error(`screen: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.XANES_DEBUG) console.error(err);
  process.exit(err instanceof InputError ? 2 : 1);
});
