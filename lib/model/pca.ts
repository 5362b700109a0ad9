/**
 * Principal components of row-major float32 spectra (n rows × m mesh points), fitted on chosen rows
 * only (the training split), for the MLP's "pca" output representation: the network predicts the
 * first k coefficients and predictions are mapped back onto the mesh. Components come from the
 * eigenvectors of the m × m covariance (cyclic Jacobi in float64; m is a mesh size, a few hundred).
 */

export interface PcaBasisJSON {
  /** Column means of the fitted rows (m). */
  mean: number[];
  /** k rows of m: the orthonormal components, in order of decreasing variance. */
  components: number[][];
  /** Fraction of the fitted rows' total variance each component explains (k). */
  explainedVarianceRatio: number[];
}

/** Most Jacobi sweeps; symmetric matrices of this size converge in about 10. */
const MAX_SWEEPS = 60;

/**
 * Eigenvalues and eigenvectors of the symmetric m × m matrix `a` (row-major, float64; overwritten):
 * values in decreasing order, vectors as rows of `vectors` (m × m), each with its largest-magnitude
 * entry positive so the basis is reproducible.
 */
export function symmetricEigen(a: Float64Array, m: number): { values: Float64Array; vectors: Float64Array } {
  if (a.length !== m * m) throw new Error(`symmetricEigen: matrix has ${a.length} entries, expected ${m}×${m}`);
  const v = new Float64Array(m * m);
  for (let i = 0; i < m; i++) v[i * m + i] = 1;
  let total = 0;
  for (let i = 0; i < m * m; i++) total += a[i] * a[i];
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off += a[p * m + q] * a[p * m + q];
    if (off <= 1e-26 * total) break;
    for (let p = 0; p < m - 1; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = a[p * m + q];
        if (apq === 0) continue;
        // Rotation that zeroes a[p][q] (the smaller of the two angles).
        const theta = (a[q * m + q] - a[p * m + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < m; k++) {
          const akp = a[k * m + p];
          const akq = a[k * m + q];
          a[k * m + p] = c * akp - s * akq;
          a[k * m + q] = s * akp + c * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = a[p * m + k];
          const aqk = a[q * m + k];
          a[p * m + k] = c * apk - s * aqk;
          a[q * m + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = v[k * m + p];
          const vkq = v[k * m + q];
          v[k * m + p] = c * vkp - s * vkq;
          v[k * m + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => a[j * m + j] - a[i * m + i]);
  const values = new Float64Array(m);
  const vectors = new Float64Array(m * m);
  order.forEach((col, r) => {
    values[r] = a[col * m + col];
    let big = 0;
    for (let k = 0; k < m; k++) if (Math.abs(v[k * m + col]) > Math.abs(big)) big = v[k * m + col];
    const sign = big < 0 ? -1 : 1;
    for (let k = 0; k < m; k++) vectors[r * m + k] = sign * v[k * m + col];
  });
  return { values, vectors };
}

export class PcaBasis {
  /** Components, k × m row-major (orthonormal rows). */
  readonly components: Float64Array;

  constructor(
    readonly mean: Float64Array,
    components: ArrayLike<number>,
    readonly k: number,
    readonly explainedVarianceRatio: Float64Array,
  ) {
    const m = mean.length;
    if (!(Number.isInteger(k) && k >= 1 && k <= m)) throw new Error(`PcaBasis: ${k} components for ${m} columns`);
    if (components.length !== k * m) throw new Error(`PcaBasis: components hold ${components.length} values, expected ${k}×${m}`);
    if (explainedVarianceRatio.length !== k) throw new Error(`PcaBasis: ${explainedVarianceRatio.length} variance ratios for ${k} components`);
    this.components = Float64Array.from(components);
  }

  /** Mesh points per spectrum. */
  get nColumns(): number {
    return this.mean.length;
  }

  /**
   * Fits on `rows` of Y (n × m). `spec`: an integer ≥ 1 keeps that many components (at most m); a
   * value in (0, 1) keeps the fewest whose cumulative explained variance reaches it.
   */
  static fit(Y: Float32Array, m: number, rows: ArrayLike<number>, spec: number): PcaBasis {
    if (!(Number.isInteger(m) && m >= 1) || Y.length % m !== 0) throw new Error(`PcaBasis.fit: array length ${Y.length} is not a multiple of ${m} columns`);
    if (!((Number.isInteger(spec) && spec >= 1) || (spec > 0 && spec < 1))) throw new Error(`PcaBasis.fit: components ${spec} must be an integer ≥ 1 or a fraction in (0, 1)`);
    const count = rows.length;
    if (count < 2) throw new Error("PcaBasis.fit: needs at least 2 rows");
    const mean = new Float64Array(m);
    for (let i = 0; i < count; i++) {
      const off = rows[i] * m;
      for (let j = 0; j < m; j++) mean[j] += Y[off + j];
    }
    for (let j = 0; j < m; j++) mean[j] /= count;
    const cov = new Float64Array(m * m);
    const row = new Float64Array(m);
    for (let i = 0; i < count; i++) {
      const off = rows[i] * m;
      for (let j = 0; j < m; j++) row[j] = Y[off + j] - mean[j];
      for (let p = 0; p < m; p++) {
        const rp = row[p];
        for (let q = p; q < m; q++) cov[p * m + q] += rp * row[q];
      }
    }
    for (let p = 0; p < m; p++) {
      for (let q = p; q < m; q++) {
        cov[p * m + q] /= count;
        cov[q * m + p] = cov[p * m + q];
      }
    }
    const { values, vectors } = symmetricEigen(cov, m);
    let total = 0;
    for (let j = 0; j < m; j++) total += Math.max(0, values[j]);
    const ratio = values.map((x) => (total > 0 ? Math.max(0, x) / total : 0));
    let k: number;
    if (spec >= 1) {
      k = Math.min(spec, m);
    } else {
      k = 0;
      // a small tolerance so that e.g. 0.99 of a sum that rounds to 0.98999999 still counts
      for (let acc = 0; k < m && acc < spec - 1e-12; k++) acc += ratio[k];
      k = Math.max(1, k);
    }
    return new PcaBasis(mean, vectors.subarray(0, k * m), k, ratio.slice(0, k));
  }

  /** Coefficients (n × k) of rows Y (n × m). */
  transform(Y: Float32Array, out = new Float32Array((Y.length / this.nColumns) * this.k)): Float32Array {
    const m = this.nColumns;
    const k = this.k;
    if (Y.length % m !== 0) throw new Error(`PcaBasis.transform: array length ${Y.length} is not a multiple of ${m} columns`);
    const n = Y.length / m;
    const row = new Float64Array(m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) row[j] = Y[i * m + j] - this.mean[j];
      for (let c = 0; c < k; c++) {
        let s = 0;
        const base = c * m;
        for (let j = 0; j < m; j++) s += row[j] * this.components[base + j];
        out[i * k + c] = s;
      }
    }
    return out;
  }

  /** Rows on the mesh (n × m) from coefficients (n × k). */
  inverseTransform(C: Float32Array, out = new Float32Array((C.length / this.k) * this.nColumns)): Float32Array {
    const m = this.nColumns;
    const k = this.k;
    if (C.length % k !== 0) throw new Error(`PcaBasis.inverseTransform: array length ${C.length} is not a multiple of ${k} components`);
    const n = C.length / k;
    const row = new Float64Array(m);
    for (let i = 0; i < n; i++) {
      row.set(this.mean);
      for (let c = 0; c < k; c++) {
        const coef = C[i * k + c];
        const base = c * m;
        for (let j = 0; j < m; j++) row[j] += coef * this.components[base + j];
      }
      for (let j = 0; j < m; j++) out[i * m + j] = row[j];
    }
    return out;
  }

  toJSON(): PcaBasisJSON {
    const m = this.nColumns;
    return {
      mean: Array.from(this.mean),
      components: Array.from({ length: this.k }, (_, c) => Array.from(this.components.subarray(c * m, (c + 1) * m))),
      explainedVarianceRatio: Array.from(this.explainedVarianceRatio),
    };
  }

  /** From toJSON() (shapes checked here; io.ts checks a file's values field by field first). */
  static fromJSON(json: PcaBasisJSON): PcaBasis {
    const k = json.components.length;
    const flat = new Float64Array(k * json.mean.length);
    json.components.forEach((r, c) => {
      if (r.length !== json.mean.length) throw new Error(`PcaBasis.fromJSON: component ${c} has ${r.length} entries, expected ${json.mean.length}`);
      flat.set(r, c * json.mean.length);
    });
    return new PcaBasis(Float64Array.from(json.mean), flat, k, Float64Array.from(json.explainedVarianceRatio));
  }
}
