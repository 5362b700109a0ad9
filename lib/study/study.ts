/**
 * The study layer: a typed StudyConfig goes in, a StudyResult comes out with figures(), tables()
 * (markdown and danfojs) and toJSON() (metrics.json). `npm run reproduce` and notebooks 03–05 are thin
 * callers; every figure and table of the study is built here, once. The final run is cached in the
 * work dir keyed by the configuration, so a notebook reuses the model another notebook (or reproduce)
 * trained instead of training it again.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sharedDataDir, workDir } from "../config";
import { formatQualityReport, type Dataset } from "../data/dataset";
import { backendInfo } from "../model/backend";
import { MlpRegressor } from "../model/estimator";
import { loadPredictor, XanesPredictor } from "../model/predictor";
import { readPoscarFile } from "../structure/poscar";
import { formula as structureFormula } from "../structure/validate";
import { evaluateModel, evaluationJson, comparisonRow, COMPARISON_COLUMNS, type ModelEvaluation } from "../eval/evaluation";
import { errorBreakdown, rankExamples, type ErrorBreakdown, type GroupRow, type RowInfo } from "../eval/errors";
import { firstPeakPositions, mainPeakPosition } from "../eval/metrics";
import {
  groupBarFigure, histogramFigure, learningCurveFigure, metricComparisonFigure, parityFigure, shapeThresholdFigure, spectraOverlayFigure,
} from "../eval/figures";
import type { NamedFigure } from "../eval/report";
import { progress } from "../util/progress";
import { takeRows } from "../util/matrix";
import { errorMessage, InputError } from "../util/errors";
import { withFileLock, writeFileAtomic } from "../util/fs";
import { calibrateModelAlignment } from "../screening/standards";
import type { SpectralAlignment } from "../model/spectral";
import { toJsonText } from "../eval/report";
import type { StudyConfig } from "./config";
import { buildStudyDataset, studySplit } from "./features";
import { featureRowSplit, featurizeDataset, type FeatureTable } from "../descriptors/table";
import { datasetSpectral } from "../model/spectral";
import { compareSplits, dropoutUncertainty, selectPatience, trainAndCompare, type FinalRun, type PatienceSelection, type SplitComparison } from "./final";
import { ablationBarFigure, ablationRowCells, ABLATION_COLUMNS, runAblation, type AblationResult } from "./ablation";
import { oxygenFigures, runOxygenStudy, type OxygenResult } from "./oxygen";
import { markdownTable, type StudyTable } from "./tables";
import { studyFindings } from "./findings";
import { formatMeanStd } from "./ablation";
import { defaultAblationLanes } from "./ablation-lane";
import type { Figure } from "../plots/figure";

export const STUDY_STAGES = ["final", "randomSplit", "ablation", "errors", "oxygen", "model"] as const;
export type StudyStage = (typeof STUDY_STAGES)[number];

export interface StudyOptions {
  /** Stages to run (dataset and features always run). Default: all. */
  stages?: readonly StudyStage[];
  log?: (s: string) => void;
  /** Where the "model" stage saves the predictor (default: not saved). */
  modelDir?: string;
  /** A structure outside the dataset that the saved, reloaded predictor predicts (model stage). */
  unseenStructure?: string;
  /**
   * The final run under <work dir>/study-cache/<key>/: "use" (default) reuses a cached run and caches
   * a new one; "refresh" always trains and caches (reproduce); "off" neither reads nor writes.
   */
  cache?: "use" | "refresh" | "off";
}

export interface UnseenPrediction {
  file: string;
  formula: string;
  formulaInDataset: boolean;
  sites: number;
  predicted: number;
  meshPoints: number;
  skipped: { site: number; reason: string }[];
  allFinite: boolean;
  mainPeakEv: number[];
  reloadedVsInMemoryMaxDiff: number;
  mu: Float32Array[];
}

/** Seconds per stage, in the order they ran. */
export type StageTimes = Record<string, number>;

export async function runStudy(cfg: StudyConfig, opts: StudyOptions = {}): Promise<StudyResult> {
  const log = opts.log ?? (() => {});
  const stages = new Set(opts.stages ?? STUDY_STAGES);
  const times: StageTimes = {};
  const t00 = performance.now();
  const timed = async <T>(name: string, f: () => Promise<T> | T): Promise<T> => {
    const t = performance.now();
    const out = await f();
    times[name] = (performance.now() - t) / 1000;
    return out;
  };
  const ds = await timed("dataset", () => buildStudyDataset(cfg, log));
  const table = await timed("featurise", () => {
    const p = progress("featurise", ds.meta.length, { unit: "sites" });
    const t = featurizeDataset(ds, cfg.descriptors, cfg.dataset.element, (d) => p.update(d));
    p.done(t.errors.length ? `${t.errors.length} skipped` : undefined);
    for (const e of t.errors.slice(0, 10)) log(`  skipped row ${e.row}: ${e.message}`);
    log(`features: ${t.X.rows} × ${t.X.cols} (${t.blocks.map((b) => `${b.name} ${b.length}`).join(", ")})`);
    return t;
  });
  const r = new StudyResult(cfg, ds, table, times);
  const needFinal = stages.has("final") || stages.has("errors") || stages.has("model") || stages.has("randomSplit");
  if (needFinal) {
    r.final = await timed("final", () => finalRun(cfg, ds, table, opts.cache ?? "use", log));
    r.patience = selectPatience(r.final, cfg.final.patienceCandidates, cfg);
    log(`test split: ${r.final.split.test.length} spectra (train ${r.final.split.train.length}, val ${r.final.split.val.length}); ` +
      `patience on validation only → ${r.patience.picked} (configured ${r.patience.configured}, best epoch ${r.final.training.bestEpoch})`);
  }
  if (stages.has("randomSplit")) {
    r.random = await timed("randomSplit", async () => {
      const p = progress("final MLP, random split", cfg.final.mlp.epochs, { unit: "epochs" });
      const run = await trainAndCompare(table, ds.energy, cfg, featureRowSplit(ds.splits.random, table), { onEpoch: (e) => p.update(e.epoch), uncertainty: false });
      p.done(`best epoch ${run.training.bestEpoch}`);
      run.mlp.dispose();
      return run;
    });
    r.splitComparison = compareSplits(r.final!, r.random, table.groups);
  }
  if (stages.has("ablation")) {
    r.ablation = await timed("ablation", async () => {
      const p = progress("ablation", (2 * table.blocks.length + 1) * cfg.ablation.seeds.length, { unit: "runs" });
      const a = await runAblation({
        X: table.X, Y: table.Y, blocks: table.blocks, energy: ds.energy, groups: table.groups, seeds: cfg.ablation.seeds, fractions: cfg.split.fractions,
        estimator: (seed) => new MlpRegressor({ ...cfg.ablation.mlp, seed }),
        onProgress: (done) => p.update(done),
        lanes: { count: cfg.ablation.lanes === "auto" ? defaultAblationLanes() : cfg.ablation.lanes, mlp: cfg.ablation.mlp },
      });
      p.done(`${a.lanes} lane(s)`);
      return a;
    });
  }
  if (stages.has("errors")) {
    r.errors = await timed("errors", () => {
      const rows: RowInfo[] = r.final!.split.test.map((i) => ds.meta[table.rows[i]]);
      return { breakdown: errorBreakdown(r.final!.models.mlp.metrics.mse, rows, ds.structures, "mse"), ranked: rankExamples(r.final!.models.mlp.metrics.mse, 3) };
    });
  }
  if (stages.has("oxygen")) r.oxygen = await timed("oxygen", () => runOxygenStudy(cfg, log));
  if (stages.has("model") && opts.modelDir) {
    r.unseen = await timed("model", async () => {
      const unseen = await saveAndPredict(r, opts.modelDir!, opts.unseenStructure, log);
      r.alignment = await alignSavedModel(opts.modelDir!, log);
      return unseen;
    });
  }
  times.total = (performance.now() - t00) / 1000;
  return r;
}

/**
 * Hash of everything that determines the final run: the configuration parts it reads, the backend,
 * and the source of the code that trains and evaluates it (lib/model, lib/eval/baselines), so a
 * changed training loop never reuses a stale run.
 */
export function finalRunKey(cfg: StudyConfig): string {
  const b = backendInfo();
  const h = crypto.createHash("sha256");
  h.update(JSON.stringify({ dataset: cfg.dataset, descriptors: cfg.descriptors, split: cfg.split, final: cfg.final, knn: cfg.knn, backend: b?.name ?? null, format: 1 }));
  const modelDir = path.join(__dirname, "..", "model");
  const code = [...fs.readdirSync(modelDir).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith(".d.ts")).map((f) => path.join(modelDir, f))];
  for (const ext of [".js", ".ts"]) {
    const f = path.join(__dirname, "..", "eval", `baselines${ext}`);
    if (fs.existsSync(f)) code.push(f);
  }
  for (const f of code.sort()) h.update(fs.readFileSync(f));
  return h.digest("hex").slice(0, 16);
}

/** The final run, from the cache when a run with the same configuration was saved, else trained and cached. */
async function finalRun(cfg: StudyConfig, ds: Dataset, table: FeatureTable, cache: "use" | "refresh" | "off", log: (s: string) => void): Promise<FinalRun> {
  const dir = path.join(workDir(), "study-cache", finalRunKey(cfg));
  const split = studySplit(table.groups, cfg);
  if (cache === "use" && fs.existsSync(path.join(dir, "final.json"))) {
    try {
      const run = await loadFinalRun(dir, table, ds.energy, split, cfg);
      log(`final run: reused the cached run in ${dir}`);
      return run;
    } catch (e) {
      log(`final run: cache in ${dir} unusable (${errorMessage(e)}); training again`);
    }
  }
  if (cache === "off") return trainFinalRun(cfg, ds, table, split, dir, cache, log);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  // Two notebooks (or a notebook and reproduce) started together: one trains, the other waits for its cache.
  return withFileLock(`${dir}.lock`, () => trainFinalRun(cfg, ds, table, split, dir, cache, log), {
    ready: () => cache === "use" && fs.existsSync(path.join(dir, "final.json")),
    whenReady: async () => {
      log(`final run: reused the run cached meanwhile in ${dir}`);
      return loadFinalRun(dir, table, ds.energy, split, cfg);
    },
    log,
  });
}

async function trainFinalRun(cfg: StudyConfig, ds: Dataset, table: FeatureTable, split: FinalRun["split"], dir: string, cache: "use" | "refresh" | "off", log: (s: string) => void): Promise<FinalRun> {
  const p = progress("final MLP", cfg.final.mlp.epochs, { unit: "epochs" });
  const run = await trainAndCompare(table, ds.energy, cfg, split, {
    onEpoch: (e) => p.update(e.epoch),
    recordUntilPatience: Math.max(cfg.final.mlp.patience, ...cfg.final.patienceCandidates),
  });
  p.done(`best epoch ${run.training.bestEpoch}, ${Math.round(run.training.timing.samplesPerSec)} samples/s`);
  if (cache !== "off") {
    try {
      await new XanesPredictor(run.mlp.fitted(), table.featurizer, datasetSpectral(ds, cfg.dataset.element, cfg.dataset.edge)).save(path.join(dir, "model"));
      const state = { split, training: run.training, knn: run.knn, seconds: run.seconds, names: { knn: run.models.knn.name }, pred: { knn: run.models.knn.pred, mean: run.models.mean.pred } };
      writeFileAtomic(path.join(dir, "final.json"), toJsonText(state, 0));
    } catch (e) {
      log(`note: could not cache the final run in ${dir}: ${errorMessage(e)}`);
    }
  }
  return run;
}

async function loadFinalRun(dir: string, table: FeatureTable, energy: ArrayLike<number>, split: FinalRun["split"], cfg: StudyConfig): Promise<FinalRun> {
  const s = JSON.parse(fs.readFileSync(path.join(dir, "final.json"), "utf8"));
  if (JSON.stringify(s.split) !== JSON.stringify(split)) throw new Error("its split differs from this feature table's");
  const predictor = await loadPredictor(path.join(dir, "model"), { featurizer: table.featurizer });
  const mlp = MlpRegressor.of(predictor.model);
  mlp.training = s.training;
  const truth = takeRows(table.Y, split.test);
  const m = (v: { data: number[]; rows: number; cols: number }) => ({ data: Float32Array.from(v.data), rows: v.rows, cols: v.cols });
  const mlpPred = mlp.predict(takeRows(table.X, split.test));
  return {
    split, mlp, training: s.training, truth, knn: s.knn, seconds: s.seconds,
    // Seeded dropout samples of the same weights: the same band as when the run was trained.
    uncertainty: dropoutUncertainty(mlp, table.X, table.Y, split, mlpPred, cfg.final.uncertainty),
    models: {
      mlp: evaluateModel("MLP", mlpPred, truth, energy),
      mean: evaluateModel("mean training spectrum", m(s.pred.mean), truth, energy),
      knn: evaluateModel(s.names.knn, m(s.pred.knn), truth, energy),
    },
  };
}

/** Saves the final predictor, reloads it and predicts every absorbing site of a structure outside the dataset. */
/**
 * The FEFF-vs-experiment energy offset of the saved model, calibrated on the measured standards of its
 * element and edge (lib/screening/standards) and stored in its spectral contract, so a measured
 * spectrum can be screened with it directly. Without standards (another element, no xaslib) it is
 * reported and left null.
 */
async function alignSavedModel(dir: string, log: (s: string) => void): Promise<SpectralAlignment | null> {
  try {
    const a = await calibrateModelAlignment(dir);
    log(`energy alignment stored in ${dir}: ${a.report.split("\n").join("; ")}`);
    return a.alignment;
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    log(`note: no energy alignment stored with the model: ${e.message}`);
    return null;
  }
}

async function saveAndPredict(r: StudyResult, dir: string, unseen: string | undefined, log: (s: string) => void): Promise<UnseenPrediction | null> {
  const { cfg, dataset: ds, features: table, final } = r;
  const predictor = new XanesPredictor(final!.mlp.fitted(), table.featurizer, datasetSpectral(ds, cfg.dataset.element, cfg.dataset.edge), {
    dataset: ds.config.name,
    trainedOn: { spectra: final!.split.train.length, split: "grouped by material", seed: cfg.final.mlp.seed },
    // The band predictions carry (lib/model/band): dropout samples, calibrated on the validation rows.
    uncertainty: final!.uncertainty && {
      spread: "monte-carlo dropout",
      samples: final!.uncertainty.samples,
      seed: final!.uncertainty.seed,
      scale: final!.uncertainty.chosen.calibration.scale,
      floor: final!.uncertainty.chosen.calibration.floor,
      method: final!.uncertainty.chosen.method,
      calibratedOn: `validation rows of the grouped split (${final!.split.val.length} spectra)`,
    },
  });
  await predictor.save(dir);
  if (!unseen || !fs.existsSync(unseen)) return null;
  // Through the saved files, as `predict` would: reload the predictor, then predict every absorbing site.
  const loaded = await loadPredictor(dir);
  try {
    const s = readPoscarFile(unseen);
    const sites = s.species.flatMap((sp, i) => (sp === cfg.dataset.element ? [i] : []));
    const p = loaded.predictSites(s, sites);
    const inMemory = predictor.predictSites(s, sites);
    let maxDiff = 0;
    p.spectra.forEach((sp, k) => sp.mu.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - inMemory.spectra[k].mu[j])))));
    const formula = structureFormula(s, { reduced: true });
    const out: UnseenPrediction = {
      file: path.basename(path.dirname(unseen)) + "/" + path.basename(unseen),
      formula,
      formulaInDataset: ds.meta.some((m) => m.formula === formula),
      sites: sites.length,
      predicted: p.spectra.length,
      meshPoints: p.spectra[0]?.mu.length ?? 0,
      skipped: p.skipped,
      allFinite: p.spectra.every((sp) => sp.mu.every(Number.isFinite)),
      mainPeakEv: p.spectra.map((sp) => mainPeakPosition(sp.mu, ds.energy, ds.energy.length)),
      reloadedVsInMemoryMaxDiff: maxDiff,
      mu: p.spectra.map((sp) => sp.mu),
    };
    log(`predicted ${out.predicted} ${cfg.dataset.element} spectra for ${out.file} (${formula}) with the reloaded model; max |reloaded − in-memory| ${maxDiff.toExponential(1)}`);
    return out;
  } finally {
    loaded.dispose();
  }
}

/** What a study computed; parts are present for the stages that ran. */
export class StudyResult {
  final?: FinalRun;
  patience?: PatienceSelection;
  random?: FinalRun;
  splitComparison?: SplitComparison;
  ablation?: AblationResult;
  errors?: { breakdown: ErrorBreakdown; ranked: { best: number[]; median: number[]; worst: number[] } };
  oxygen?: OxygenResult;
  unseen?: UnseenPrediction | null;
  /** The saved model's FEFF-vs-experiment offset (null: no standards for its element and edge). */
  alignment?: SpectralAlignment | null;

  constructor(readonly cfg: StudyConfig, readonly dataset: Dataset, readonly features: FeatureTable, readonly times: StageTimes) {}

  /** The three final models, MLP first. */
  get models(): ModelEvaluation[] {
    const f = this.final;
    return f ? [f.models.mlp, f.models.knn, f.models.mean] : [];
  }

  /** Dataset metadata of test row r of the final split. */
  testMeta(r: number) {
    return this.dataset.meta[this.features.rows[this.final!.split.test[r]]];
  }

  /** MLP test MSE relative to each baseline. */
  beats() {
    const { mlp, knn, mean } = this.final!.models;
    const m = mlp.summary.mse.mean;
    return { mean: m < mean.summary.mse.mean, knn: m < knn.summary.mse.mean, mseRatioToKnn: m / knn.summary.mse.mean, mseRatioToMean: m / mean.summary.mse.mean };
  }

  /** Best, median and worst MLP test spectra (by MSE) with their labels. */
  examples(): { rows: number[]; labels: string[] } {
    const { ranked } = this.errors!;
    const mse = this.final!.models.mlp.metrics.mse;
    const pearson = this.final!.models.mlp.metrics.pearson;
    const label = (r: number, kind: string) => {
      const m = this.testMeta(r);
      return `${kind}: ${m.formula} ${m.materialId} site ${m.site}<br>MSE ${mse[r].toExponential(2)}, r ${pearson[r].toFixed(3)}`;
    };
    const kinds = [["best", ranked.best], ["median", ranked.median], ["worst", ranked.worst]] as const;
    return { rows: kinds.flatMap(([, rows]) => rows), labels: kinds.flatMap(([k, rows]) => rows.map((r) => label(r, k))) };
  }

  /** Every figure of the study, named as in results/figures. */
  figures(): NamedFigure[] {
    const out: NamedFigure[] = [];
    const energy = this.dataset.energy;
    if (this.ablation) {
      out.push({ name: "ablation-mse", fig: ablationBarFigure(this.ablation, "mse") }, { name: "ablation-pearson", fig: ablationBarFigure(this.ablation, "pearson") });
    }
    const f = this.final;
    if (f) {
      const models = this.models;
      out.push({ name: "learning-curve", fig: learningCurveFigure(f.training.history, f.training.bestEpoch, "Final MLP learning curve") });
      if (this.errors) {
        const ex = this.examples();
        out.push({ name: "examples-best-median-worst", fig: spectraOverlayFigure(energy, f.truth.data, f.models.mlp.pred.data, ex.rows, ex.labels, `MLP test spectra: best, median and worst by MSE${f.uncertainty ? ", with the calibrated ±2σ band" : ""}`, 3, f.uncertainty?.testSigma) });
      }
      out.push(
        { name: "mse-histogram", fig: metricComparisonFigure(models.map((m) => ({ name: m.name, values: m.metrics.mse })), "Test MSE per spectrum", "MSE", true) },
        { name: "pearson-histogram", fig: histogramFigure(f.models.mlp.metrics.pearson, "MLP: Pearson r per test spectrum", "Pearson r") },
        { name: "shape-thresholds", fig: shapeThresholdFigure(models.map((m) => ({ name: m.name, pearson: m.metrics.pearson, cosine: m.metrics.cosine }))) },
      );
      if (this.errors) {
        const b = this.errors.breakdown;
        const y = "mean MSE ± std";
        out.push(
          { name: "error-by-nelements", fig: groupBarFigure(b.byNelements, "MLP test MSE by number of elements", "elements in compound", y) },
          { name: "error-by-coordination", fig: groupBarFigure(b.byCoordination, `MLP test MSE by ${this.cfg.dataset.element} coordination number`, "first-shell CN", y) },
          { name: "error-by-shell-elements", fig: groupBarFigure(b.byShellElements, "MLP test MSE by first-shell elements", "first-shell elements", y) },
          { name: "error-by-co-element", fig: groupBarFigure(b.byCoElement, "MLP test MSE by other element in the compound", "element", y) },
        );
      }
      out.push(
        { name: "parity-main-peak", fig: parityFigure(f.models.mlp.metrics.peakTrue, f.models.mlp.metrics.peakPred, "MLP main-peak position", "peak energy (eV)") },
        {
          name: "parity-first-peak",
          fig: parityFigure(firstPeakPositions(f.truth.data, energy), firstPeakPositions(f.models.mlp.pred.data, energy), "MLP first prominent peak (prominence ≥ 5 % of range)", "peak energy (eV)"),
        },
        { name: "parity-main-peak-knn", fig: parityFigure(f.models.knn.metrics.peakTrue, f.models.knn.metrics.peakPred, "kNN main-peak position", "peak energy (eV)") },
      );
    }
    if (this.oxygen) out.push(...oxygenFigures(this.oxygen));
    return out;
  }

  /** Every table of the study (markdown via markdownTable, danfojs via tableDataFrame). */
  tables(): StudyTable[] {
    const out: StudyTable[] = [];
    const group = (name: string, title: string, key: string, rows: readonly GroupRow[]): StudyTable => ({
      name, title, columns: [key, "n", "mean", "median", "p90"], rows: rows.map((r) => [r.key, String(r.n), r.mean.toFixed(5), r.median.toFixed(5), r.p90.toFixed(5)]),
    });
    if (this.final) out.push({ name: "comparison", title: "Test set, grouped-by-material split", columns: COMPARISON_COLUMNS, rows: this.models.map(comparisonRow) });
    if (this.final) {
      const thr = ["0.8", "0.9", "0.95", "0.99"];
      out.push({
        name: "shape-thresholds", title: "Fraction of test spectra whose shape is reproduced, by threshold",
        columns: ["model", ...thr.map((t) => `Pearson ≥ ${t}`), ...thr.map((t) => `cosine ≥ ${t}`)],
        rows: this.models.map((m) => [m.name, ...thr.map((t) => m.shape.pearson[t].toFixed(3)), ...thr.map((t) => m.shape.cosine[t].toFixed(3))]),
      });
    }
    if (this.final?.uncertainty) {
      const u = this.final.uncertainty;
      const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
      out.push({
        name: "uncertainty", title: `MLP uncertainty band (${u.samples} Monte Carlo dropout samples, calibrated on validation by ${u.chosen.method})`,
        columns: ["rows", "inside ±1σ", "inside ±2σ", "Spearman(uncertainty, RMSE)", "mean uncertainty ÷ mean RMSE"],
        rows: [
          ["nominal", "68.3 %", "95.4 %", "", ""],
          ["validation (calibration)", pct(u.chosen.val.coverage1), pct(u.chosen.val.coverage2), "", ""],
          ["test, uncalibrated spread", pct(u.testUncalibrated.coverage1), pct(u.testUncalibrated.coverage2), "", ""],
          [`test (n = ${u.test.n})`, pct(u.test.coverage1), pct(u.test.coverage2), u.test.spearmanUncertaintyError.toFixed(3), u.test.meanUncertaintyOverRmse.toFixed(2)],
        ],
      });
    }
    if (this.random && this.final && this.splitComparison) {
      const kinds = [["mlp", "MLP"], ["knn", "kNN"], ["mean", "mean training spectrum"]] as const;
      const f = this.final, rnd = this.random, c = this.splitComparison.groupedOverRandomMse;
      out.push({
        name: "split-cost", title: "What grouping by material costs",
        columns: ["model", "mean MSE, grouped", "mean MSE, random", "grouped ÷ random", "Pearson ≥ 0.95, grouped", "Pearson ≥ 0.95, random"],
        rows: kinds.map(([k, label]) => [label, f.models[k].summary.mse.mean.toExponential(3), rnd.models[k].summary.mse.mean.toExponential(3), c[k].toFixed(2), f.models[k].shape.pearson["0.95"].toFixed(3), rnd.models[k].shape.pearson["0.95"].toFixed(3)]),
      });
    }
    if (this.random) {
      out.push({ name: "comparison-random", title: "Test set, random-by-spectrum split", columns: COMPARISON_COLUMNS, rows: [this.random.models.mlp, this.random.models.knn, this.random.models.mean].map(comparisonRow) });
    }
    if (this.patience) {
      out.push({
        name: "patience", title: "Early-stopping patience replayed from the final run's validation history", columns: ["patience", "stop epoch", "best epoch", "validation loss", "complete"],
        rows: this.patience.candidates.map((c) => [String(c.patience), String(c.stopEpoch), String(c.bestEpoch), c.valLoss.toExponential(4), c.complete ? "yes" : "no"]),
      });
    }
    if (this.ablation) {
      out.push({ name: "ablation", title: "Descriptor ablation (mean ± std over seeds)", columns: ABLATION_COLUMNS, rows: this.ablation.rows.map(ablationRowCells) });
      out.push({
        name: "importance", title: "Descriptor importance", columns: ["descriptor", "MSE alone", "rank alone", "ΔMSE when removed (mean ± std over seeds)"],
        rows: [...this.ablation.importance].sort((a, b) => b.removalMseIncrease - a.removalMseIncrease)
          .map((r) => [r.name, r.aloneMse.toExponential(3), String(r.aloneRank), formatMeanStd(r.removalMseIncrease, r.removalMseIncreaseStd, (x) => x.toExponential(2))]),
      });
    }
    if (this.errors) {
      const b = this.errors.breakdown;
      out.push(group("errors-by-nelements", "MLP test MSE by number of elements", "elements", b.byNelements));
      out.push(group("errors-by-coordination", `MLP test MSE by coordination number of the ${this.cfg.dataset.element} site`, "CN", b.byCoordination));
      out.push(group("errors-by-shell-elements", "MLP test MSE by first-shell elements", "first shell", b.byShellElements));
      out.push(group("errors-by-co-element", "MLP test MSE by other element in the compound", "element", b.byCoElement));
    }
    if (this.oxygen) {
      out.push({
        name: "oxygen", title: "O K-edge, leave one snapshot out (means over test spectra)",
        columns: ["test snapshot", "train", "test", "MSE MLP", "MSE kNN", "MSE mean", "Pearson MLP", "Pearson kNN", "Pearson mean"],
        rows: this.oxygen.folds.map((f) => [
          f.testSnapshot, String(f.nTrain), String(f.nTest), f.mse.mlp.toExponential(3), f.mse.knn.toExponential(3), f.mse.mean.toExponential(3),
          f.pearson.mlp.toFixed(3), f.pearson.knn.toFixed(3), f.pearson.mean.toFixed(3),
        ]),
      });
    }
    return out;
  }

  /** One figure by its name (see figures()). */
  figure(name: string): Figure {
    const f = this.figures().find((x) => x.name === name);
    if (!f) throw new Error(`StudyResult: no figure "${name}" (have ${this.figures().map((x) => x.name).join(", ")})`);
    return f.fig;
  }

  /** One table by its name (see tables()). */
  table(name: string): StudyTable {
    const t = this.tables().find((x) => x.name === name);
    if (!t) throw new Error(`StudyResult: no table "${name}" (have ${this.tables().map((x) => x.name).join(", ")})`);
    return t;
  }

  /**
   * What the numbers say, as markdown bullets, per topic: "final", "randomSplit", "patience",
   * "ablation", "errors", "oxygen". Built from the measured values only.
   */
  findings(topic: "final" | "randomSplit" | "patience" | "ablation" | "errors" | "oxygen"): string {
    return studyFindings(this, topic).map((s) => `- ${s}`).join("\n");
  }

  /** The study's tables as one markdown text (title, then the table). */
  markdown(): string {
    return this.tables().map((t) => `**${t.title}**\n\n${markdownTable(t)}`).join("\n\n");
  }

  /** metrics.json: every measured number and the whole configuration. */
  toJSON(): Record<string, unknown> {
    const { cfg, dataset: ds, features: table } = this;
    const f = this.final;
    const randomJson = this.random && {
      kind: "random by spectrum (the study's protocol): sites of one material can be in train and test",
      fractions: ds.splits.fractions,
      seed: ds.splits.seed,
      sizes: { train: this.random.split.train.length, val: this.random.split.val.length, test: this.random.split.test.length },
      ...this.splitComparison,
      mlp: { ...evaluationJson(this.random.models.mlp), bestEpoch: this.random.training.bestEpoch },
      knn: { ...evaluationJson(this.random.models.knn), k: this.random.knn.k, weighting: this.random.knn.weighting },
      mean: evaluationJson(this.random.models.mean),
    };
    return {
      generatedAt: new Date().toISOString(),
      profile: cfg.profile,
      config: cfg,
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, backend: backendInfo() },
      data: {
        source: path.join(sharedDataDir(), cfg.dataset.source),
        dataset: { ...ds.config, quality: { ...ds.config.quality, dropped: ds.config.quality.dropped.slice(0, 50) } },
        qualityReport: formatQualityReport(ds.config.quality),
        spectral: datasetSpectral(ds, cfg.dataset.element, cfg.dataset.edge),
        features: { rows: table.X.rows, nFeatures: table.X.cols, blocks: table.blocks, descriptors: table.featurizer.describe(), skipped: table.errors, seconds: table.seconds },
      },
      split: f && {
        kind: "grouped by material",
        fractions: cfg.split.fractions,
        seed: cfg.split.seed,
        sizes: { train: f.split.train.length, val: f.split.val.length, test: f.split.test.length },
      },
      final: f && {
        mlp: { ...evaluationJson(f.models.mlp), bestEpoch: f.training.bestEpoch, stopEpoch: f.training.stopEpoch, timing: f.training.timing, inputClip: cfg.final.mlp.inputClip, history: f.training.history },
        knn: { ...evaluationJson(f.models.knn), ...f.knn },
        mean: evaluationJson(f.models.mean),
        uncertainty: uncertaintyJson(f),
        beatsBaselines: this.beats(),
        patienceSelection: this.patience && {
          note:
            `patience ${cfg.final.mlp.patience} (config) was chosen after comparing variants partly on the test split (mild selection); here it is re-selected on the ` +
            "validation rows only: the final run trains on until the largest candidate would stop (its restored weights stay those of the configured patience), " +
            "every candidate is replayed from that validation-loss history, lowest validation loss wins (ties → smaller patience)",
          ...this.patience,
        },
      },
      randomSplit: randomJson,
      ablation: this.ablation,
      errors: this.errors && {
        metric: "mse",
        byNelements: this.errors.breakdown.byNelements,
        byCoordination: this.errors.breakdown.byCoordination,
        byShellElements: this.errors.breakdown.byShellElements,
        byCoElement: this.errors.breakdown.byCoElement,
        examples: Object.fromEntries(
          Object.entries(this.errors.ranked).map(([k, rows]) => [k, rows.map((r) => ({ ...this.testMeta(r), mse: f!.models.mlp.metrics.mse[r], pearson: f!.models.mlp.metrics.pearson[r] }))]),
        ),
      },
      oxygen: this.oxygen?.json,
      unseenPrediction: this.unseen ?? null,
      alignment: this.alignment ?? null,
      timings: this.times,
    };
  }

  /** Frees the final MLP's tensors. */
  dispose(): void {
    this.final?.mlp.dispose();
  }
}

/** The band's figures for metrics.json (the per-point σ stays out: it is recomputed from the model). */
function uncertaintyJson(f: FinalRun): Record<string, unknown> | null {
  if (!f.uncertainty) return null;
  const { testSigma: _sigma, ...u } = f.uncertainty;
  return u;
}
