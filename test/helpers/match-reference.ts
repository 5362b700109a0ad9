/**
 * The broadening fit as it was before it was made fast (commit 0e3165a: lib/spectra/broaden.ts and
 * MatchScorer.fit of lib/screening/match.ts), kept verbatim as the reference the fast fit is tested against
 * (only the flag sigmaAtEdge is renamed broadeningAtEdge, as MatchFit now names it).
 */
import type { PreparedMatch, MatchFit } from "../../lib/screening/match";

function symmetricKernel(step: number, width: number, kind: "gaussian" | "lorentzian"): Float64Array {
  const reach = kind === "gaussian" ? 4 * width : 25 * width;
  const h = Math.max(1, Math.ceil(reach / step));
  const w = new Float64Array(h + 1);
  let sum = 0;
  for (let k = 0; k <= h; k++) {
    const x = (k * step) / width;
    w[k] = kind === "gaussian" ? Math.exp(-0.5 * x * x) : 1 / (1 + x * x);
    sum += k === 0 ? w[k] : 2 * w[k];
  }
  for (let k = 0; k <= h; k++) w[k] /= sum;
  return w;
}

export function referenceBroaden(y: ArrayLike<number>, step: number, width: number, kind: "gaussian" | "lorentzian", out: Float64Array): Float64Array {
  const n = y.length;
  if (!(width > 0)) {
    for (let i = 0; i < n; i++) out[i] = y[i];
    return out;
  }
  const w = symmetricKernel(step, width, kind);
  const h = w.length - 1;
  const last = n - 1;
  for (let i = 0; i < n; i++) {
    let s = w[0] * y[i];
    for (let k = 1; k <= h; k++) {
      const a = i - k < 0 ? 0 : i - k;
      const b = i + k > last ? last : i + k;
      s += w[k] * (y[a] + y[b]);
    }
    out[i] = s;
  }
  return out;
}

function deriv(y: Float64Array, o: number, w: number, h: number, d: Float64Array): void {
  for (let j = 0; j < w; j++) {
    const a = j > 0 ? j - 1 : 0;
    const b = j < w - 1 ? j + 1 : w - 1;
    d[o + j] = (y[o + b] - y[o + a]) / ((b - a) * h);
  }
}

/** The old MatchScorer.fit. */
export function referenceFit(p: PreparedMatch, spectra: ArrayLike<number>, row = 0): MatchFit {
  const m = p.mesh.points;
  const b1 = new Float64Array(m);
  const b2 = new Float64Array(m);
  const w = p.i1 - p.i0;
  const pw = new Float64Array(w);
  const pd = new Float64Array(w);
  const m0 = row * m;
  const prediction: ArrayLike<number> = ArrayBuffer.isView(spectra)
    ? (spectra as unknown as Float32Array).subarray(m0, m0 + m)
    : Array.prototype.slice.call(spectra, m0, m0 + m);
  const o = p.options;
  const scoreRow = (i: number, pNorm: number, dNorm: number, pMean: number): number => {
    const off = i * w;
    switch (o.score) {
      case "l2": {
        let s = 0;
        for (let j = 0; j < w; j++) {
          const v = pw[j] - p.rows[off + j];
          s += v * v;
        }
        return -Math.sqrt(s / w);
      }
      case "pearson": {
        let dot = 0;
        for (let j = 0; j < w; j++) dot += (pw[j] - pMean) * p.unit[off + j];
        return dot / pNorm;
      }
      case "pearson+derivative": {
        let dot = 0;
        let dd = 0;
        for (let j = 0; j < w; j++) {
          dot += (pw[j] - pMean) * p.unit[off + j];
          dd += pd[j] * p.unitDeriv[off + j];
        }
        return 0.5 * (dot / pNorm + dd / dNorm);
      }
    }
  };
  const gammas = o.gammas && o.gammas.length ? o.gammas : [0];
  let best: MatchFit = { score: -Infinity, shift: 0, sigma: 0, gamma: 0, shiftAtEdge: false, broadeningAtEdge: false };
  for (const gamma of gammas) {
    referenceBroaden(prediction, p.mesh.step, gamma, "lorentzian", b1);
    for (let si = 0; si < o.sigmas.length; si++) {
      const sigma = o.sigmas[si];
      referenceBroaden(b1, p.mesh.step, sigma, "gaussian", b2);
      for (let j = 0; j < w; j++) pw[j] = b2[p.i0 + j];
      let mean = 0;
      for (let j = 0; j < w; j++) mean += pw[j];
      mean /= w;
      let nn = 0;
      for (let j = 0; j < w; j++) nn += (pw[j] - mean) ** 2;
      const pNorm = Math.sqrt(nn);
      let dNorm = 1;
      if (o.score === "pearson+derivative") {
        deriv(pw, 0, w, p.mesh.step, pd);
        let dm = 0;
        for (let j = 0; j < w; j++) dm += pd[j];
        dm /= w;
        let dn = 0;
        for (let j = 0; j < w; j++) {
          pd[j] -= dm;
          dn += pd[j] ** 2;
        }
        dNorm = Math.sqrt(dn);
      }
      for (let i = 0; i < p.shifts.length; i++) {
        const s = scoreRow(i, pNorm, dNorm, mean);
        if (s > best.score) {
          best = {
            score: s,
            shift: p.shifts[i],
            sigma,
            gamma,
            shiftAtEdge: p.shifts.length > 1 && (i === 0 || i === p.shifts.length - 1),
            broadeningAtEdge: (o.sigmas.length > 1 && si === o.sigmas.length - 1) || (gammas.length > 1 && gamma === gammas[gammas.length - 1]),
          };
        }
      }
    }
  }
  if (!Number.isFinite(best.score)) best.score = NaN;
  return best;
}
