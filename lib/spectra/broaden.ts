/**
 * Broadening of a spectrum on an equally spaced mesh: Gaussian (instrument resolution) and Lorentzian
 * (core-hole lifetime). FEFF already includes the core-hole lifetime; what is left between a FEFF
 * spectrum and a measurement is mostly the monochromator resolution (Gaussian, ~1–2 eV at the Cu K
 * edge with Si(111)/Si(220)) plus whatever FEFF's self-energy under- or over-damps, so screening fits a
 * Gaussian width and offers a Lorentzian as an option.
 *
 * Ends: the first and last values are held beyond the mesh (a spectrum does not fall to zero outside
 * the window), so the broadened ends stay at the spectrum's level.
 */

/** Kernel weights w[0..h] (symmetric, w[k] = w[−k]) normalised to unit sum over −h..h. */
function symmetricKernel(step: number, width: number, kind: "gaussian" | "lorentzian"): Float64Array {
  // Gaussian: ±4σ holds all but 6e-5 of the weight. Lorentzian tails are long: ±25γ holds 97.5 %,
  // and renormalising the truncated kernel keeps the edge step unchanged.
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

/**
 * Convolve `y` (mesh spacing `step`, eV) with a Gaussian of standard deviation `sigma` (eV) or a
 * Lorentzian of half width at half maximum `gamma` (eV) into `out` (may not alias `y`).
 * A width ≤ 0 copies `y`.
 */
export function broaden(y: ArrayLike<number>, step: number, width: number, kind: "gaussian" | "lorentzian", out: Float64Array): Float64Array {
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

/** Gaussian broadening, σ in eV (FWHM = 2.3548 σ). */
export function gaussianBroaden(y: ArrayLike<number>, step: number, sigma: number, out = new Float64Array(y.length)): Float64Array {
  return broaden(y, step, sigma, "gaussian", out);
}

/** Lorentzian broadening, γ = half width at half maximum in eV. */
export function lorentzianBroaden(y: ArrayLike<number>, step: number, gamma: number, out = new Float64Array(y.length)): Float64Array {
  return broaden(y, step, gamma, "lorentzian", out);
}
