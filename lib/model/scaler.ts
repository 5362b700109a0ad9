/**
 * Per-column standardisation of row-major Float32Array matrices (n rows × d columns).
 * Fitted on chosen rows only (the training split), so validation/test rows never leak into it.
 */

export interface StandardScalerJSON {
  mean: number[];
  scale: number[];
  /** Optional per-column bounds applied to the standardised values (absent: no clipping). */
  clipLow?: number[];
  clipHigh?: number[];
}

export class StandardScaler {
  /** Column means. */
  readonly mean: Float64Array;
  /** Column standard deviations (population); 1 for zero-variance columns so they map to 0. */
  readonly scale: Float64Array;

  /**
   * Optional bounds on the standardised values, per column (null: none). Added for lib/eval: a
   * descriptor column that is almost constant on the training rows (a rare element) gives test
   * sites z-scores in the hundreds and wild predictions; clipping bounds them.
   */
  readonly clipLow: Float64Array | null;
  readonly clipHigh: Float64Array | null;

  constructor(mean: ArrayLike<number>, scale: ArrayLike<number>, clipLow?: ArrayLike<number> | null, clipHigh?: ArrayLike<number> | null) {
    if (mean.length !== scale.length) {
      throw new Error(`StandardScaler: mean has ${mean.length} columns, scale ${scale.length}`);
    }
    if ((clipLow && clipLow.length !== mean.length) || (clipHigh && clipHigh.length !== mean.length)) {
      throw new Error(`StandardScaler: clip bounds must have ${mean.length} columns`);
    }
    this.mean = Float64Array.from(mean);
    this.scale = Float64Array.from(scale);
    this.clipLow = clipLow ? Float64Array.from(clipLow) : null;
    this.clipHigh = clipHigh ? Float64Array.from(clipHigh) : null;
  }

  /** The same scaler with standardised values clipped to [−limit, limit]. */
  withClip(limit: number): StandardScaler {
    if (!(limit > 0)) throw new Error(`StandardScaler.withClip: limit must be > 0, got ${limit}`);
    const n = this.nColumns;
    return new StandardScaler(this.mean, this.scale, new Float64Array(n).fill(-limit), new Float64Array(n).fill(limit));
  }

  get nColumns(): number {
    return this.mean.length;
  }

  /**
   * Fits column means and standard deviations on `rows` of X (all rows when omitted).
   * Columns with (near-)zero variance get scale 1 so transform yields x − mean instead of NaN/∞.
   */
  static fit(X: Float32Array, nColumns: number, rows?: ArrayLike<number>): StandardScaler {
    checkShape(X, nColumns, "StandardScaler.fit");
    const nRows = X.length / nColumns;
    const count = rows ? rows.length : nRows;
    if (count === 0) throw new Error("StandardScaler.fit: no rows to fit on");
    const mean = new Float64Array(nColumns);
    const m2 = new Float64Array(nColumns);
    // Two passes in float64: exact enough for float32 data and no Welford per-element divisions.
    for (let k = 0; k < count; k++) {
      const r = rows ? rows[k] : k;
      if (r < 0 || r >= nRows || !Number.isInteger(r)) throw new Error(`StandardScaler.fit: row index ${r} out of range 0..${nRows - 1}`);
      const off = r * nColumns;
      for (let j = 0; j < nColumns; j++) mean[j] += X[off + j];
    }
    for (let j = 0; j < nColumns; j++) mean[j] /= count;
    for (let k = 0; k < count; k++) {
      const off = (rows ? rows[k] : k) * nColumns;
      for (let j = 0; j < nColumns; j++) {
        const d = X[off + j] - mean[j];
        m2[j] += d * d;
      }
    }
    const scale = new Float64Array(nColumns);
    for (let j = 0; j < nColumns; j++) {
      const sd = Math.sqrt(m2[j] / count);
      // Relative threshold: a float32 constant column can show tiny spurious variance.
      scale[j] = sd > 1e-7 * Math.max(1, Math.abs(mean[j])) ? sd : 1;
    }
    return new StandardScaler(mean, scale);
  }

  /** (X − mean) / scale into a new array (or `out`). */
  transform(X: Float32Array, out = new Float32Array(X.length)): Float32Array {
    checkShape(X, this.nColumns, "StandardScaler.transform");
    const d = this.nColumns;
    const inv = this.scale.map((s) => 1 / s);
    for (let off = 0; off < X.length; off += d) {
      for (let j = 0; j < d; j++) out[off + j] = (X[off + j] - this.mean[j]) * inv[j];
    }
    const lo = this.clipLow;
    const hi = this.clipHigh;
    if (lo || hi) {
      for (let off = 0; off < X.length; off += d) {
        for (let j = 0; j < d; j++) {
          const v = out[off + j];
          if (lo && v < lo[j]) out[off + j] = lo[j];
          else if (hi && v > hi[j]) out[off + j] = hi[j];
        }
      }
    }
    return out;
  }

  /** X · scale + mean into a new array (or `out`). */
  inverseTransform(X: Float32Array, out = new Float32Array(X.length)): Float32Array {
    checkShape(X, this.nColumns, "StandardScaler.inverseTransform");
    const d = this.nColumns;
    for (let off = 0; off < X.length; off += d) {
      for (let j = 0; j < d; j++) out[off + j] = X[off + j] * this.scale[j] + this.mean[j];
    }
    return out;
  }

  toJSON(): StandardScalerJSON {
    const json: StandardScalerJSON = { mean: Array.from(this.mean), scale: Array.from(this.scale) };
    if (this.clipLow) json.clipLow = Array.from(this.clipLow);
    if (this.clipHigh) json.clipHigh = Array.from(this.clipHigh);
    return json;
  }

  static fromJSON(json: StandardScalerJSON): StandardScaler {
    if (!json || !Array.isArray(json.mean) || !Array.isArray(json.scale)) {
      throw new Error("StandardScaler.fromJSON: expected { mean: number[], scale: number[] }");
    }
    return new StandardScaler(json.mean, json.scale, json.clipLow ?? null, json.clipHigh ?? null);
  }
}

function checkShape(X: Float32Array, nColumns: number, where: string): void {
  if (!Number.isInteger(nColumns) || nColumns <= 0) throw new Error(`${where}: nColumns must be a positive integer, got ${nColumns}`);
  if (X.length % nColumns !== 0) {
    throw new Error(`${where}: array length ${X.length} is not a multiple of ${nColumns} columns`);
  }
}
