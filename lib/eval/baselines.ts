/**
 * Baselines measured exactly like the MLP, through the same estimator contract (lib/model/estimator):
 * the mean training spectrum, and k-nearest neighbours in standardised descriptor space.
 */
import { StandardScaler } from "../model/scaler";
import { checkSplit, type FitSplit } from "../model/mlp";
import { registerEstimator, type Estimator, type EstimatorJSON } from "../model/estimator";
import { tileRow, takeRows, type Matrix } from "../util/matrix";

/** Mean of rows `train` of Y. */
export function meanSpectrum(Y: Matrix, train: ArrayLike<number>): Float32Array {
  if (train.length === 0) throw new Error("meanSpectrum: empty training index list");
  const m = Y.cols;
  const acc = new Float64Array(m);
  for (let t = 0; t < train.length; t++) {
    const o = train[t] * m;
    for (let j = 0; j < m; j++) acc[j] += Y.data[o + j];
  }
  const out = new Float32Array(m);
  for (let j = 0; j < m; j++) out[j] = acc[j] / train.length;
  return out;
}

/** "Predict the average": the mean training spectrum for every input row. */
export class MeanSpectrumRegressor implements Estimator {
  readonly kind = "mean";
  mean: Float32Array | null = null;

  async fit(_X: Matrix, Y: Matrix, split: FitSplit): Promise<this> {
    this.mean = meanSpectrum(Y, checkSplit(split, Y.rows, "MeanSpectrumRegressor").train);
    return this;
  }

  predict(X: Matrix): Matrix {
    if (!this.mean) throw new Error("MeanSpectrumRegressor: not fitted");
    return tileRow(this.mean, X.rows);
  }

  toJSON(): EstimatorJSON {
    if (!this.mean) throw new Error("MeanSpectrumRegressor: not fitted");
    return { kind: "mean", mean: Array.from(this.mean) };
  }

  dispose(): void {}
}

registerEstimator("mean", (json) => Object.assign(new MeanSpectrumRegressor(), { mean: Float32Array.from(json.mean as number[]) }));

export type KnnWeighting = "uniform" | "distance";

export interface KnnConfig {
  /**
   * Candidate neighbour counts; with several candidates (or weightings) `fit` picks the pair with
   * the lowest mean MSE on the validation rows — a tuned baseline is the honest one to beat.
   */
  kCandidates: number[];
  /**
   * "uniform": plain mean of the k neighbour spectra (what "kNN baseline" usually means);
   * "distance": weights 1/(d + 1e-12), so an exact match returns its own spectrum.
   */
  weightings: KnnWeighting[];
}

export interface KnnNeighbours {
  index: Int32Array;
  dist2: Float64Array;
}

/**
 * Brute-force kNN regressor on typed arrays. Features are standardised with a StandardScaler fitted
 * on the training rows (constant columns get scale 1 and so drop out of distances).
 * Cost: O(nQuery × nTrain × nFeatures) multiply-adds; ~1k × 4k × 1k runs in seconds.
 */
export class KnnRegressor implements Estimator {
  readonly kind = "knn";
  /** Chosen neighbour count and weighting (the only candidates, or the validation pick). */
  k: number;
  weighting: KnnWeighting;
  /** Validation MSE per "k/weighting" candidate (empty without tuning). */
  valMse: Record<string, number> = {};
  private mean: Float64Array = new Float64Array(0);
  private invStd: Float64Array = new Float64Array(0);
  /** Standardised training rows (nTrain × nFeatures) and their spectra. */
  private trainX: Matrix = { data: new Float32Array(0), rows: 0, cols: 0 };
  private trainY: Matrix = { data: new Float32Array(0), rows: 0, cols: 0 };

  constructor(readonly config: KnnConfig = { kCandidates: [5], weightings: ["uniform"] }) {
    if (config.kCandidates.length === 0 || config.weightings.length === 0) throw new Error("KnnRegressor: no k or weighting candidates");
    for (const k of config.kCandidates) if (!(Number.isInteger(k) && k >= 1)) throw new Error(`KnnRegressor: k must be an integer >= 1, got ${k}`);
    this.k = config.kCandidates[0];
    this.weighting = config.weightings[0];
  }

  get nTrain(): number {
    return this.trainX.rows;
  }

  async fit(X: Matrix, Y: Matrix, split: FitSplit): Promise<this> {
    const { train, val } = checkSplit(split, X.rows, "KnnRegressor");
    // Same standardisation as the MLP's inputs (population std, constant columns scale 1).
    const scaler = StandardScaler.fit(X.data, X.cols, train);
    this.mean = scaler.mean;
    this.invStd = scaler.scale.map((v) => 1 / v);
    const d = X.cols;
    const tx = new Float32Array(train.length * d);
    for (let t = 0; t < train.length; t++) {
      const i = train[t];
      for (let j = 0; j < d; j++) tx[t * d + j] = (X.data[i * d + j] - this.mean[j]) * this.invStd[j];
    }
    this.trainX = { data: tx, rows: train.length, cols: d };
    this.trainY = takeRows(Y, train);
    const { kCandidates, weightings } = this.config;
    this.valMse = {};
    if (kCandidates.length * weightings.length > 1 && val.length > 0) {
      // One neighbour search (k = max candidate) serves every candidate.
      this.k = Math.max(...kCandidates);
      const neighbours = this.kneighbors(takeRows(X, val));
      const truth = takeRows(Y, val).data;
      let best = { k: kCandidates[0], weighting: weightings[0], mse: Infinity };
      for (const weighting of weightings) {
        for (const k of kCandidates) {
          const pred = this.predictFromNeighbours(neighbours, k, weighting).data;
          let se = 0;
          for (let i = 0; i < pred.length; i++) se += (pred[i] - truth[i]) ** 2;
          const mse = se / pred.length;
          this.valMse[`${k}/${weighting}`] = mse;
          if (mse < best.mse) best = { k, weighting, mse };
        }
      }
      this.k = best.k;
      this.weighting = best.weighting;
    } else {
      this.k = kCandidates[0];
      this.weighting = weightings[0];
    }
    return this;
  }

  /**
   * Indices (into the training rows, nearest first) and squared distances of the k nearest
   * training rows of each row of Q. Flat arrays of length Q.rows × min(k, nTrain).
   */
  kneighbors(Q: Matrix): KnnNeighbours {
    const d = this.trainX.cols;
    if (Q.cols !== d) throw new Error(`KnnRegressor: query has ${Q.cols} features, fitted on ${d}`);
    if (this.nTrain === 0) throw new Error("KnnRegressor: not fitted");
    const k = Math.min(this.k, this.nTrain);
    const index = new Int32Array(Q.rows * k);
    const dist2 = new Float64Array(Q.rows * k);
    const q = new Float32Array(d);
    const bestD = new Float64Array(k);
    const bestI = new Int32Array(k);
    const tx = this.trainX.data;
    for (let r = 0; r < Q.rows; r++) {
      const o = r * d;
      for (let j = 0; j < d; j++) q[j] = (Q.data[o + j] - this.mean[j]) * this.invStd[j];
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

  predict(X: Matrix): Matrix {
    return this.predictFromNeighbours(this.kneighbors(X), this.k, this.weighting);
  }

  /**
   * Predictions from a `kneighbors` result using only its first `k` neighbours per row and
   * `weighting`: one neighbour search (at the largest k) serves every candidate k and weighting.
   */
  predictFromNeighbours(neighbours: KnnNeighbours, k: number, weighting: KnnWeighting): Matrix {
    const { index, dist2 } = neighbours;
    const stride = Math.min(this.k, this.nTrain);
    const kUse = Math.min(k, stride);
    if (!(kUse >= 1)) throw new Error(`KnnRegressor.predictFromNeighbours: k must be >= 1, got ${k}`);
    const nRows = index.length / stride;
    const nOut = this.trainY.cols;
    const ty = this.trainY.data;
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
        for (let j = 0; j < nOut; j++) acc[j] += w * ty[to + j];
      }
      for (let j = 0; j < nOut; j++) out[r * nOut + j] = acc[j] / wsum;
    }
    return { data: out, rows: nRows, cols: nOut };
  }

  toJSON(): EstimatorJSON {
    return {
      kind: "knn", config: this.config, k: this.k, weighting: this.weighting, valMse: this.valMse,
      mean: Array.from(this.mean), invStd: Array.from(this.invStd),
      trainX: { rows: this.trainX.rows, cols: this.trainX.cols, data: Array.from(this.trainX.data) },
      trainY: { rows: this.trainY.rows, cols: this.trainY.cols, data: Array.from(this.trainY.data) },
    };
  }

  static fromJSON(json: EstimatorJSON): KnnRegressor {
    const r = new KnnRegressor(json.config as KnnConfig);
    const m = (v: unknown): Matrix => {
      const o = v as { rows: number; cols: number; data: number[] };
      return { data: Float32Array.from(o.data), rows: o.rows, cols: o.cols };
    };
    Object.assign(r, { k: json.k, weighting: json.weighting, valMse: json.valMse, mean: Float64Array.from(json.mean as number[]), invStd: Float64Array.from(json.invStd as number[]), trainX: m(json.trainX), trainY: m(json.trainY) });
    return r;
  }

  dispose(): void {}
}

registerEstimator("knn", (json) => KnnRegressor.fromJSON(json));
