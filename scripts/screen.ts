/**
 * Rank candidate structures against a target spectrum with a trained model (or ensemble).
 *
 *   npm run screen -- --target spectrum.dat --candidates structures/ --model results/model
 *   npm run screen -- --dataset data/datasets/cu --target-row 17 --candidates-split test --model results/ensemble
 *   npm run screen -- --target exp.csv --base CuO.cif --substitute O:S,Se --strain=-0.02,0.02 --vacancy 0 --model m/
 *
 * Target:      --target FILE (two columns: energy eV, intensity; # comments; any common delimiter)
 *              [--column N  intensity column, 1-based, default 2] [--kind material|site, default material]
 *              or --dataset DIR --target-row N (a dataset spectrum; kind from its site)
 * Candidates:  --candidates DIR|FILE (repeatable; structure files or <name>/POSCAR folders)
 *              --candidates-list FILE (one structure file path per line; # comments)
 *              --candidates-split train|test|val (with --dataset; grouped-by-material split)
 *              --base FILE with generated variants: --substitute FROM:TO1,TO2  --strain=S1,S2 (fractions)
 *                [--uniaxial false]  --vacancy SITE [--vacancy-element O]
 * Model:       --model DIR (a saved predictor, or a folder of them = ensemble; repeatable)
 * Scoring:     --metric cosine|pearson|mse|spearman (default cosine)  --window EV (shift search ±EV,
 *              default 5; 0 = none)  --element Cu (default: the model's absorber)
 *              --normalisation max|area|edge-step|none (default: the model's)
 * Output:      --top N (rows printed, default 20)  --out DIR (ranking.csv, ranking.json, overlay.html)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../lib/util/errors";
import { initBackend } from "../lib/model/backend";
import type { XanesPredictor } from "../lib/model/predictor";
import { loadEnsemble } from "../lib/model/ensemble";
import { energyMeshOf } from "../lib/model/spectral";
import { loadDataset } from "../lib/data/store";
import { recordsToCsv } from "../lib/util/csv";
import { NORMALISATIONS, Normalisation } from "../lib/spectra/mesh";
import { writeFigureHtml } from "../lib/plots/figure";
import {
  Candidate,
  RANKING_COLUMNS,
  ScreeningMetric,
  TargetSpectrum,
  candidatesFromDataset,
  candidatesFromFiles,
  ensemblePredictor,
  formatRankingTable,
  listStructureFiles,
  prepareTarget,
  rankingRecords,
  readTargetFile,
  screenCandidates,
  screeningOverlayFigure,
  strainCandidates,
  substitutionCandidates,
  targetFromDataset,
  vacancyCandidates,
} from "../lib/screening";

type Args = Map<string, string[]>;

function parseArgs(argv: string[]): Args {
  const out: Args = new Map();
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (!a.startsWith("--")) throw new InputError(`unexpected argument "${a}" (options start with --)`);
    let value: string;
    const eq = a.indexOf("=");
    if (eq > 0) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) value = "true";
      else {
        value = next;
        i++;
      }
    }
    const key = a.slice(2);
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

const KNOWN = [
  "target", "column", "kind", "dataset", "target-row", "candidates", "candidates-list", "candidates-split", "base", "substitute", "strain",
  "uniaxial", "vacancy", "vacancy-element", "model", "metric", "window", "element", "normalisation", "top", "out", "help",
];

function one(args: Args, key: string): string | undefined {
  const v = args.get(key);
  if (v && v.length > 1) throw new InputError(`--${key} given ${v.length} times`);
  return v?.[0];
}

function num(args: Args, key: string, dflt: number): number {
  const v = one(args, key);
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new InputError(`--${key}: "${v}" is not a number`);
  return x;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.has("help") || args.size === 0) {
    const src = fs.readFileSync(__filename, "utf8");
    console.log(src.slice(src.indexOf("/**") + 3, src.indexOf("*/")).replace(/^ \* ?/gm, "").trim());
    return;
  }
  for (const k of args.keys()) if (!KNOWN.includes(k)) throw new InputError(`unknown option --${k} (see --help)`);

  // Model(s)
  const modelDirs = args.get("model");
  if (!modelDirs) throw new InputError("--model DIR is required (a saved predictor, e.g. results/model, or a folder of ensemble members)");
  const backend = await initBackend();
  const members: XanesPredictor[] = [];
  for (const d of modelDirs) members.push(...(await loadEnsemble(d)));
  const predictor = ensemblePredictor(members);
  // The model's spectral contract says mesh, element and normalisation; nothing is guessed.
  const meta = { normalisation: members[0].spectral.normalisation };
  const absorber = members[0].spectral.mesh.element;
  const element = one(args, "element") ?? absorber;
  if (!element) throw new InputError("--element is required: the model does not record its absorbing element");
  const givenNorm = one(args, "normalisation");
  const normalisation = (givenNorm ?? meta.normalisation) as Normalisation;
  if (!NORMALISATIONS.includes(normalisation)) {
    throw new InputError(
      givenNorm !== undefined
        ? `--normalisation must be ${NORMALISATIONS.join(", ")}; got "${givenNorm}"`
        : `--normalisation ${NORMALISATIONS.join("|")} is required: the model records ${JSON.stringify(meta.normalisation)}`,
    );
  }
  const mesh = energyMeshOf(members[0].spectral.mesh);

  // Target
  const datasetDir = one(args, "dataset");
  const ds = datasetDir ? loadDataset(datasetDir) : undefined;
  let target: TargetSpectrum;
  const targetFile = one(args, "target");
  const targetRow = one(args, "target-row");
  if (targetFile && targetRow) throw new InputError("give --target FILE or --target-row N, not both");
  if (targetFile) {
    const kind = one(args, "kind") ?? "material";
    if (kind !== "site" && kind !== "material") throw new InputError(`--kind must be site or material, got "${kind}"`);
    target = readTargetFile(targetFile, { intensityColumn: num(args, "column", 2) - 1, kind });
  } else if (targetRow !== undefined) {
    if (!ds) throw new InputError("--target-row needs --dataset DIR");
    target = targetFromDataset(ds, num(args, "target-row", 0));
  } else throw new InputError("--target FILE (or --dataset DIR --target-row N) is required");
  const metric = (one(args, "metric") ?? "cosine") as ScreeningMetric;
  if (!["cosine", "pearson", "mse", "spearman"].includes(metric)) throw new InputError(`--metric must be cosine, pearson, mse or spearman, got "${metric}"`);
  const prepared = prepareTarget(target, mesh, { normalisation, window: num(args, "window", 5) });

  // Candidates
  const candidates: Candidate[] = [];
  const skippedFiles: { file: string; reason: string }[] = [];
  // All files in one call so ids stay unique across folders.
  const files = (args.get("candidates") ?? []).flatMap((c) => (fs.statSync(c, { throwIfNoEntry: false })?.isDirectory() ? listStructureFiles(c) : [c]));
  for (const list of args.get("candidates-list") ?? []) {
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
  const split = one(args, "candidates-split");
  if (split) {
    if (!ds) throw new InputError("--candidates-split needs --dataset DIR");
    const rows = (ds.splits.grouped as unknown as Record<string, number[]>)[split];
    if (!rows) throw new InputError(`--candidates-split must be train, val or test, got "${split}"`);
    candidates.push(...candidatesFromDataset(ds, rows));
  }
  const baseFile = one(args, "base");
  if (baseFile) {
    const baseLoad = candidatesFromFiles([baseFile]);
    if (baseLoad.skipped.length) throw new InputError(baseLoad.skipped[0].reason);
    const base: Candidate = { ...baseLoad.candidates[0], origin: "base" };
    candidates.push(base);
    for (const spec of args.get("substitute") ?? []) {
      const m = /^([A-Z][a-z]?):([A-Za-z,]+)$/.exec(spec);
      if (!m) throw new InputError(`--substitute "${spec}": expected FROM:TO1,TO2 (e.g. O:S,Se)`);
      candidates.push(...substitutionCandidates(base, m[1], m[2].split(",")));
    }
    const strain = one(args, "strain");
    if (strain) {
      const steps = strain.split(",").map(Number);
      if (steps.some((x) => !Number.isFinite(x))) throw new InputError(`--strain "${strain}": expected comma-separated fractions, e.g. -0.02,0.02`);
      candidates.push(...strainCandidates(base, steps, { uniaxial: one(args, "uniaxial") !== "false" }));
    }
    for (const v of args.get("vacancy") ?? []) {
      candidates.push(...vacancyCandidates(base, Number(v), { element: one(args, "vacancy-element") }));
    }
  } else if (args.has("substitute") || args.has("strain") || args.has("vacancy")) {
    throw new InputError("--substitute/--strain/--vacancy generate variants of --base FILE; give --base");
  }
  if (candidates.length === 0) throw new InputError("no candidates: give --candidates DIR|FILE, --candidates-split (with --dataset) or --base FILE");

  console.log(
    `target ${target.source} (${target.kind}, ${target.energy.length} points, ${target.energy[0]}–${target.energy[target.energy.length - 1]} eV, ` +
      `${(prepared.coverage * 100).toFixed(0)}% of the mesh covered); ${candidates.length} candidates; ` +
      `model: ${members.length} member(s), ${mesh.points}-point mesh ${mesh.start}–${predictor.energy[mesh.points - 1]} eV, ${normalisation} normalisation, ${backend.name} backend`,
  );
  const t0 = performance.now();
  const res = await screenCandidates(prepared, candidates, predictor, { element, metric });
  const secs = (performance.now() - t0) / 1000;
  console.log(formatRankingTable(res, num(args, "top", 20)));
  console.log(
    `${res.rows.length} ranked, ${res.sitesPredicted} sites in ${secs.toFixed(2)} s ` +
      `(predict ${(res.predictMs / 1000).toFixed(2)} s, score ${(res.scoreMs / 1000).toFixed(2)} s; ${(res.sitesPredicted / secs).toFixed(0)} sites/s)`,
  );
  for (const s of skippedFiles) console.log(`skipped file ${s.file}: ${s.reason}`);
  for (const s of res.skipped) console.log(`skipped candidate ${s.id}: ${s.reason}`);

  const outDir = one(args, "out");
  if (outDir) {
    fs.mkdirSync(outDir, { recursive: true });
    const recs = rankingRecords(res);
    fs.writeFileSync(path.join(outDir, "ranking.csv"), recordsToCsv(recs, RANKING_COLUMNS));
    fs.writeFileSync(
      path.join(outDir, "ranking.json"),
      JSON.stringify({ target: target.source, kind: target.kind, metric, window: prepared.window, members: members.length, rows: recs, skipped: [...skippedFiles, ...res.skipped] }, null, 1),
    );
    writeFigureHtml(screeningOverlayFigure(res, { top: 5 }), path.join(outDir, "overlay.html"), `screening ${target.source}`);
    console.log(`wrote ${path.join(outDir, "ranking.csv")}, ranking.json, overlay.html`);
  }
}

main().catch((err) => {
  // One clear line; the stack only with XANES_DEBUG=1.
  console.error(`screen: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.XANES_DEBUG) console.error(err);
  process.exit(err instanceof InputError ? 2 : 1);
});
