/**
 * Evaluation of predicted spectra against the truth: per-spectrum metrics, their summaries and the
 * "shape reproduced" fractions, one record per model; the comparison table of several models.
 */
import type { Matrix } from "../util/matrix";
import { evaluateSpectra, meanStd, shapeReproduced, summarizeMetrics, type MetricName, type SpectrumMetrics, type Summary } from "./metrics";

/** Test-set evaluation of one model. */
export interface ModelEvaluation {
  name: string;
  /** Predictions on the test rows (test rows × mesh points). */
  pred: Matrix;
  metrics: SpectrumMetrics;
  summary: Record<MetricName, Summary>;
  shape: ReturnType<typeof shapeReproduced>;
}

export function evaluateModel(name: string, pred: Matrix, truth: Matrix, energy: ArrayLike<number>): ModelEvaluation {
  const metrics = evaluateSpectra(pred.data, truth.data, energy);
  return { name, pred, metrics, summary: summarizeMetrics(metrics), shape: shapeReproduced(metrics) };
}

/** Mean test scores of one run (ablation cells, O K folds). */
export const SCORE_NAMES = ["mse", "pearson", "cosine", "spearman", "peakAbsError", "shapeReproduced"] as const;
export type ScoreName = (typeof SCORE_NAMES)[number];
export type Scores = Record<ScoreName, number>;

/** Mean of each metric over spectra, and the fraction with the default shape criterion. */
export function meanScores(e: ModelEvaluation): Scores {
  return {
    mse: e.summary.mse.mean,
    pearson: e.summary.pearson.mean,
    cosine: e.summary.cosine.mean,
    spearman: e.summary.spearman.mean,
    peakAbsError: e.summary.peakAbsError.mean,
    shapeReproduced: e.shape.default.fraction,
  };
}

/** Mean and sample std over runs of every score (NaN std for one run). */
export function scoresMeanStd(runs: readonly Scores[]): { mean: Scores; std: Scores } {
  const mean = {} as Scores;
  const std = {} as Scores;
  for (const k of SCORE_NAMES) {
    const ms = meanStd(runs.map((r) => r[k]));
    mean[k] = ms.mean;
    std[k] = ms.std;
  }
  return { mean, std };
}

/** Markdown table comparing models on the test set (mean of each metric, shape fractions). */
export function comparisonTable(models: readonly ModelEvaluation[]): string {
  const lines = [
    "| model | MSE (mean) | MSE (median) | Pearson | cosine | Spearman | peak error eV (median) | Pearson ≥ 0.9 | Pearson ≥ 0.95 | cosine ≥ 0.99 |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const m of models) lines.push(`| ${comparisonRow(m).join(" | ")} |`);
  return lines.join("\n");
}

/** The cells of one comparisonTable row (also the danfojs table's columns). */
export function comparisonRow(m: ModelEvaluation): string[] {
  const s = m.summary;
  return [
    m.name, s.mse.mean.toExponential(3), s.mse.median.toExponential(3), s.pearson.mean.toFixed(4), s.cosine.mean.toFixed(4),
    s.spearman.mean.toFixed(4), s.peakAbsError.median.toFixed(2), m.shape.pearson["0.9"].toFixed(3), m.shape.pearson["0.95"].toFixed(3), m.shape.cosine["0.99"].toFixed(3),
  ];
}

export const COMPARISON_COLUMNS = ["model", "MSE (mean)", "MSE (median)", "Pearson", "cosine", "Spearman", "peak error eV (median)", "Pearson ≥ 0.9", "Pearson ≥ 0.95", "cosine ≥ 0.99"];

/** JSON-friendly view of a model evaluation (summaries and fractions, no per-spectrum arrays). */
export function evaluationJson(m: ModelEvaluation): Record<string, unknown> {
  return { name: m.name, n: m.metrics.mse.length, summary: m.summary, shapeReproduced: m.shape };
}

