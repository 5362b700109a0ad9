/**
 * The final comparison: the MLP and both baselines fitted through the estimator contract on one
 * split and evaluated the same way on its test part; what grouping by material costs; and the
 * early-stopping patience re-selected from the final run's own validation history.
 */
import type { SplitIndices } from "../data/splits";
import { MlpRegressor } from "../model/estimator";
import { replayPatience, type EpochLog, type PatienceOutcome, type TrainMlpResult } from "../model/mlp";
import { KnnRegressor, MeanSpectrumRegressor } from "../eval/baselines";
import { evaluateModel, type ModelEvaluation } from "../eval/evaluation";
import { takeRows, type Matrix } from "../util/matrix";
import { calibratedSigma, chooseBandOnValidation, ensembleMeanStd, uncertaintyReport, type ChosenBand, type UncertaintyReport } from "../eval/uncertainty";
import type { StudyConfig } from "./config";
import type { FeatureTable } from "../descriptors/table";

export interface FinalRun {
  split: SplitIndices;
  /** The fitted MLP (its `training` holds history, best epoch and timing). */
  mlp: MlpRegressor;
  training: Omit<TrainMlpResult, "model">;
  /** Test truth, rows in split.test order. */
  truth: Matrix;
  models: { mlp: ModelEvaluation; mean: ModelEvaluation; knn: ModelEvaluation };
  knn: { k: number; weighting: string; valMse: Record<string, number>; seconds: number };
  seconds: { mlp: number; knn: number };
  /** The MLP's band (Monte Carlo dropout), calibrated on val, checked on test (absent when not asked for). */
  uncertainty?: FinalUncertainty;
}

export interface FinalUncertainty {
  method: "monte-carlo dropout";
  samples: number;
  dropout: number;
  seed: number;
  chosen: ChosenBand;
  /** Calibrated band on the test rows (never used to calibrate). */
  test: UncertaintyReport;
  /** The raw spread (scale 1, no floor) on test, to show what calibration does. */
  testUncalibrated: { coverage1: number; coverage2: number };
  /** Calibrated σ of every test spectrum (rows in split.test order), for figures. */
  testSigma: Float32Array;
  seconds: number;
}

/**
 * Band of the fitted MLP: `samples` Monte Carlo dropout predictions (Gal & Ghahramani 2016) give a
 * spread around the mean net's prediction; its scale and floor are chosen on the validation rows.
 */
export function dropoutUncertainty(mlp: MlpRegressor, X: Matrix, Y: Matrix, split: SplitIndices, meanTest: Matrix, opts: { samples: number; seed: number }): FinalUncertainty {
  const t0 = performance.now();
  const model = mlp.fitted();
  const M = Y.cols;
  const spreadOf = (rows: readonly number[]) => {
    const Xs = takeRows(X, rows);
    return ensembleMeanStd(model.predictDropoutSamples(Xs, opts.samples, opts.seed)).std;
  };
  const valMean = model.predict(takeRows(X, split.val)).data;
  const valTruth = takeRows(Y, split.val).data;
  const chosen = chooseBandOnValidation(valMean, spreadOf(split.val), valTruth);
  const testSpread = spreadOf(split.test);
  const testTruth = takeRows(Y, split.test).data;
  const testSigma = calibratedSigma(testSpread, chosen.calibration);
  const raw = calibratedSigma(testSpread, { scale: 1, floor: 0 });
  const rawReport = uncertaintyReport(meanTest.data, raw, testTruth, M);
  return {
    method: "monte-carlo dropout",
    samples: opts.samples,
    dropout: model.config.dropout,
    seed: opts.seed,
    chosen,
    test: uncertaintyReport(meanTest.data, testSigma, testTruth, M),
    testUncalibrated: { coverage1: rawReport.coverage1, coverage2: rawReport.coverage2 },
    testSigma,
    seconds: (performance.now() - t0) / 1000,
  };
}

export interface FinalRunOptions {
  onEpoch?: (log: EpochLog) => void;
  /** Train on past config.patience up to this patience (for selectPatience); the restored weights do not change. */
  recordUntilPatience?: number;
  /** Compute the MLP's uncertainty band (default true). */
  uncertainty?: boolean;
}

/** Fit the final MLP, the tuned kNN and the mean spectrum on `split`; evaluate all three on its test part. */
export async function trainAndCompare(table: FeatureTable, energy: ArrayLike<number>, cfg: StudyConfig, split: SplitIndices, opts: FinalRunOptions = {}): Promise<FinalRun> {
  const fitSplit = { train: split.train, val: split.val };
  const Xtest = takeRows(table.X, split.test);
  const truth = takeRows(table.Y, split.test);
  const t0 = performance.now();
  const mlp = await new MlpRegressor(cfg.final.mlp, opts).fit(table.X, table.Y, fitSplit);
  const mlpPred = mlp.predict(Xtest);
  const tMlp = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const knn = await new KnnRegressor(cfg.knn).fit(table.X, table.Y, fitSplit);
  const knnPred = knn.predict(Xtest);
  const tKnn = (performance.now() - t1) / 1000;
  const mean = await new MeanSpectrumRegressor().fit(table.X, table.Y, fitSplit);
  const uncertainty = opts.uncertainty === false ? undefined : dropoutUncertainty(mlp, table.X, table.Y, split, mlpPred, cfg.final.uncertainty);
  return {
    split,
    mlp,
    training: mlp.training!,
    truth,
    models: {
      mlp: evaluateModel("MLP", mlpPred, truth, energy),
      mean: evaluateModel("mean training spectrum", mean.predict(Xtest), truth, energy),
      knn: evaluateModel(`kNN (k=${knn.k}, ${knn.weighting})`, knnPred, truth, energy),
    },
    knn: { k: knn.k, weighting: knn.weighting, valMse: knn.valMse, seconds: tKnn },
    seconds: { mlp: tMlp, knn: tKnn },
    uncertainty,
  };
}

/** What holding out whole materials costs: the same models on the grouped and on a random-by-spectrum split. */
export interface SplitComparison {
  /** Random-split test spectra whose material has another site in the training rows. */
  testSpectraFromMaterialsInTraining: number;
  /** Materials with rows on both the training and the test side of the random split. */
  materialsInTrainAndTest: number;
  /** Mean test MSE on the grouped split ÷ on the random split, per model. */
  groupedOverRandomMse: Record<"mlp" | "knn" | "mean", number>;
}

/** Compares two trainAndCompare runs on one feature table (`groups`: table.groups). */
export function compareSplits(grouped: FinalRun, random: FinalRun, groups: readonly string[]): SplitComparison {
  const trainMaterials = new Set(random.split.train.map((i) => groups[i]));
  const testGroups = random.split.test.map((i) => groups[i]);
  const ratio = (k: "mlp" | "knn" | "mean") => grouped.models[k].summary.mse.mean / random.models[k].summary.mse.mean;
  return {
    testSpectraFromMaterialsInTraining: testGroups.filter((g) => trainMaterials.has(g)).length,
    materialsInTrainAndTest: [...new Set(testGroups)].filter((g) => trainMaterials.has(g)).length,
    groupedOverRandomMse: { mlp: ratio("mlp"), knn: ratio("knn"), mean: ratio("mean") },
  };
}

export interface PatienceSelection {
  candidates: PatienceOutcome[];
  /** Lowest validation loss among complete candidates; ties go to the smaller patience (fewer epochs). */
  picked: number;
  configured: number;
  /** Epochs the final run trained (until the largest candidate stopped). */
  epochsRun: number;
  /** Best epoch of the configured patience, replayed; equals the final run's best epoch. */
  configuredReplayBestEpoch: number | null;
  finalRunBestEpoch: number;
}

/**
 * Chooses the early-stopping patience on the validation rows only, from the final run's recorded
 * validation history (trained with recordUntilPatience = the largest candidate): every candidate is
 * replayed with the same rule (EarlyStopping); no model is trained a second time.
 */
export function selectPatience(run: FinalRun, candidates: readonly number[], cfg: StudyConfig): PatienceSelection {
  if (candidates.length === 0) throw new Error("selectPatience: no candidates");
  const outcomes = replayPatience(run.training.history, candidates, cfg.final.mlp.epochs);
  let picked = outcomes[0];
  for (const o of outcomes) {
    if (o.complete && (!picked.complete || o.valLoss < picked.valLoss || (o.valLoss === picked.valLoss && o.patience < picked.patience))) picked = o;
  }
  const configured = outcomes.find((c) => c.patience === cfg.final.mlp.patience) ?? replayPatience(run.training.history, [cfg.final.mlp.patience], cfg.final.mlp.epochs)[0];
  return {
    candidates: outcomes,
    picked: picked.patience,
    configured: cfg.final.mlp.patience,
    epochsRun: run.training.history.length,
    configuredReplayBestEpoch: configured?.bestEpoch ?? null,
    finalRunBestEpoch: run.training.bestEpoch,
  };
}
