/**
 * Ablation runs in child processes ("lanes"): the parent writes the feature table once to a
 * temporary folder (npy), starts `count` copies of this file as scripts, each running its share of the
 * (subset, seed) runs with one training thread, and collects one JSON line per finished run from
 * their stdout. Shares are balanced by size (features of the subset), largest first.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { SplitFractions } from "../data/splits";
import { MlpRegressor } from "../model/estimator";
import type { MlpConfig } from "../model/mlp";
import { takeColumns, type Matrix } from "../util/matrix";
import { readNpy, writeNpy } from "../data/npy";
import { ablationRun, ablationSplits, type AblationSubset, type RunScores } from "./ablation";
import { secondCoreIdle } from "../util/load";

export interface LaneJob {
  X: Matrix;
  Y: Matrix;
  energy: ArrayLike<number>;
  groups: readonly string[];
  seeds: readonly number[];
  fractions: SplitFractions;
  subsets: readonly AblationSubset[];
  /** Feature columns of each subset. */
  columns: readonly ArrayLike<number>[];
}

/** What a lane reads from job.json (the matrices are raw float32 files beside it). */
interface LaneFile {
  mlp: MlpConfig;
  shape: { rows: number; cols: number; outputs: number };
  energy: number[];
  groups: string[];
  seeds: number[];
  fractions: SplitFractions;
  subsets: AblationSubset[];
  columns: number[][];
}

/**
 * The lane count for this machine now: 2 when other processes leave a second core idle (the rule the
 * native step uses for its threads; lib/util/load), else 1 (in-process).
 */
export function defaultAblationLanes(): number {
  return secondCoreIdle() ? 2 : 1;
}

/** Greedy longest-first assignment of run indices (subset-major, seed-minor) to `count` lanes. */
export function laneShares(columns: readonly ArrayLike<number>[], nSeeds: number, count: number): number[][] {
  const runs = columns.flatMap((c, i) => Array.from({ length: nSeeds }, (_, s) => ({ k: i * nSeeds + s, cost: c.length + 400 })));
  runs.sort((a, b) => b.cost - a.cost || a.k - b.k);
  const shares: number[][] = Array.from({ length: count }, () => []);
  const load = new Array<number>(count).fill(0);
  for (const r of runs) {
    let j = 0;
    for (let l = 1; l < count; l++) if (load[l] < load[j]) j = l;
    shares[j].push(r.k);
    load[j] += r.cost;
  }
  return shares.filter((s) => s.length > 0);
}

/** The lane script: this file compiled (lib/dist, plain node) or as TypeScript (run through tsx). */
function laneCommand(): { args: string[]; cwd: string } {
  const file = __filename;
  if (file.endsWith(".ts")) return { args: ["--import", "tsx", file], cwd: path.resolve(__dirname, "..", "..") };
  return { args: [file], cwd: process.cwd() };
}

/** Runs every (subset, seed) of `job` in `count` child processes; `record(k, scores)` as each finishes. */
export async function runAblationLanes(count: number, mlp: MlpConfig, job: LaneJob, record: (k: number, scores: RunScores) => void): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xanes-ablation-"));
  try {
    const file: LaneFile = {
      mlp,
      shape: { rows: job.X.rows, cols: job.X.cols, outputs: job.Y.cols },
      energy: Array.from(job.energy),
      groups: [...job.groups],
      seeds: [...job.seeds],
      fractions: job.fractions,
      subsets: job.subsets.map((s) => ({ ...s })),
      columns: job.columns.map((c) => Array.from(c)),
    };
    fs.writeFileSync(path.join(dir, "job.json"), JSON.stringify(file));
    writeNpy(path.join(dir, "X.npy"), job.X.data, [job.X.rows, job.X.cols]);
    writeNpy(path.join(dir, "Y.npy"), job.Y.data, [job.Y.rows, job.Y.cols]);
    const shares = laneShares(job.columns, job.seeds.length, count);
    const { args, cwd } = laneCommand();
    await Promise.all(shares.map((share, lane) => runLane(args, cwd, dir, share, lane, record)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function runLane(args: string[], cwd: string, dir: string, share: number[], lane: number, record: (k: number, scores: RunScores) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, dir, share.join(",")], {
      cwd,
      env: { ...process.env, XANES_TRAIN_THREADS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const pending = new Set(share);
    let buffered = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        const msg = JSON.parse(line, (_, v) => (v === "NaN" ? NaN : v)) as { k: number; scores: RunScores };
        pending.delete(msg.k);
        record(msg.k, msg.scores);
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0 && pending.size === 0) resolve();
      else reject(new Error(`ablation lane ${lane} exited with ${code} before runs ${[...pending].join(", ")} finished:\n${stderr}`));
    });
  });
}

/** A float32 matrix the parent wrote (its shape checked against job.json). */
function readMatrix(file: string, rows: number, cols: number): Matrix {
  const a = readNpy(file);
  if (!(a.data instanceof Float32Array) || a.shape.join("×") !== `${rows}×${cols}`) throw new Error(`${file}: expected float32 ${rows}×${cols}, got ${a.shape.join("×")}`);
  return { data: a.data, rows, cols };
}

/** Child side: `<lane script> DIR k,k,…` runs those runs and prints {"k", "scores"} per finished run. */
async function laneMain(dir: string, share: number[]): Promise<void> {
  const job = JSON.parse(fs.readFileSync(path.join(dir, "job.json"), "utf8")) as LaneFile;
  const { rows, cols, outputs } = job.shape;
  const X = readMatrix(path.join(dir, "X.npy"), rows, cols);
  const Y = readMatrix(path.join(dir, "Y.npy"), rows, outputs);
  const { initBackend } = await import("../model/backend");
  await initBackend();
  const splits = ablationSplits(job.groups, job.seeds, job.fractions);
  const n = job.seeds.length;
  for (const k of share) {
    const [i, s] = [Math.floor(k / n), k % n];
    const Xs = job.columns[i].length === cols ? X : takeColumns(X, job.columns[i]);
    const seed = job.seeds[s];
    const scores = await ablationRun(Xs, Y, job.energy, splits[s], job.subsets[i].label, seed, new MlpRegressor({ ...job.mlp, seed }));
    // NaN (e.g. a score undefined for a flat spectrum) survives the line as "NaN".
    process.stdout.write(JSON.stringify({ k, scores }, (_, v) => (typeof v === "number" && Number.isNaN(v) ? "NaN" : v)) + "\n");
  }
}

if (require.main === module) {
  const [dir, share] = process.argv.slice(2);
  laneMain(dir, share.split(",").map(Number)).catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
