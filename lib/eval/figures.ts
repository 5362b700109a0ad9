/**
 * Plotly figures of evaluation results, as plain Figure data (show inline with showFigure, export
 * with openFigureExporter / writeFigureHtml).
 */
import type { Figure, FigureTrace } from "../plots/figure";
import type { GroupRow } from "./errors";
import { fractionAbove } from "./metrics";

/** Training and validation loss per epoch; a vertical marker at the restored (best) epoch. */
export function learningCurveFigure(
  history: readonly { epoch: number; loss: number; valLoss: number }[],
  bestEpoch?: number,
  title = "Learning curve",
): Figure {
  const data: FigureTrace[] = [
    { type: "scatter", mode: "lines", name: "train loss", x: history.map((h) => h.epoch), y: history.map((h) => h.loss) },
    { type: "scatter", mode: "lines", name: "validation loss", x: history.map((h) => h.epoch), y: history.map((h) => h.valLoss) },
  ];
  const shapes = bestEpoch
    ? [{ type: "line", x0: bestEpoch, x1: bestEpoch, yref: "paper", y0: 0, y1: 1, line: { dash: "dot", color: "grey" } }]
    : [];
  return {
    data,
    layout: {
      title: { text: title },
      xaxis: { title: { text: "epoch" } },
      yaxis: { title: { text: "loss (standardised units)" }, type: "log" },
      shapes,
    },
  };
}

/**
 * Predicted vs true spectra in a grid of panels (one per example), e.g. best/median/worst.
 * `truth` and `pred` are row-major matrices; `rows` selects the panels; `labels` titles them.
 */
export function spectraOverlayFigure(
  energy: ArrayLike<number>,
  truth: Float32Array,
  pred: Float32Array,
  rows: readonly number[],
  labels: readonly string[],
  title = "Predicted vs true spectra",
  columns = 3,
  /** Calibrated σ per point (same layout as pred): drawn as a ±2σ band around the prediction. */
  sigma?: Float32Array,
): Figure {
  const m = energy.length;
  const x = Array.from(energy);
  const data: FigureTrace[] = [];
  const annotations: unknown[] = [];
  const nRows = Math.ceil(rows.length / columns);
  rows.forEach((r, p) => {
    const ax = p === 0 ? "" : String(p + 1);
    if (sigma) {
      const lo = new Float32Array(m), hi = new Float32Array(m);
      for (let j = 0; j < m; j++) {
        lo[j] = pred[r * m + j] - 2 * sigma[r * m + j];
        hi[j] = pred[r * m + j] + 2 * sigma[r * m + j];
      }
      data.push({ type: "scatter", mode: "lines", x, y: lo, line: { width: 0 }, showlegend: false, hoverinfo: "skip", xaxis: `x${ax}`, yaxis: `y${ax}` });
      data.push({
        type: "scatter", mode: "lines", name: "±2σ band", legendgroup: "band", showlegend: p === 0, x, y: hi, fill: "tonexty",
        fillcolor: "rgba(214,39,40,0.2)", line: { width: 0 }, xaxis: `x${ax}`, yaxis: `y${ax}`,
      });
    }
    data.push({
      type: "scatter", mode: "lines", name: "true", legendgroup: "true", showlegend: p === 0,
      line: { color: "black" }, x, y: truth.subarray(r * m, (r + 1) * m), xaxis: `x${ax}`, yaxis: `y${ax}`,
    });
    data.push({
      type: "scatter", mode: "lines", name: "predicted", legendgroup: "pred", showlegend: p === 0,
      line: { color: "#d62728", dash: "dash" }, x, y: pred.subarray(r * m, (r + 1) * m), xaxis: `x${ax}`, yaxis: `y${ax}`,
    });
    annotations.push({
      text: labels[p] ?? "", showarrow: false, xref: `x${ax} domain`, yref: `y${ax} domain`, x: 0.02, y: 0.98,
      xanchor: "left", yanchor: "top", font: { size: 10 },
    });
  });
  return {
    data,
    layout: {
      title: { text: title },
      grid: { rows: nRows, columns, pattern: "independent" },
      annotations,
      width: 320 * columns,
      height: 250 * nRows + 80,
      margin: { t: 60, l: 40, r: 20, b: 40 },
    },
  };
}

/** The finite values (log10 of the positive ones when `log`): what a histogram can show. */
function histogramValues(values: ArrayLike<number>, log: boolean): number[] {
  const xs: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v) && (!log || v > 0)) xs.push(log ? Math.log10(v) : v);
  }
  return xs;
}

/** Histogram of one metric (log10 of it when `log`). */
export function histogramFigure(values: ArrayLike<number>, title: string, xLabel: string, log = false): Figure {
  return {
    data: [{ type: "histogram", x: histogramValues(values, log), nbinsx: 50, marker: { color: "#1f77b4" } }],
    layout: {
      title: { text: title },
      xaxis: { title: { text: log ? `log10(${xLabel})` : xLabel } },
      yaxis: { title: { text: "spectra" } },
    },
  };
}

/** Overlaid histograms of one metric for several models (e.g. MLP vs baselines). */
export function metricComparisonFigure(
  series: readonly { name: string; values: ArrayLike<number> }[],
  title: string,
  xLabel: string,
  log = false,
): Figure {
  return {
    data: series.map((s) => ({ type: "histogram", name: s.name, x: histogramValues(s.values, log), opacity: 0.55, nbinsx: 60 })),
    layout: {
      title: { text: title },
      barmode: "overlay",
      xaxis: { title: { text: log ? `log10(${xLabel})` : xLabel } },
      yaxis: { title: { text: "spectra" } },
    },
  };
}

/** Mean ± std and count of a metric per group, as bars with the count in the hover text. */
export function groupBarFigure(rows: readonly GroupRow[], title: string, xLabel: string, yLabel: string): Figure {
  return {
    data: [
      {
        type: "bar",
        x: rows.map((r) => r.key),
        y: rows.map((r) => r.mean),
        error_y: { type: "data", array: rows.map((r) => (Number.isFinite(r.std) ? r.std : 0)), visible: true },
        text: rows.map((r) => `n=${r.n}`),
        textposition: "outside",
        marker: { color: "#9467bd" },
      },
    ],
    layout: {
      title: { text: title },
      xaxis: { title: { text: xLabel }, type: "category" },
      yaxis: { title: { text: yLabel } },
    },
  };
}

/** Parity plot (predicted vs true) with the y = x line and the mean absolute error in the title. */
export function parityFigure(truth: ArrayLike<number>, pred: ArrayLike<number>, title: string, axisLabel: string): Figure {
  let lo = Infinity;
  let hi = -Infinity;
  let mae = 0;
  let n = 0;
  for (let i = 0; i < truth.length; i++) {
    if (!Number.isFinite(truth[i]) || !Number.isFinite(pred[i])) continue;
    lo = Math.min(lo, truth[i], pred[i]);
    hi = Math.max(hi, truth[i], pred[i]);
    mae += Math.abs(pred[i] - truth[i]);
    n++;
  }
  mae = n ? mae / n : NaN;
  return {
    data: [
      { type: "scatter", mode: "markers", name: "spectra", x: truth, y: pred, marker: { size: 4, opacity: 0.5 } } as FigureTrace,
      { type: "scatter", mode: "lines", name: "y = x", x: [lo, hi], y: [lo, hi], line: { color: "grey", dash: "dot" } },
    ],
    layout: {
      title: { text: `${title} (MAE ${mae.toFixed(2)}, n=${n})` },
      xaxis: { title: { text: `true ${axisLabel}` } },
      yaxis: { title: { text: `predicted ${axisLabel}` }, scaleanchor: "x" },
      width: 560,
      height: 520,
    },
  };
}

/** Fraction of spectra with the shape reproduced vs threshold, one line per model and metric. */
export function shapeThresholdFigure(
  models: readonly { name: string; pearson: ArrayLike<number>; cosine: ArrayLike<number> }[],
  thresholds: readonly number[] = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 0.99],
): Figure {
  const data: FigureTrace[] = [];
  for (const mdl of models) {
    for (const metric of ["pearson", "cosine"] as const) {
      const fractions = fractionAbove(mdl[metric], thresholds);
      const y = thresholds.map((t) => fractions[String(t)]);
      data.push({
        type: "scatter", mode: "lines+markers", name: `${mdl.name} · ${metric}`, x: [...thresholds], y,
        line: { dash: metric === "cosine" ? "dot" : "solid" },
      });
    }
  }
  return {
    data,
    layout: {
      title: { text: "Fraction of test spectra with the shape reproduced vs threshold" },
      xaxis: { title: { text: "threshold on Pearson / cosine" } },
      yaxis: { title: { text: "fraction of test spectra" }, range: [0, 1.02] },
    },
  };
}
