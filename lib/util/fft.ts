/**
 * Fast Fourier transforms on Float64Arrays, for convolutions with long kernels (spectral broadening:
 * a Lorentzian of γ = 4 eV reaches ±100 eV). Radix-2, iterative, twiddles and bit reversal built once
 * per size, no allocation per transform. Double precision: a convolution through them differs from the
 * direct sum by rounding only (~1e-15 of the signal's norm).
 */

function checkPow2(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 2 || (n & (n - 1)) !== 0) throw new Error(`${what}: size ${n} is not a power of 2 ≥ 2`);
}

/** Smallest power of 2 ≥ n (and ≥ 2). */
export function nextPow2(n: number): number {
  let p = 2;
  while (p < n) p *= 2;
  return p;
}

/** Complex FFT of size n, in place on (re, im); the inverse is unscaled (divide by n). */
export class ComplexFft {
  private readonly rev: Uint32Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  constructor(readonly n: number) {
    checkPow2(n, "ComplexFft");
    const bits = Math.round(Math.log2(n));
    this.rev = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
    this.cos = new Float64Array(n / 2);
    this.sin = new Float64Array(n / 2);
    for (let k = 0; k < n / 2; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
  }

  /** X[k] = Σ x[j]·e^{∓2πijk/n} (forward: −; inverse: +, unscaled). */
  transform(re: Float64Array, im: Float64Array, inverse = false): void {
    const n = this.n;
    const rev = this.rev;
    for (let i = 0; i < n; i++) {
      const j = rev[i];
      if (j > i) {
        const tr = re[i];
        re[i] = re[j];
        re[j] = tr;
        const ti = im[i];
        im[i] = im[j];
        im[j] = ti;
      }
    }
    this.butterflies(re, im, inverse);
  }

  /** `transform` for input already in bit-reversed order (`bitReversed()[i]` holds x[i]'s slot). */
  butterflies(re: Float64Array, im: Float64Array, inverse = false): void {
    const n = this.n;
    const cos = this.cos;
    const sin = this.sin;
    // First stage: twiddle 1.
    for (let a = 0; a < n; a += 2) {
      const tr = re[a + 1];
      const ti = im[a + 1];
      re[a + 1] = re[a] - tr;
      im[a + 1] = im[a] - ti;
      re[a] += tr;
      im[a] += ti;
    }
    const sgn = inverse ? 1 : -1;
    for (let size = 4; size <= n; size *= 2) {
      const half = size >> 1;
      const stride = n / size;
      for (let k = 0; k < half; k++) {
        const c = cos[k * stride];
        const s = sgn * sin[k * stride];
        for (let a = k; a < n; a += size) {
          const b = a + half;
          const xr = re[b];
          const xi = im[b];
          const tr = xr * c - xi * s;
          const ti = xr * s + xi * c;
          const ar = re[a];
          const ai = im[a];
          re[b] = ar - tr;
          im[b] = ai - ti;
          re[a] = ar + tr;
          im[a] = ai + ti;
        }
      }
    }
  }

  /** Bit-reversal permutation of 0..n−1. */
  bitReversed(): Uint32Array {
    return this.rev;
  }
}

/**
 * FFT of a real signal of size n (power of 2 ≥ 4) through a complex FFT of size n/2: the spectrum
 * X[0..n/2] (the rest is its conjugate mirror).
 */
export class RealFft {
  private readonly half: ComplexFft;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;
  private readonly wc: Float64Array;
  private readonly ws: Float64Array;
  constructor(readonly n: number) {
    checkPow2(n, "RealFft");
    if (n < 4) throw new Error(`RealFft: size ${n} < 4`);
    const m = n / 2;
    this.half = new ComplexFft(m);
    this.zr = new Float64Array(m);
    this.zi = new Float64Array(m);
    this.wc = new Float64Array(m);
    this.ws = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      this.wc[k] = Math.cos((2 * Math.PI * k) / n);
      this.ws[k] = Math.sin((2 * Math.PI * k) / n);
    }
  }

  /** Spectrum of x (length n) into re, im (length n/2 + 1). */
  forward(x: Float64Array, re: Float64Array, im: Float64Array): void {
    const m = this.n / 2;
    const { zr, zi, wc, ws } = this;
    const rev = this.half.bitReversed();
    for (let k = 0; k < m; k++) {
      const r = rev[k];
      zr[r] = x[2 * k];
      zi[r] = x[2 * k + 1];
    }
    this.half.butterflies(zr, zi);
    // X[k] = E[k] + W^k·O[k], with E, O the spectra of the even and odd samples, W = e^{−2πi/n}.
    for (let k = 0; k <= m; k++) {
      const a = k === m ? 0 : k;
      const b = k === 0 ? 0 : m - k;
      const er = 0.5 * (zr[a] + zr[b]);
      const ei = 0.5 * (zi[a] - zi[b]);
      const or = 0.5 * (zi[a] + zi[b]);
      const oi = -0.5 * (zr[a] - zr[b]);
      const c = k === m ? -1 : wc[k];
      const s = k === m ? 0 : ws[k];
      re[k] = er + c * or + s * oi;
      im[k] = ei + c * oi - s * or;
    }
  }

  /** The real signal (length n) whose spectrum is re, im (length n/2 + 1); scaled (inverse of forward). */
  inverse(re: Float64Array, im: Float64Array, x: Float64Array): void {
    const m = this.n / 2;
    const { zr, zi, wc, ws } = this;
    const rev = this.half.bitReversed();
    for (let k = 0; k < m; k++) {
      const ar = re[k];
      const ai = im[k];
      const br = re[m - k];
      const bi = -im[m - k];
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai + bi);
      const dr = 0.5 * (ar - br);
      const di = 0.5 * (ai - bi);
      const or = dr * wc[k] - di * ws[k];
      const oi = dr * ws[k] + di * wc[k];
      const r = rev[k];
      zr[r] = er - oi;
      zi[r] = ei + or;
    }
    this.half.butterflies(zr, zi, true);
    const inv = 1 / m;
    for (let k = 0; k < m; k++) {
      x[2 * k] = zr[k] * inv;
      x[2 * k + 1] = zi[k] * inv;
    }
  }
}
