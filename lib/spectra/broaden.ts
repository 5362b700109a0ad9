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

import { RealFft, nextPow2 } from "../util/fft";

export type BroadeningKind = "gaussian" | "lorentzian";

/**
 * A broadening of one width on one mesh spacing, built once and applied to many spectra (screening fits
 * the width on a grid for every candidate: the kernels are the same for all of them).
 * Weights w[0..h] (symmetric, w[k] = w[−k]) normalised to unit sum over −h..h; `tail[d]` = Σ_{k≥d} w[k],
 * the weight that falls beyond the mesh end d − 1 points away and lands on the held end value.
 */
export class BroadeningKernel {
  readonly w: Float64Array;
  readonly tail: Float64Array;
  /** Half-width in points (0: the identity). */
  readonly h: number;

  constructor(
    readonly step: number,
    readonly width: number,
    readonly kind: BroadeningKind,
  ) {
    if (!(width > 0)) {
      this.h = 0;
      this.w = Float64Array.of(1);
      this.tail = Float64Array.of(1, 0);
      return;
    }
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
    const tail = new Float64Array(h + 2);
    for (let k = h; k >= 0; k--) tail[k] = tail[k + 1] + w[k];
    this.h = h;
    this.w = w;
    this.tail = tail;
  }

  /**
   * out[i] = Σ_{|k|≤h} w[|k|]·y[clamp(i+k)] for i in [from, to) (default: every point); `out` may not
   * alias `y`. The clamped part is summed as y[0]·tail and y[n−1]·tail, so each output costs at most
   * min(h, n) multiply-adds whatever the width.
   */
  apply(y: Float64Array, out: Float64Array, from = 0, to = y.length): Float64Array {
    const n = y.length;
    const last = n - 1;
    const { w, tail, h } = this;
    if (h === 0) {
      for (let i = from; i < to; i++) out[i] = y[i];
      return out;
    }
    const y0 = y[0];
    const yn = y[last];
    for (let i = from; i < to; i++) {
      const left = i; // points to the left of i
      const right = last - i;
      const both = Math.min(h, left, right);
      let s = w[0] * y[i];
      for (let k = 1; k <= both; k++) s += w[k] * (y[i - k] + y[i + k]);
      // One side runs past the end before the other: its weights land on the held end value.
      const l = left < h ? left : h;
      for (let k = both + 1; k <= l; k++) s += w[k] * y[i - k];
      const r = right < h ? right : h;
      for (let k = both + 1; k <= r; k++) s += w[k] * y[i + k];
      if (left < h) s += y0 * tail[left + 1];
      if (right < h) s += yn * tail[right + 1];
      out[i] = s;
    }
    return out;
  }
}

/**
 * Convolve `y` (mesh spacing `step`, eV) with a Gaussian of standard deviation `sigma` (eV) or a
 * Lorentzian of half width at half maximum `gamma` (eV) into `out` (may not alias `y`).
 * A width ≤ 0 copies `y`. Many spectra of one width: build a `BroadeningKernel` once.
 */
export function broaden(y: ArrayLike<number>, step: number, width: number, kind: BroadeningKind, out: Float64Array): Float64Array {
  return new BroadeningKernel(step, width, kind).apply(y instanceof Float64Array ? y : Float64Array.from(y), out);
}

/** Gaussian broadening, σ in eV (FWHM = 2.3548 σ). */
export function gaussianBroaden(y: ArrayLike<number>, step: number, sigma: number, out = new Float64Array(y.length)): Float64Array {
  return broaden(y, step, sigma, "gaussian", out);
}

/** Lorentzian broadening, γ = half width at half maximum in eV. */
export function lorentzianBroaden(y: ArrayLike<number>, step: number, gamma: number, out = new Float64Array(y.length)): Float64Array {
  return broaden(y, step, gamma, "lorentzian", out);
}

/**
 * Half-width (points) above which a bank kernel goes through the FFT. On the 275-point Cu mesh one
 * inverse FFT of 512 points costs about what a direct kernel of ~10 points each side does; thresholds
 * 4–16 measured equal within noise, a direct sum over all 17 Lorentzian widths 4–5× slower.
 */
export const DEFAULT_FFT_ABOVE = 12;

/**
 * Kernels of several widths of one kind for spectra of n points, applied to one loaded spectrum at a
 * time (screening fits the width on a grid: every candidate is broadened by every width). Narrow
 * kernels are summed directly; wide ones (more than `fftAbove` points each side) go through one FFT of
 * the loaded spectrum and one inverse FFT per width, with the clamped ends added as tails — the same
 * sums as `BroadeningKernel.apply`, up to rounding (~1e-15 of the spectrum's norm).
 */
export class BroadeningBank {
  readonly kernels: readonly BroadeningKernel[];
  private readonly fft?: RealFft;
  /** Real spectrum of each FFT kernel (its circular placement is symmetric), or null for direct ones. */
  private readonly spectra: (Float64Array | null)[];
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly qr: Float64Array;
  private readonly qi: Float64Array;
  private readonly pad: Float64Array;
  private y: Float64Array;

  constructor(
    readonly n: number,
    step: number,
    widths: readonly number[],
    kind: BroadeningKind,
    fftAbove = DEFAULT_FFT_ABOVE,
  ) {
    this.kernels = widths.map((w) => new BroadeningKernel(step, w, kind));
    const viaFft = this.kernels.map((k) => k.h > fftAbove && n > 1);
    // Taps beyond n − 1 points only ever reach the held ends (the tails): the circular kernel is cut
    // there, and a zero-padded signal of n + reach points cannot wrap onto itself.
    const reach = Math.max(0, ...this.kernels.map((k, i) => (viaFft[i] ? Math.min(k.h, n - 1) : 0)));
    const size = nextPow2(Math.max(4, n + reach));
    this.pad = new Float64Array(size);
    this.re = new Float64Array(size / 2 + 1);
    this.im = new Float64Array(size / 2 + 1);
    this.qr = new Float64Array(size / 2 + 1);
    this.qi = new Float64Array(size / 2 + 1);
    this.y = new Float64Array(n);
    if (viaFft.some(Boolean)) this.fft = new RealFft(size);
    this.spectra = this.kernels.map((k, i) => {
      if (!viaFft[i]) return null;
      const c = new Float64Array(size);
      const h = Math.min(k.h, n - 1);
      c[0] = k.w[0];
      for (let j = 1; j <= h; j++) c[j] = c[size - j] = k.w[j];
      this.fft!.forward(c, this.re, this.im);
      return Float64Array.from(this.re);
    });
  }

  /** The spectrum (length n) the next `apply` calls broaden; kept by reference, not copied. */
  load(y: Float64Array): void {
    this.y = y;
    if (!this.fft) return;
    const pad = this.pad;
    for (let i = 0; i < this.n; i++) pad[i] = y[i];
    pad.fill(0, this.n);
    this.fft.forward(this.pad, this.re, this.im);
  }

  /** out[i], i in [from, to): the loaded spectrum broadened by kernel `k`. */
  apply(k: number, out: Float64Array, from = 0, to = this.n): Float64Array {
    const spec = this.spectra[k];
    const kern = this.kernels[k];
    if (!spec) return kern.apply(this.y, out, from, to);
    const { re, im, qr, qi, pad } = this;
    for (let j = 0; j < spec.length; j++) {
      qr[j] = re[j] * spec[j];
      qi[j] = im[j] * spec[j];
    }
    this.fft!.inverse(qr, qi, pad);
    const y = this.y;
    const last = this.n - 1;
    const { tail, h } = kern;
    for (let i = from; i < to; i++) {
      let s = pad[i];
      if (i < h) s += y[0] * tail[i + 1];
      if (last - i < h) s += y[last] * tail[last - i + 1];
      out[i] = s;
    }
    return out;
  }
}
