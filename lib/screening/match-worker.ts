/**
 * Worker-thread entry of lib/screening/parallel.ts: builds a MatchScorer for the prepared target it is
 * started with and fits the rows it is sent. Replies with 6 numbers per row: score, shift, σ, γ,
 * shift-at-edge, broadening-at-bound (1/0).
 */
import { parentPort, workerData } from "node:worker_threads";
import { MatchScorer, type PreparedMatch } from "./match";

const scorer = new MatchScorer(workerData as PreparedMatch);
parentPort!.on("message", (msg: { id: number; spectra: Float32Array; rows: number }) => {
  const out = new Float64Array(msg.rows * 6);
  for (let r = 0; r < msg.rows; r++) {
    const f = scorer.fit(msg.spectra, r);
    const o = 6 * r;
    out[o] = f.score;
    out[o + 1] = f.shift;
    out[o + 2] = f.sigma;
    out[o + 3] = f.gamma;
    out[o + 4] = f.shiftAtEdge ? 1 : 0;
    out[o + 5] = f.broadeningAtEdge ? 1 : 0;
  }
  parentPort!.postMessage({ id: msg.id, out }, [out.buffer]);
});
