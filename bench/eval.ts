// Evaluation speed on Cu K-set-sized synthetic arrays: kNN baseline (brute force with early exit)
// against a naive peer (full distances + sort) measured in the same run, and per-spectrum metrics.
// Run: node --import tsx bench/eval.ts   (the machine is shared: compare ratios, not absolute times)
import { KnnRegressor } from "../lib/eval/baselines";
import { takeRows } from "../lib/util/matrix";
import { evaluateSpectra } from "../lib/eval/metrics";
import { createRng } from "../lib/util/random";

function naiveKnn(X: Float32Array, d: number, Y: Float32Array, m: number, train: number[], test: number[], k: number): Float32Array {
  // Standardise like KnnRegressor, then full distances and a sort per query.
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const i of train) for (let j = 0; j < d; j++) mean[j] += X[i * d + j] / train.length;
  for (const i of train) for (let j = 0; j < d; j++) sd[j] += (X[i * d + j] - mean[j]) ** 2 / train.length;
  const inv = Array.from(sd, (v) => (Math.sqrt(v) > 1e-12 ? 1 / Math.sqrt(v) : 1));
  const out = new Float32Array(test.length * m);
  test.forEach((q, r) => {
    const dist = train.map((t) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += ((X[q * d + j] - X[t * d + j]) * inv[j]) ** 2;
      return { t, s };
    });
    dist.sort((a, b) => a.s - b.s);
    for (let c = 0; c < k; c++) for (let j = 0; j < m; j++) out[r * m + j] += Y[dist[c].t * m + j] / k;
  });
  return out;
}

async function main(): Promise<void> {
  const n = 4286; // train + val + test rows of the Cu K set after the grouped split
  const d = 1303;
  const m = 261;
  const rng = createRng(1);
  // Clustered features (like descriptors of related compounds) so neighbours are meaningful.
  const centres = Array.from({ length: 200 }, () => Float32Array.from({ length: d }, () => rng()));
  const X = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = centres[Math.floor(rng() * centres.length)];
    for (let j = 0; j < d; j++) X[i * d + j] = c[j] + 0.1 * rng();
  }
  const Y = Float32Array.from({ length: n * m }, () => rng());
  const train = Array.from({ length: 3331 }, (_, i) => i);
  const test = Array.from({ length: 955 }, (_, i) => 3331 + i);

  let t = performance.now();
  const knn = await new KnnRegressor({ kCandidates: [5], weightings: ["uniform"] }).fit({ data: X, rows: n, cols: d }, { data: Y, rows: n, cols: m }, { train });
  const fast = knn.predict(takeRows({ data: X, rows: n, cols: d }, test)).data;
  const tFast = performance.now() - t;
  t = performance.now();
  const slow = naiveKnn(X, d, Y, m, train, test, 5);
  const tSlow = performance.now() - t;
  let maxDiff = 0;
  for (let i = 0; i < fast.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fast[i] - slow[i]));
  console.log(`kNN ${test.length} queries × ${train.length} train × ${d} features: lib ${(tFast / 1000).toFixed(2)} s, naive ${(tSlow / 1000).toFixed(2)} s, ratio ${(tSlow / tFast).toFixed(2)}× (max |diff| ${maxDiff.toExponential(1)})`);

  const truth = Float32Array.from({ length: test.length * m }, () => rng());
  const energy = Float64Array.from({ length: m }, (_, j) => 8990 + 0.5 * j);
  t = performance.now();
  const reps = 5;
  for (let r = 0; r < reps; r++) evaluateSpectra(fast, truth, energy);
  const tEval = (performance.now() - t) / reps;
  console.log(`evaluateSpectra: ${test.length} spectra × ${m} points in ${tEval.toFixed(1)} ms (${((test.length / tEval) * 1000).toFixed(0)} spectra/s, all metrics incl. Spearman ranks)`);
}

main();
