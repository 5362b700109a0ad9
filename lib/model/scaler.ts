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
   * Optional per-column bounds on the transformed values (null: none), applied by transform.
   * Set by fitClipped (trainMlp's `inputClip`); saved with the scaler.
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

  /**
   * A scaler fitted on `rows` of X whose transform is: z-score (on those rows), clip to ±clip,
   * then re-standardise so the clipped training values again have mean 0 and sd 1 — stored as
   * one affine map plus per-column bounds. The bounds say a site is never further out than `clip`
   * training standard deviations in any column: a column nearly constant on the training rows
   * (a rare element) otherwise gives unseen sites z-scores in the hundreds or thousands.
   * Composition: with S1 = (m1, s1) and S2 = (m2, s2) fitted on clip(S1 x), S2(clip(S1 x)) =
   * clip((x − (m1 + s1·m2)) / (s1·s2)) to [(−clip − m2)/s2, (clip − m2)/s2] exactly.
   */
  static fitClipped(X: Float32Array, nColumns: number, rows: ArrayLike<number> | undefined, clip: number): StandardScaler {
    if (!(clip > 0)) throw new Error(`StandardScaler.fitClipped: clip must be > 0, got ${clip}`);
    const s1 = StandardScaler.fit(X, nColumns, rows);
    const d = nColumns;
    const count = rows ? rows.length : X.length / d;
    // Moments of the clipped z-scores (as float32, what a stored copy would hold), computed on the
    // fly in the same order as fit(): no count × d copy (560 MB at 120k sites × 1303 columns).
    const clipped = (off: number, j: number): number => {
      const z = Math.fround((X[off + j] - s1.mean[j]) / s1.scale[j]);
      return z < -clip ? Math.fround(-clip) : z > clip ? Math.fround(clip) : z;
    };
    const zMean = new Float64Array(d);
    const zM2 = new Float64Array(d);
    for (let k = 0; k < count; k++) {
      const off = (rows ? rows[k] : k) * d;
      for (let j = 0; j < d; j++) zMean[j] += clipped(off, j);
    }
    for (let j = 0; j < d; j++) zMean[j] /= count;
    for (let k = 0; k < count; k++) {
      const off = (rows ? rows[k] : k) * d;
      for (let j = 0; j < d; j++) {
        const dz = clipped(off, j) - zMean[j];
        zM2[j] += dz * dz;
      }
    }
    const s2 = { mean: zMean, scale: new Float64Array(d) };
    for (let j = 0; j < d; j++) {
      const sd = Math.sqrt(zM2[j] / count);
      s2.scale[j] = sd > 1e-7 * Math.max(1, Math.abs(zMean[j])) ? sd : 1; // as fit()
    }
    const mean = new Float64Array(d);
    const scale = new Float64Array(d);
    const lo = new Float64Array(d);
    const hi = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      mean[j] = s1.mean[j] + s1.scale[j] * s2.mean[j];
      scale[j] = s1.scale[j] * s2.scale[j];
      lo[j] = (-clip - s2.mean[j]) / s2.scale[j];
      hi[j] = (clip - s2.mean[j]) / s2.scale[j];
    }
    return new StandardScaler(mean, scale, lo, hi);
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
