import type { Figure, FigureTrace } from "../plots/figure";
import type { MeasuredScreeningResult, ScreeningResult } from "./rank";
import { measuredTargetOnMesh } from "./rank";
import { broaden } from "../spectra/broaden";
import type { RecoveryResult } from "./recovery";
import type { NormalisedTarget } from "./match";

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

/**
 * Top-k curves of a rank-recovery evaluation: fraction of targets whose true material ranks ≤ k,
 * one line per setting, with the random-order expectation k / n for reference.
 */
export function rankRecoveryFigure(runs: readonly { label: string; result: RecoveryResult }[], title = "Where does the true structure rank?"): Figure {
  const n = Math.max(...runs.map((r) => r.result.nCandidates));
  const ks = Array.from({ length: Math.min(n, 50) }, (_, i) => i + 1);
  const traces: FigureTrace[] = runs.map(({ label, result }, i) => ({
    type: "scatter",
    mode: "lines+markers",
    name: `${label} (median rank ${result.medianRank})`,
    x: ks,
    y: ks.map((k) => result.perTarget.filter((t) => t.rank <= k).length / result.perTarget.length),
    line: { color: COLOURS[i % COLOURS.length], shape: "hv" },
    marker: { size: 4 },
  }));
  traces.push({ type: "scatter", mode: "lines", name: `random order (${n} candidates)`, x: ks, y: ks.map((k) => k / n), line: { color: "grey", dash: "dash" } });
  return {
    data: traces,
    layout: {
      title: { text: title },
      xaxis: { title: { text: "k (rank of the true material)" } },
      yaxis: { title: { text: "fraction of targets with true rank ≤ k" }, range: [0, 1.02] },
      width: 800,
      height: 450,
    },
  };
}

/**
 * Measured target (black, normalised as Athena does, on the model's energy scale: T(E + offset)) and
 * the top candidates' ensemble-mean predictions, broadened as fitted and drawn at their own shift,
 * with ±1 std bands of the ensemble.
 */
export function measuredOverlayFigure(result: MeasuredScreeningResult, opts: { top?: number; title?: string; highlight?: string } = {}): Figure {
  const top = opts.top ?? 5;
  const t = result.target;
  const e = Float64Array.from({ length: t.mesh.points }, (_, i) => t.mesh.start + i * t.mesh.step);
  const traces: FigureTrace[] = [];
  const buf2 = new Float64Array(e.length);
  result.rows.slice(0, top).forEach((r, n) => {
    const colour = COLOURS[n % COLOURS.length];
    // p(E) was compared with T(E + offset + s), and the target is drawn at x with T(x + offset): x = E + s.
    const x = Float64Array.from(e, (v) => v + r.shift);
    broaden(r.prediction, t.mesh.step, r.gamma, "lorentzian", buf2);
    const y = broaden(buf2, t.mesh.step, r.sigma, "gaussian", new Float64Array(e.length));
    const label = `#${r.rank} ${r.id}${r.id === opts.highlight ? " (true)" : ""}`;
    if (result.members > 1) {
      const lo = Float64Array.from(y, (v, j) => v - r.predictionStd[j]);
      const hi = Float64Array.from(y, (v, j) => v + r.predictionStd[j]);
      traces.push({ type: "scatter", mode: "lines", x, y: lo, line: { width: 0 }, showlegend: false, hoverinfo: "skip", legendgroup: r.id });
      traces.push({ type: "scatter", mode: "lines", x, y: hi, line: { width: 0 }, fill: "tonexty", fillcolor: `${colour}33`, showlegend: false, hoverinfo: "skip", legendgroup: r.id });
    }
    traces.push({
      type: "scatter",
      mode: "lines",
      name: `${label}: ${result.score} ${r.score.toFixed(4)}, shift ${r.shift.toFixed(2)} eV, σ ${r.sigma.toFixed(2)}, γ ${r.gamma.toFixed(2)} eV`,
      x,
      y,
      line: { color: colour, width: r.id === opts.highlight ? 3 : 1.5, dash: n === 0 || r.id === opts.highlight ? "solid" : "dot" },
      legendgroup: r.id,
    });
  });
  traces.push({ type: "scatter", mode: "lines", name: `measured ${t.target.source.split("/").pop()} (offset ${t.options.offset.toFixed(2)} eV)`, x: e, y: measuredTargetOnMesh(t, 0), line: { color: "black", width: 2.5 } });
  const w = t.options.window;
  return {
    data: traces,
    layout: {
      title: { text: opts.title ?? `Measured spectrum vs top ${Math.min(top, result.rows.length)} candidates (${result.score}${result.members > 1 ? `, ${result.members}-model ensemble ±1σ` : ""})` },
      xaxis: { title: { text: "energy on the computed (FEFF) scale, eV = measured energy − offset" }, range: [w[0] - 10, w[1]] },
      yaxis: { title: { text: "normalised μ (edge step = 1, flattened)" } },
      shapes: [
        { type: "rect", xref: "x", yref: "paper", x0: w[0], x1: w[1], y0: 0, y1: 1, fillcolor: "#88888811", line: { width: 0 } },
      ],
      legend: { font: { size: 10 } },
      width: 900,
      height: 500,
    },
  } as Figure;
}

/**
 * The normalisation of a measured spectrum as Athena shows it: raw μ(E) with the pre-edge line, the
 * post-edge curve and E0 (left), and the flattened edge-step-normalised spectrum (right). Used by
 * notebook 07 and the web app.
 */
export function normalisationFigure(mu: ArrayLike<number>, target: NormalisedTarget, opts: { title?: string; muLabel?: string } = {}): Figure {
  const pe = target.preEdge;
  const E = Array.from(target.energy);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < mu.length; i++) {
    lo = Math.min(lo, pe.preEdge[i], mu[i]);
    hi = Math.max(hi, mu[i]);
  }
  return {
    data: [
      { type: "scatter", mode: "lines", x: E, y: Array.from(mu), name: opts.muLabel ?? "μ(E)", line: { color: "black" } },
      { type: "scatter", mode: "lines", x: E, y: Array.from(pe.preEdge), name: "pre-edge line", line: { color: "#1f77b4", dash: "dash" } },
      { type: "scatter", mode: "lines", x: E, y: Array.from(pe.postEdge), name: "post-edge curve", line: { color: "#d62728", dash: "dash" } },
      { type: "scatter", mode: "lines", x: [pe.e0, pe.e0], y: [lo, hi], name: `E0 = ${pe.e0} eV`, line: { color: "#2ca02c" } },
      { type: "scatter", mode: "lines", x: E, y: Array.from(target.norm), name: "normalised, flattened", xaxis: "x2", yaxis: "y2", line: { color: "black" } },
    ],
    layout: {
      title: { text: opts.title ?? `${target.source}: pre-edge subtraction and edge-step normalisation (larch pre_edge conventions)` },
      grid: { rows: 1, columns: 2, pattern: "independent" },
      xaxis: { title: { text: "energy (eV)" } },
      yaxis: { title: { text: "μ(E)" } },
      xaxis2: { title: { text: "energy (eV)" }, range: [pe.e0 - 40, pe.e0 + 160] },
      yaxis2: { title: { text: "normalised μ" } },
      width: 1000,
      height: 420,
    },
  } as Figure;
}
