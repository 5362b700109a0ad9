import type { Figure, FigureTrace } from "../plots/figure";
import type { ScreeningResult } from "./rank";

const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

/**
 * Overlay of the target (black, normalised on the mesh at zero shift) and the best `top` candidates'
 * ensemble-mean predictions, each drawn on the target's energy axis (mesh + its fitted shift) with a
 * ±1 std band when the model is an ensemble.
 */
export function screeningOverlayFigure(result: ScreeningResult, opts: { top?: number; title?: string; highlight?: string } = {}): Figure {
  const top = opts.top ?? 5;
  const t = result.target;
  const m = t.energy.length;
  const k0 = t.shifts.findIndex((s) => s === 0);
  const traces: FigureTrace[] = [];
  result.rows.slice(0, top).forEach((r, n) => {
    const colour = COLOURS[n % COLOURS.length];
    const x = Float64Array.from(t.energy, (e) => e + r.shift);
    const label = `#${r.rank} ${r.id}${r.site >= 0 ? ` site ${r.site}` : ""}${r.id === opts.highlight ? " (true)" : ""}`;
    if (result.members > 1) {
      const lo = Float64Array.from(r.prediction, (v, j) => v - r.predictionStd[j]);
      const hi = Float64Array.from(r.prediction, (v, j) => v + r.predictionStd[j]);
      traces.push({ type: "scatter", mode: "lines", x, y: lo, line: { width: 0 }, showlegend: false, hoverinfo: "skip", legendgroup: r.id });
      traces.push({ type: "scatter", mode: "lines", x, y: hi, line: { width: 0 }, fill: "tonexty", fillcolor: `${colour}33`, showlegend: false, hoverinfo: "skip", legendgroup: r.id });
    }
    traces.push({
      type: "scatter",
      mode: "lines",
      name: `${label}: ${result.metric} ${r.score.toFixed(4)}, shift ${r.shift.toFixed(2)} eV`,
      x,
      y: r.prediction,
      line: { color: colour, width: r.id === opts.highlight ? 3 : 1.5, dash: n === 0 || r.id === opts.highlight ? "solid" : "dot" },
      legendgroup: r.id,
    });
  });
  traces.push({
    type: "scatter",
    mode: "lines",
    name: `target ${t.target.source}`,
    x: t.energy,
    y: t.spectra.subarray(k0 * m, (k0 + 1) * m),
    line: { color: "black", width: 2.5 },
  });
  return {
    data: traces,
    layout: {
      title: { text: opts.title ?? `Target vs top ${Math.min(top, result.rows.length)} candidates (${result.metric}${result.members > 1 ? `, ${result.members}-model ensemble ±1σ` : ""})` },
      xaxis: { title: { text: `energy (eV${t.mesh.relative ? ", edge-relative" : ""}; target axis)` } },
      yaxis: { title: { text: `normalised μ (${t.normalisation})` } },
      legend: { font: { size: 10 } },
      width: 900,
      height: 500,
    },
  };
}
