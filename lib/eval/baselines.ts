import { StandardScaler } from "../model/scaler";

/**
 * Baselines measured exactly like the MLP: the mean training spectrum, and k-nearest neighbours
 * in standardised descriptor space.
 */

/** Mean of the training rows of Y (N × nOut) — the "predict the average" baseline. */
export function meanSpectrum(Y: ArrayLike<number>, nOut: number, trainIdx: ArrayLike<number>): Float32Array {
  if (trainIdx.length === 0) throw new Error("meanSpectrum: empty training index list");
  const acc = new Float64Array(nOut);
  for (let t = 0; t < trainIdx.length; t++) {
    const o = trainIdx[t] * nOut;
    for (let j = 0; j < nOut; j++) acc[j] += Y[o + j];
  }
  const out = new Float32Array(nOut);
  for (let j = 0; j < nOut; j++) out[j] = acc[j] / trainIdx.length;
  return out;
}

/** `row` repeated `n` times as an n × row.length matrix (the mean baseline's predictions). */
export function tileRow(row: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * row.length);
  for (let i = 0; i < n; i++) out.set(row, i * row.length);
  return out;
}

export interface KnnOptions {
  /** Number of neighbours (default 5). */
  k?: number;
  /**
   * "uniform": plain mean of the k neighbour spectra (default — robust, and what "kNN baseline"
   * usually means); "distance": weights 1/(d + 1e-12), so an exact match returns its own spectrum.
   */
  weighting?: "uniform" | "distance";
}

/**
 * Brute-force kNN regressor on typed arrays. Features are standardised with a StandardScaler fitted
 * on the training rows (constant columns get scale 1 and so drop out of distances).
 * Cost: O(nQuery × nTrain × nFeatures) multiply-adds; ~1k × 4k × 1k runs in seconds.
 */
export class KnnRegressor {
  readonly k: number;
  readonly weighting: "uniform" | "distance";
  private readonly nFeatures: number;
  private readonly nOut: number;
  private readonly mean: Float64Array;
  private readonly invStd: Float64Array;
  private readonly trainX: Float32Array; // standardised training rows, nTrain × nFeatures
  private readonly trainY: Float32Array; // nTrain × nOut
  readonly nTrain: number;

  constructor(
    X: Float32Array,
    nFeatures: number,
    Y: ArrayLike<number>,
    nOut: number,
    trainIdx: ArrayLike<number>,
    options: KnnOptions = {},
  ) {
    this.k = options.k ?? 5;
    this.weighting = options.weighting ?? "uniform";
    if (!(this.k >= 1)) throw new Error(`KnnRegressor: k must be >= 1, got ${this.k}`);
    if (trainIdx.length === 0) throw new Error("KnnRegressor: empty training index list");
    this.nFeatures = nFeatures;
    this.nOut = nOut;
    this.nTrain = trainIdx.length;
    const d = nFeatures;
    // Same standardisation as the MLP's inputs (population std, constant columns scale 1).
    const scaler = StandardScaler.fit(X, nFeatures, trainIdx);
    this.mean = scaler.mean;
    this.invStd = scaler.scale.map((v) => 1 / v);
    this.trainX = new Float32Array(trainIdx.length * d);
    this.trainY = new Float32Array(trainIdx.length * nOut);
    for (let t = 0; t < trainIdx.length; t++) {
      const i = trainIdx[t];
      for (let j = 0; j < d; j++) this.trainX[t * d + j] = (X[i * d + j] - this.mean[j]) * this.invStd[j];
      for (let j = 0; j < nOut; j++) this.trainY[t * nOut + j] = Y[i * nOut + j];
    }
  }

  /**
   * Indices (into the training list, nearest first) and squared distances of the k nearest
   * training rows for each query row `rows` of X. Returns flat arrays of length nRows × k.
   */
  kneighbors(X: ArrayLike<number>, rows: ArrayLike<number>): { index: Int32Array; dist2: Float64Array } {
    const d = this.nFeatures;
    const k = Math.min(this.k, this.nTrain);
    const index = new Int32Array(rows.length * k);
    const dist2 = new Float64Array(rows.length * k);
    const q = new Float32Array(d);
    const bestD = new Float64Array(k);
    const bestI = new Int32Array(k);
    const tx = this.trainX;
    for (let r = 0; r < rows.length; r++) {
      const o = rows[r] * d;
      for (let j = 0; j < d; j++) q[j] = (X[o + j] - this.mean[j]) * this.invStd[j];
      bestD.fill(Infinity);
      bestI.fill(-1);
      let worst = Infinity;
      for (let t = 0; t < this.nTrain; t++) {
        const to = t * d;
        let s = 0;
        // Early exit once the partial sum exceeds the current k-th best: most rows stop early.
        for (let j = 0; j < d; j++) {
          const v = q[j] - tx[to + j];
          s += v * v;
          if (s >= worst) break;
        }
        if (s >= worst) continue;
        // Insert into the sorted top-k list.
        let p = k - 1;
        while (p > 0 && bestD[p - 1] > s) {
          bestD[p] = bestD[p - 1];
          bestI[p] = bestI[p - 1];
          p--;
        }
        bestD[p] = s;
        bestI[p] = t;
        worst = bestD[k - 1];
      }
      index.set(bestI, r * k);
      dist2.set(bestD, r * k);
    }
    return { index, dist2 };
  }

  /** Predicted spectra (rows.length × nOut) for rows `rows` of X (n × nFeatures). */
  predict(X: ArrayLike<number>, rows: ArrayLike<number>): Float32Array {
    return this.predictFromNeighbours(this.kneighbors(X, rows), this.k, this.weighting);
  }

  /**
   * Predictions from a `kneighbors` result using only its first `k` neighbours per row and
   * `weighting`: one neighbour search (at the largest k) serves every candidate k and weighting.
   */
  predictFromNeighbours(
    neighbours: { index: Int32Array; dist2: Float64Array },
    k: number,
    weighting: "uniform" | "distance",
  ): Float32Array {
    const { index, dist2 } = neighbours;
    const stride = Math.min(this.k, this.nTrain);
    const kUse = Math.min(k, stride);
    if (!(kUse >= 1)) throw new Error(`KnnRegressor.predictFromNeighbours: k must be >= 1, got ${k}`);
    const nRows = index.length / stride;
    const nOut = this.nOut;
    const out = new Float32Array(nRows * nOut);
    const acc = new Float64Array(nOut);
    for (let r = 0; r < nRows; r++) {
      acc.fill(0);
      let wsum = 0;
      for (let c = 0; c < kUse; c++) {
        const t = index[r * stride + c];
        const w = weighting === "distance" ? 1 / (Math.sqrt(dist2[r * stride + c]) + 1e-12) : 1;
        wsum += w;
        const to = t * nOut;
        for (let j = 0; j < nOut; j++) acc[j] += w * this.trainY[to + j];
      }
      for (let j = 0; j < nOut; j++) out[r * nOut + j] = acc[j] / wsum;
    }
    return out;
  }
}

/** Rows `rows` of a row-major matrix with `width` columns, as a new compact matrix. */
export function takeRows(A: ArrayLike<number>, width: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * width);
  for (let r = 0; r < rows.length; r++) {
    const o = rows[r] * width;
    for (let j = 0; j < width; j++) out[r * width + j] = A[o + j];
  }
  return out;
}

/** Columns `cols` of a row-major matrix with `width` columns (all rows), as a new matrix. */
export function takeColumns(A: ArrayLike<number>, width: number, cols: ArrayLike<number>): Float32Array {
  const n = A.length / width;
  const w = cols.length;
  const out = new Float32Array(n * w);
  for (let i = 0; i < n; i++) {
    const o = i * width;
    for (let c = 0; c < w; c++) out[i * w + c] = A[o + cols[c]];
  }
  return out;
}
