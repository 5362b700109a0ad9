/**
 * Measured-target fits on worker threads (Node only; the browser app fits on the page's thread): while
 * the main thread featurises and predicts the next batch, a worker broadens, shifts and scores the
 * last one. Same MatchScorer, same float32 rows in, hence the same fits as the main thread's.
 *
 *   const workers = matchWorkers(prepared);
 *   try { await screenMeasured(prepared, candidates, predictor, { element, fitRows: workers.fitRows }); }
 *   finally { await workers.close(); }
 */
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { PreparedMatch } from "./match";
import type { RowFitter, UnitFit } from "./rank";

export interface MatchWorkers {
  /** Fit rows on the workers (batches go round-robin). */
  readonly fitRows: RowFitter;
  readonly threads: number;
  close(): Promise<void>;
}

/** `threads` worker threads (default 1: with 2 cores, one predicts and one fits) for `prepared`. */
export function matchWorkers(prepared: PreparedMatch, threads = 1): MatchWorkers {
  if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`matchWorkers: threads must be a positive integer, got ${threads}`);
  // Compiled (lib/dist) the worker is a .js file; run from the sources under tsx it is .ts, and the
  // worker registers tsx's require hook itself (a worker does not always inherit the parent's loader).
  const file = path.join(__dirname, `match-worker${path.extname(__filename)}`);
  const start = (w: unknown) =>
    file.endsWith(".ts")
      ? new Worker(`require("tsx/cjs"); require(${JSON.stringify(file)});`, { eval: true, workerData: w })
      : new Worker(file, { workerData: w });
  const pending = new Map<number, { resolve: (f: UnitFit[]) => void; reject: (e: unknown) => void }>();
  const workers = Array.from({ length: threads }, () => {
    const w = start(prepared);
    w.on("message", (msg: { id: number; out: Float64Array }) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      const o = msg.out;
      const fits: UnitFit[] = [];
      for (let r = 0; r < o.length / 6; r++) {
        fits.push({ score: o[6 * r], shift: o[6 * r + 1], sigma: o[6 * r + 2], gamma: o[6 * r + 3], shiftAtEdge: o[6 * r + 4] === 1, broadeningAtEdge: o[6 * r + 5] === 1 });
      }
      p.resolve(fits);
    });
    w.on("error", (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    return w;
  });
  let next = 0;
  const fitRows: RowFitter = (spectra, rows) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      // The rows are moved to the worker (fitBatchRows packs a fresh array per batch), the reply moved back.
      workers[id % threads].postMessage({ id, spectra, rows }, [spectra.buffer]);
    });
  return {
    fitRows,
    threads,
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
