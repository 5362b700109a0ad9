/**
 * Scores a saved model or ensemble on any collection of Cu K-edge spectra, next to the mean-spectrum
 * and kNN baselines fitted on a given training set.
 *
 *   npm run evaluate -- --model DIR --data PATH [--train PATH] [options]
 *
 *   --model DIR   model folder (xanes-model.json) or ensemble folder (member-<k> sub-folders); repeatable (members pooled)
 *   --data PATH   what to score: a FEFF root (<material>/POSCAR + <material>/<idx>_Cu/xmu.dat), one
 *                 material folder, a dataset folder (dataset.json, from build-dataset), or a split
 *                 file (.txt lines <material>_<site>, runs looked up under --root)
 *   --train PATH  the same kinds: the rows the mean spectrum and kNN are fitted on (omit: MLP only)
 *   --root DIR    FEFF root(s) for split files (repeatable; default <shared data>/feff-cu-k-oxides)
 *   --k 5         kNN neighbours (distance-weighted; no validation rows here to choose k on)
 *   --calibrate-on PATH  the same kinds: rows (never the scored ones) to calibrate the ensemble's band on,
 *                 instead of the calibration saved with the model
 *   --calibration nll|coverage  how: Gaussian likelihood (default) or 1σ and 2σ coverages closest
 *                 to nominal (smallest worst deviation; lib/eval/uncertainty.ts)
 *   --out FILE    JSON report (default results/evaluate.json)
 *
 * Spectra are processed as the model's metadata says: "omnixas" models with the OmniXAS processing
 * (lib/data/omnixas.ts), others on their saved mesh with their saved normalisation. Scores: eta
 * (against the training mean, when --train is given), mean and median per-spectrum MSE, Pearson
 * fractions; with a band the model records (an ensemble's members, or a single net's Monte Carlo
 * dropout samples; lib/model/band.ts) and its calibration, its 1σ/2σ coverage.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { scriptUsage } from "./usage";
import { resultsDir, sharedDataDir } from "../lib/config";
import { buildDataset, Dataset } from "../lib/data/dataset";
import { collectFeffFolders } from "../lib/data/feff";
import { loadDataset } from "../lib/data/store";
import { etaScore, OMNIXAS_MESH, omnixasSource, readSplitFile, splitLineId } from "../lib/data/omnixas";
import { EnergyMesh, NORMALISATIONS, Normalisation } from "../lib/spectra/mesh";
import { initBackend } from "../lib/model/backend";
import { comparisonTable, evaluateModel, evaluationJson } from "../lib/eval/evaluation";
import { meanSpectrum } from "../lib/eval/baselines";
import { tileRow, type Matrix } from "../lib/util/matrix";
import { bandCoverage, calibrateBand, calibrateBandCoverage, calibratedSigma, ensembleMeanStd, uncertaintyReport } from "../lib/eval/uncertainty";
import { writeJsonFile } from "../lib/eval/report";
import { InputError, errorMessage } from "../lib/util/errors";
import { energyMeshOf } from "../lib/model/spectral";
import type { XanesPredictor } from "../lib/model/predictor";
import { fitKnnFixed, loadMlpEnsemble } from "./estimators";
import { bandRecord, predictDraws, type BandRecord } from "../lib/model/band";

interface Processing {
  omnixas: boolean;
  mesh: EnergyMesh;
  normalisation: Normalisation;
}

function processingOf(members: readonly XanesPredictor[]): Processing {
  const meta = members[0].meta;
  const energy = members[0].energy;
  const spectral = members[0].spectral;
  for (const m of members) {
    if (m.energy.length !== energy.length || m.energy.some((e, i) => Math.abs(e - energy[i]) > 1e-6)) throw new InputError("--model: members have different energy meshes");
  }
  // Models saved by `npm run benchmark -- omnixas` record the OmniXAS processing (their intensity scale).
  if (meta.protocol === "omnixas") return { omnixas: true, mesh: OMNIXAS_MESH, normalisation: "none" };
  return { omnixas: false, mesh: energyMeshOf(spectral.mesh), normalisation: spectral.normalisation };
}

/** Spectra of PATH processed as the model expects. */
async function loadSpectra(p: string, proc: Processing, roots: readonly string[]): Promise<Dataset> {
  if (!fs.existsSync(p)) throw new InputError(`${p}: not found`);
  if (fs.statSync(p).isFile()) {
    const lines = readSplitFile(p);
    const materials = [...new Set(lines.map((l) => l.materialId))].sort();
    const ds = await build(roots, proc, materials, p);
    const want = new Set(lines.map((l) => l.id));
    const keep = ds.meta.map((m, i) => [splitLineId(m.materialId, m.site), i] as const).filter(([id]) => want.has(id)).map(([, i]) => i);
    console.log(`${p}: ${keep.length} of ${lines.length} lines found under ${roots.join(", ")}`);
    return subset(ds, keep);
  }
  if (fs.existsSync(path.join(p, "dataset.json"))) {
    const ds = loadDataset(p);
    const e = ds.energy;
    const m = proc.mesh;
    if (e.length !== m.points || Math.abs(e[0] - m.start) > 1e-6 || Math.abs(e[e.length - 1] - (m.start + (m.points - 1) * m.step)) > 1e-6) {
      throw new InputError(`${p}: dataset mesh ${e[0]}–${e[e.length - 1]} eV (${e.length} points) is not the model's (${m.start}, step ${m.step}, ${m.points} points)`);
    }
    if (!proc.omnixas && ds.config.normalisation !== proc.normalisation) throw new InputError(`${p}: dataset normalisation ${ds.config.normalisation}, model ${proc.normalisation}`);
    if (proc.omnixas && ds.config.normalisation !== "none") throw new InputError(`${p}: an omnixas model needs absolute intensities, the dataset is normalised (${ds.config.normalisation})`);
    return ds;
  }
  return build([p], proc, undefined, p);
}

async function build(roots: readonly string[], proc: Processing, materialIds: string[] | undefined, label: string): Promise<Dataset> {
  const sources = proc.omnixas ? omnixasSource(roots, materialIds) : roots.map((r) => collectFeffFolders(r, materialIds ? { materialIds } : {}));
  const ds = await buildDataset({
    name: path.basename(label),
    sourceLabel: label,
    sources,
    mesh: proc.mesh,
    normalisation: proc.normalisation,
    outOfWindow: proc.omnixas ? "clamp" : "drop",
    filters: { elements: ["Cu"] },
  });
  const q = ds.config.quality;
  if (q.dropped.length) console.log(`${label}: ${q.dropped.length} spectra not usable ${JSON.stringify(q.droppedByReason)}`);
  return ds;
}

function subset(ds: Dataset, rows: readonly number[]): Dataset {
  const M = ds.energy.length;
  const spectra = new Float32Array(rows.length * M);
  rows.forEach((r, i) => spectra.set(ds.spectra.subarray(r * M, (r + 1) * M), i * M));
  return { ...ds, spectra, meta: rows.map((r) => ds.meta[r]) };
}

/** Features of every row with the model's featurizer; rows it rejects are reported and left out. */
function features(ds: Dataset, member: XanesPredictor, label: string): { X: Matrix; Y: Matrix; n: number } {
  const d = member.featurizer.length;
  const M = ds.energy.length;
  const X = new Float32Array(ds.meta.length * d);
  const Y = new Float32Array(ds.meta.length * M);
  let n = 0;
  const errors: string[] = [];
  ds.meta.forEach((m, i) => {
    try {
      member.featurizer.featurizeSite(ds.structures.get(m.materialId)!, m.site, X, n * d);
      Y.set(ds.spectra.subarray(i * M, (i + 1) * M), n * M);
      n++;
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      errors.push(e.message);
    }
  });
  if (errors.length) console.log(`${label}: ${errors.length} sites could not be featurised (left out), e.g. ${errors[0]}`);
  return { X: { data: X.slice(0, n * d), rows: n, cols: d }, Y: { data: Y.slice(0, n * M), rows: n, cols: M }, n };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: "string", multiple: true },
      data: { type: "string" },
      train: { type: "string" },
      root: { type: "string", multiple: true },
      k: { type: "string", default: "5" },
      "calibrate-on": { type: "string" },
      calibration: { type: "string", default: "nll" },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || !values.model || !values.data) {
    console.log(scriptUsage(__filename));
    if (!values.help) process.exitCode = 1;
    return;
  }
  const k = Number(values.k);
  if (!(Number.isInteger(k) && k >= 1)) throw new InputError(`--k ${values.k}: expected a positive integer`);
  const roots = values.root ?? [path.join(sharedDataDir(), "feff-cu-k-oxides")];
  await initBackend();
  const members: XanesPredictor[] = [];
  for (const dir of values.model) members.push(...(await loadMlpEnsemble(dir)));
  const proc = processingOf(members);
  const test = await loadSpectra(values.data, proc, roots);
  const M = test.energy.length;
  const t = features(test, members[0], values.data);
  if (t.n === 0) throw new InputError(`${values.data}: no spectrum to score`);
  // Members, or the recorded dropout samples of a single net (lib/model/band): the same band as predict/screen.
  let band: BandRecord | null;
  try {
    band = bandRecord(members[0].meta);
  } catch (e) {
    throw new InputError(`${values.model[0]}: ${errorMessage(e)}`);
  }
  const drawn = predictDraws(members, t.X);
  const ens = { mean: drawn.mean, std: drawn.draws.length > 1 ? ensembleMeanStd(drawn.draws).std : null };
  const asRows = (data: Float32Array): Matrix => ({ data, rows: t.n, cols: M });
  const models = [evaluateModel(members.length > 1 ? `MLP ensemble of ${members.length}` : "MLP", asRows(ens.mean), t.Y, test.energy)];
  const report: Record<string, unknown> = { models: values.model, data: values.data, train: values.train ?? null, n: t.n, processing: proc, members: members.length };
  if (values.train) {
    const tr = await loadSpectra(values.train, proc, roots);
    const f = features(tr, members[0], values.train);
    const mean = meanSpectrum(f.Y, Array.from({ length: f.n }, (_, i) => i));
    const knn = await fitKnnFixed(f.X, f.Y, k);
    models.push(evaluateModel(`kNN (k=${k}, distance)`, asRows(knn.predict(t.X)), t.Y, test.energy));
    models.push(evaluateModel("mean training spectrum", tileRow(mean, t.n), t.Y, test.energy));
    const etas = Object.fromEntries(models.map((m) => [m.name, etaScore(m.pred.data, t.Y.data, mean)]));
    report.eta = etas;
    report.trainRows = f.n;
    for (const [name, e] of Object.entries(etas)) console.log(`eta ${name}: ${e.eta.toFixed(3)} (n ${e.n})`);
  }
  console.log(comparisonTable(models));
  report.comparison = models.map(evaluationJson);
  let cal: { scale: number; floor: number } | null = band && { scale: band.scale, floor: band.floor };
  if (values.calibration !== "nll" && values.calibration !== "coverage") throw new InputError(`--calibration ${values.calibration}: expected nll or coverage`);
  if (values["calibrate-on"] && ens.std) {
    const cd = await loadSpectra(values["calibrate-on"], proc, roots);
    const c = features(cd, members[0], values["calibrate-on"]);
    const cDrawn = predictDraws(members, c.X);
    const ce = { mean: cDrawn.mean, std: ensembleMeanStd(cDrawn.draws).std };
    const fit = values.calibration === "coverage" ? calibrateBandCoverage : calibrateBand;
    const fitted = fit(ce.mean, ce.std, c.Y.data);
    cal = { scale: fitted.scale, floor: fitted.floor };
    const sv = calibratedSigma(ce.std, cal);
    report.calibration = { on: values["calibrate-on"], method: values.calibration, n: c.n, ...fitted, coverage1: bandCoverage(ce.mean, sv, c.Y.data, 1), coverage2: bandCoverage(ce.mean, sv, c.Y.data, 2) };
    console.log(`band calibrated on ${values["calibrate-on"]} (${values.calibration}, n ${c.n}): scale ${fitted.scale.toFixed(3)}, floor ${fitted.floor.toExponential(2)}`);
  }
  if (ens.std && cal) {
    const sigma = calibratedSigma(ens.std, cal);
    const u = uncertaintyReport(ens.mean, sigma, t.Y.data, M);
    report.uncertainty = { calibration: cal, spread: band?.spread ?? "seed ensemble", draws: drawn.draws.length, ...u };
    console.log(`band (calibrated scale ${cal.scale.toFixed(2)}, floor ${cal.floor.toExponential(2)}): inside 1σ ${(100 * bandCoverage(ens.mean, sigma, t.Y.data, 1)).toFixed(1)} %, 2σ ${(100 * u.coverage2).toFixed(1)} %, Spearman(uncertainty, RMSE) ${u.spearmanUncertaintyError.toFixed(3)}`);
  }
  const out = values.out ?? path.join(resultsDir(), "evaluate.json");
  writeJsonFile(out, report);
  console.log(`wrote ${out}`);
  members.forEach((m) => m.dispose());
}

main().catch((err) => {
  console.error(err instanceof InputError ? `error: ${err.message}` : err instanceof Error ? err.stack ?? err.message : errorMessage(err));
  process.exit(1);
});
