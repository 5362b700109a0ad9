/**
 * The uncertainty band of a saved model's predictions: draws (the members of a seed ensemble, or
 * Monte Carlo dropout samples of a single net that records a dropout band), their population
 * standard deviation, and the calibration σ = √((a·spread)² + b²) fitted on validation rows when
 * the model recorded one (meta.uncertainty, written by `npm run reproduce` and `npm run benchmark`;
 * lib/eval/uncertainty). Without a recorded calibration the raw spread is returned and flagged.
 */
import { calibratedSigma, ensembleMeanStd } from "../eval/uncertainty";
import type { Matrix } from "../util/matrix";
import type { XanesModelMeta } from "./io";
import type { XanesPredictor } from "./predictor";

/** What a model records about its band (meta.uncertainty). */
export interface BandRecord {
  /** Where the spread comes from; absent in benchmark ensembles (= "seed ensemble"). */
  spread: "seed ensemble" | "monte-carlo dropout";
  scale: number;
  floor: number;
  /** Monte Carlo dropout: samples and their seed. */
  samples?: number;
  seed?: number;
  calibratedOn?: string;
}

/** The band record of a model's meta, or null when it has none; a malformed record is an Error naming the field. */
export function bandRecord(meta: XanesModelMeta): BandRecord | null {
  const u = meta.uncertainty as Record<string, unknown> | null | undefined;
  if (u === undefined || u === null) return null;
  const num = (k: string) => {
    const v = u[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new Error(`meta.uncertainty.${k} must be a finite number ≥ 0, got ${JSON.stringify(v)}`);
    return v;
  };
  const spread = u.spread ?? "seed ensemble";
  if (spread !== "seed ensemble" && spread !== "monte-carlo dropout") throw new Error(`meta.uncertainty.spread must be "seed ensemble" or "monte-carlo dropout", got ${JSON.stringify(spread)}`);
  const rec: BandRecord = { spread, scale: num("scale"), floor: num("floor") };
  if (spread === "monte-carlo dropout") {
    rec.samples = num("samples");
    rec.seed = num("seed");
    if (!Number.isInteger(rec.samples) || rec.samples < 2) throw new Error(`meta.uncertainty.samples must be an integer ≥ 2, got ${rec.samples}`);
  }
  if (typeof u.calibratedOn === "string") rec.calibratedOn = u.calibratedOn;
  return rec;
}

/** Predictions of the draws for feature rows X, and the prediction to show (n × M each). */
export interface PredictionDraws {
  /** Ensemble mean, or the single net without dropout. */
  mean: Float32Array;
  /** One prediction per member or dropout sample (empty: no band). */
  draws: Float32Array[];
  /** Calibration to apply to the draws' spread, or null (raw spread). */
  band: BandRecord | null;
}

/** Draws for X: every member of an ensemble, or the recorded number of dropout samples of a single net. */
export function predictDraws(members: readonly XanesPredictor[], X: Matrix): PredictionDraws {
  if (members.length === 0) throw new RangeError("predictDraws: no model");
  const band = bandRecord(members[0].meta);
  if (members.length > 1) {
    const draws = members.map((p) => p.model.predict(X).data);
    return { mean: ensembleMeanStd(draws).mean, draws, band: band && band.spread === "seed ensemble" ? band : null };
  }
  const model = members[0].model;
  const mean = model.predict(X).data;
  if (!band || band.spread !== "monte-carlo dropout" || !(model.config.dropout > 0)) return { mean, draws: [], band: null };
  // The same seeds as the calibration (lib/study/final dropoutUncertainty).
  const draws = Array.from({ length: band.samples! }, (_, k) => model.predict(X, 4096, band.seed! + 7919 * k).data);
  return { mean, draws, band };
}

/** σ per point of the draws: calibrated when `band` is given, else their raw population spread; zeros without draws. */
export function drawSigma(draws: readonly Float32Array[], length: number, band: BandRecord | null): Float32Array {
  if (draws.length < 2) return new Float32Array(length);
  const { std } = ensembleMeanStd(draws);
  return band ? calibratedSigma(std, band) : std;
}
