/**
 * Eigenvalues of a real symmetric matrix by the cyclic Jacobi method (Golub & Van Loan §8.5): sweeps of
 * plane rotations, each zeroing one off-diagonal pair, until the off-diagonal norm is below
 * `tolerance`·‖A‖_F. Quadratically convergent; accurate to a few ulps of ‖A‖ even for small eigenvalues.
 * Eigenvalues only (no eigenvector accumulation): it is the Coulomb-matrix descriptor's inner loop.
 */

export interface JacobiOptions {
  /** Stop when sqrt(Σ_{i≠j} a_ij²) ≤ tolerance · ‖A‖_F. Default 1e-14. */
  tolerance?: number;
  /** Give up (throw) after this many sweeps. Default 60. */
  maxSweeps?: number;
}

/**
 * Eigenvalues (unsorted, as left on the diagonal) of the n×n symmetric matrix `a` (row-major).
 * Only the upper triangle of `a` is read (it must be symmetric) and it is overwritten (pass a copy to
 * keep it); the result is written into `out` (length ≥ n) and returned.
 */
export function jacobiEigenvaluesInPlace(a: Float64Array, n: number, out: Float64Array = new Float64Array(n), options: JacobiOptions = {}): Float64Array {
  if (a.length < n * n) throw new RangeError(`jacobiEigenvalues: matrix has ${a.length} entries, need ${n * n}`);
  const tol = options.tolerance ?? 1e-14;
  const maxSweeps = options.maxSweeps ?? 60;
  let norm2 = 0;
  for (let p = 0; p < n; p++) {
    norm2 += a[p * n + p] * a[p * n + p];
    for (let q = p + 1; q < n; q++) norm2 += 2 * a[p * n + q] * a[p * n + q];
  }
  const stop2 = tol * tol * norm2;
  for (let sweep = 0; ; sweep++) {
    let off2 = 0, offAbs = 0;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const x = a[p * n + q];
        off2 += 2 * x * x;
        offAbs += Math.abs(x);
      }
    }
    if (off2 <= stop2 || off2 === 0) break;
    // Skip small elements: in the first sweeps those below a fifth of the mean (Rutishauser's
    // threshold, big ones first); always those whose squares, even all together, stay below the
    // stopping bound, since zeroing them cannot be what convergence waits for.
    const skip = Math.max(sweep < 3 ? (0.2 * offAbs) / (n * n) : 0, Math.sqrt(stop2 / (n * (n - 1))));
    if (sweep >= maxSweeps) throw new Error(`jacobiEigenvalues: no convergence after ${maxSweeps} sweeps (off-diagonal ${Math.sqrt(off2)})`);
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) <= skip) continue;
        const app = a[p * n + p], aqq = a[q * n + q];
        // after a few sweeps an element this small against both diagonals cannot change them: drop it
        if (sweep > 3 && Math.abs(apq) < 1e-18 * Math.min(Math.abs(app), Math.abs(aqq))) {
          a[p * n + q] = 0;
          continue;
        }
        // rotation angle that zeroes a_pq; t = tan φ, the smaller root for stability
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        a[p * n + p] = app - t * apq;
        a[q * n + q] = aqq + t * apq;
        a[p * n + q] = 0;
        // only the upper triangle is kept up to date (half the memory traffic): a_rp, a_rq for r < p,
        // a_pr, a_rq for p < r < q, a_pr, a_qr for r > q
        for (let r = 0; r < p; r++) {
          const arp = a[r * n + p], arq = a[r * n + q];
          a[r * n + p] = c * arp - s * arq;
          a[r * n + q] = s * arp + c * arq;
        }
        for (let r = p + 1; r < q; r++) {
          const arp = a[p * n + r], arq = a[r * n + q];
          a[p * n + r] = c * arp - s * arq;
          a[r * n + q] = s * arp + c * arq;
        }
        for (let r = q + 1; r < n; r++) {
          const arp = a[p * n + r], arq = a[q * n + r];
          a[p * n + r] = c * arp - s * arq;
          a[q * n + r] = s * arp + c * arq;
        }
      }
    }
  }
  for (let i = 0; i < n; i++) out[i] = a[i * n + i];
  return out;
}

/** Eigenvalues of the symmetric n×n `a` (left untouched), sorted ascending. */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number, options?: JacobiOptions): Float64Array {
  const work = Float64Array.from(a as ArrayLike<number>);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const x = work[i * n + j], y = work[j * n + i];
      if (Math.abs(x - y) > 1e-9 * (Math.abs(x) + Math.abs(y) + 1e-300)) throw new Error(`symmetricEigenvalues: matrix not symmetric at (${i}, ${j})`);
    }
  }
  return jacobiEigenvaluesInPlace(work, n, new Float64Array(n), options).sort();
}
