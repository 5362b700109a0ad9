/**
 * Training throughput of the 1500-512-512-256-150 MLP (ReLU), batch 256, Adam, MSE, random data,
 * for each available configuration, through the lib's own trainMlp loop, against PyTorch
 * (bench/train_torch.py, /usr/bin/python3) on one and on two threads, measured in the same run.
 *
 * Configurations: the native training step (lib/model/train_step.ts) on 1 and 2 threads, the tfjs
 * step on wasm + OpenBLAS (XANES_TRAIN_STEP=tfjs: what trainMlp ran before the native step), the
 * patched and stock wasm kernels, cpu. Each: one warm-up epoch (excluded), then epochs until
 * --seconds have passed. Fast configurations run --rounds times, each round beside its own PyTorch
 * runs; ratio = median over rounds of (ours / the better of PyTorch 1 and 2 threads in that round),
 * robust to load drifting on a shared machine; slow ones (stock wasm, cpu) run once. The load
 * average is printed with the table.
 *
 *   node --import tsx bench/train.ts [--seconds 3] [--rounds 3] [--batch 256] [--layers 1500,512,512,256,150] [--dropout 0]
 *     [--only native-1t,native-2t,tfjs-step,pytorch]
 * e.g. the study's final net on the Cu set's widths: --layers 1303,512,512,256,261 --batch 64 --dropout 0.1
 */
import * as os from "os";
import { spawnSync } from "child_process";
import * as path from "path";
import { initBackend, InitBackendOptions } from "../lib/model/backend";
import { mlpConfig, trainMlp } from "../lib/model/mlp";
import { loadNativeBlas, nativeBlasStatus } from "../lib/model/native_blas";
import { createRng } from "../lib/util/random";

/** Widths input-hidden…-output: --layers (default the issue's study MLP 1500-512-512-256-150). */
const LAYERS = arg("layers", "1500,512,512,256,150").split(",").map(Number);
/** --dropout (default 0): trainMlp's dropout; the PyTorch peer has none, so it is skipped when > 0. */
const DROPOUT = Number(arg("dropout", "0"));
/** Batch size: --batch (default 256, the issue's figure; the study's final net trains with 64). */
const BATCH = Number(arg("batch", "256"));
const TORCH_PYTHON = "/usr/bin/python3";

interface Variant {
  name: string;
  init: InitBackendOptions;
  /** Environment for the run (XANES_TRAIN_STEP, XANES_TRAIN_THREADS). */
  env?: Record<string, string>;
  /** Rows per epoch (slow backends get fewer so the warm-up epoch stays short). */
  rows: number;
  note: string;
}

interface Result {
  name: string;
  samplesPerSec: number;
  /** Samples per second of process CPU time: less sensitive to other processes on shared cores. */
  samplesPerCpuSec: number;
  samplesMeasured: number;
  note: string;
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

function randomData(rows: number, seed: number): { X: Float32Array; Y: Float32Array } {
  const rng = createRng(seed);
  const X = new Float32Array(rows * LAYERS[0]);
  for (let i = 0; i < X.length; i++) X[i] = rng() * 2 - 1;
  const Y = new Float32Array(rows * LAYERS[LAYERS.length - 1]);
  for (let i = 0; i < Y.length; i++) Y[i] = rng();
  return { X, Y };
}

async function benchTfjs(v: Variant, seconds: number): Promise<Result> {
  const saved = { XANES_TRAIN_STEP: process.env.XANES_TRAIN_STEP, XANES_TRAIN_THREADS: process.env.XANES_TRAIN_THREADS };
  Object.assign(process.env, v.env ?? {});
  try {
    return await benchTfjsRun(v, seconds);
  } finally {
    for (const [k, val] of Object.entries(saved)) {
      if (val === undefined) delete process.env[k];
      else process.env[k] = val;
    }
  }
}

async function benchTfjsRun(v: Variant, seconds: number): Promise<Result> {
  const sel = await initBackend(v.init);
  const { X, Y } = randomData(v.rows, 1);
  const trainIdx = Array.from({ length: v.rows }, (_, i) => i);
  let tStart = 0;
  let cpuStart = process.cpuUsage();
  const nIn = LAYERS[0], nOut = LAYERS[LAYERS.length - 1];
  const config = mlpConfig({ hidden: LAYERS.slice(1, -1), activation: "relu", batchSize: BATCH, dropout: DROPOUT, learningRate: 1e-3, epochs: 1_000_000, seed: 0 });
  const { model, timing } = await trainMlp({ data: X, rows: v.rows, cols: nIn }, { data: Y, rows: v.rows, cols: nOut }, config, { train: trainIdx }, {
    onEpoch: (log) => {
      if (log.epoch === 1) {
        tStart = log.elapsedMs;
        cpuStart = process.cpuUsage();
      }
      return log.epoch < 2 || log.elapsedMs - tStart < seconds * 1000;
    },
  });
  const cpu = process.cpuUsage(cpuStart);
  model.dispose();
  const measured = (timing.epochsRun - 1) * v.rows;
  // cpu covers the timed epochs plus their validation-free bookkeeping (as close as onEpoch allows)
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  return { name: v.name, samplesPerSec: timing.samplesPerSec, samplesPerCpuSec: measured / cpuSec, samplesMeasured: measured, note: `${v.note}; ${timing.optimizer}; kernels: ${sel.kernelsPatched.join(", ") || "stock"}` };
}

function benchTorch(seconds: number, threads: number): Result | string {
  const script = path.join(__dirname, "train_torch.py");
  const r = spawnSync(TORCH_PYTHON, [script, "--layers", LAYERS.join(","), "--batch", String(BATCH), "--rows", "2560", "--seconds", String(seconds), "--threads", String(threads)], {
    encoding: "utf8",
    timeout: (seconds + 120) * 1000,
    // What a user gets from torch.set_num_threads(n): OpenMP and OpenBLAS both at n threads.
    env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
  });
  if (r.error) return `torch not run: ${r.error.message}`;
  if (r.status !== 0) return `torch not run: ${(r.stderr || "").trim().split("\n").pop()}`;
  const line = r.stdout.trim().split("\n").pop() ?? "";
  const j = JSON.parse(line) as { samples_per_sec: number; samples_per_cpu_sec: number; steps: number; torch: string };
  return { name: `pytorch-${threads}t`, samplesPerSec: j.samples_per_sec, samplesPerCpuSec: j.samples_per_cpu_sec, samplesMeasured: j.steps * BATCH, note: `torch ${j.torch}, ${threads} thread${threads > 1 ? "s" : ""}` };
}

function tfjsNodeAvailable(): boolean {
  try {
    require.resolve("@tensorflow/tfjs-node");
    return true;
  } catch {
    return false;
  }
}

function median(xs: number[]): number {
  const a = [...xs].sort((p, q) => p - q);
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
}

async function main(): Promise<void> {
  const seconds = Number(arg("seconds", "3"));
  const rounds = Number(arg("rounds", "3"));
  const only = arg("only", "").split(",").filter(Boolean);
  const want = (n: string) => only.length === 0 || only.includes(n);

  // slow: measured once (a warm-up epoch + one timed epoch already take several seconds)
  const variants: (Variant & { slow: boolean })[] = [
    { name: "wasm-stock", init: { backend: "wasm", patchKernels: false }, rows: 512, note: "tfjs-backend-wasm as shipped", slow: true },
    { name: "wasm-patched", init: { backend: "wasm", nativeBlas: false }, rows: 2560, note: "transposed matmul operands made explicit, view-based slice", slow: false },
  ];
  if (loadNativeBlas()) {
    const blas = nativeBlasStatus().split(" ").slice(0, 2).join(" ");
    const init: InitBackendOptions = { backend: "wasm", nativeBlas: true };
    variants.unshift(
      { name: "native-1t", init, env: { XANES_TRAIN_THREADS: "1" }, rows: 2560, note: `native step, ${blas} sgemm, 1 thread`, slow: false },
      { name: "native-2t", init, env: { XANES_TRAIN_THREADS: "2" }, rows: 2560, note: `native step, ${blas} sgemm, 2 threads`, slow: false },
      { name: "tfjs-step", init, env: { XANES_TRAIN_STEP: "tfjs" }, rows: 2560, note: `tfjs step on wasm, ${blas} BatchMatMul + native Adam (before the native step)`, slow: false },
    );
  } else console.log(`(native rows skipped: ${nativeBlasStatus()})`);
  if (tfjsNodeAvailable()) variants.push({ name: "tensorflow", init: { backend: "tensorflow" }, rows: 2560, note: "tfjs-node", slow: false });
  else console.log("(tensorflow row skipped: @tensorflow/tfjs-node not installed)");
  variants.push({ name: "cpu", init: { backend: "cpu" }, rows: 512, note: "pure JS", slow: true });

  console.log(`MLP ${LAYERS.join("-")} ReLU, batch ${BATCH}, dropout ${DROPOUT}, Adam, MSE. Fast configurations: ${rounds} rounds of ${seconds} s,`);
  console.log("each round next to its own PyTorch runs (1 and 2 threads); ratio = median over rounds of");
  console.log("(ours / the better PyTorch of that round; per CPU-second: / the better PyTorch per CPU-second).");
  const loadAtStart = os.loadavg();
  console.log("The 2 cores are shared with other processes: wall-clock samples/s drift with load; samples per");
  console.log("CPU-second (process CPU time, both sides single-threaded compute) are steadier.\n");

  const torchOn = (want("pytorch") || want("torch")) && DROPOUT === 0;
  if (DROPOUT > 0) console.log("(PyTorch peer skipped: bench/train_torch.py has no dropout)");
  let torchNote = "";
  /** Both PyTorch runs of a round, and the better one (wall-clock and per CPU-second separately). */
  const runTorch = (): { runs: Result[]; best: Result } | null => {
    if (!torchOn || torchNote) return null;
    const runs: Result[] = [];
    for (const threads of [1, 2]) {
      const t = benchTorch(seconds, threads);
      if (typeof t === "string") {
        torchNote = t;
        return null;
      }
      runs.push(t);
    }
    const best: Result = {
      name: "pytorch-best",
      samplesPerSec: Math.max(...runs.map((r) => r.samplesPerSec)),
      samplesPerCpuSec: Math.max(...runs.map((r) => r.samplesPerCpuSec)),
      samplesMeasured: 0,
      note: "",
    };
    return { runs, best };
  };

  type Acc = { sps: number[]; cps: number[]; ratios: number[]; cpuRatios: number[]; samples: number; note: string };
  const perVariant = new Map<string, Acc>();
  const torchAll = new Map<string, Result[]>();
  const record = (r: Result, torch: Result | null) => {
    const e = perVariant.get(r.name) ?? { sps: [], cps: [], ratios: [], cpuRatios: [], samples: 0, note: r.note };
    e.sps.push(r.samplesPerSec);
    e.cps.push(r.samplesPerCpuSec);
    if (torch) {
      e.ratios.push(r.samplesPerSec / torch.samplesPerSec);
      e.cpuRatios.push(r.samplesPerCpuSec / torch.samplesPerCpuSec);
    }
    e.samples += r.samplesMeasured;
    perVariant.set(r.name, e);
  };
  for (let round = 0; round < rounds; round++) {
    const torch = runTorch();
    for (const t of torch?.runs ?? []) torchAll.set(t.name, [...(torchAll.get(t.name) ?? []), t]);
    for (const v of variants) {
      if (!want(v.name) || (v.slow && round > 0)) continue;
      process.stdout.write(`round ${round + 1}: ${v.name}… (load ${os.loadavg()[0].toFixed(1)})\n`);
      record(await benchTfjs(v, seconds), torch?.best ?? null);
    }
  }

  const header = ["configuration", "samples/s", "vs PyTorch", "samples/CPU-s", "vs PyTorch (CPU)", "samples timed", "notes"];
  const ratio = (xs: number[]) => (xs.length ? `${median(xs).toFixed(2)}×` : "n/a");
  const table = [...perVariant].map(([name, e]) => [
    name,
    median(e.sps).toFixed(0),
    ratio(e.ratios),
    median(e.cps).toFixed(0),
    ratio(e.cpuRatios),
    String(e.samples),
    `${e.note}${e.sps.length > 1 ? `; runs ${e.sps.map((x) => x.toFixed(0)).join("/")}` : ""}`,
  ]);
  for (const [name, runs] of torchAll) {
    table.push([
      name,
      median(runs.map((t) => t.samplesPerSec)).toFixed(0),
      "peer",
      median(runs.map((t) => t.samplesPerCpuSec)).toFixed(0),
      "peer",
      String(runs.reduce((s, t) => s + t.samplesMeasured, 0)),
      `${runs[0].note}; runs ${runs.map((t) => t.samplesPerSec.toFixed(0)).join("/")}`,
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i >= 1 && i <= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  console.log("\n" + fmt(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of table) console.log(fmt(row));
  if (torchNote) console.log(`\n${torchNote}`);
  const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(", ");
  console.log(`\nload average (1, 5, 15 min) at start: ${la(loadAtStart)}; at end: ${la(os.loadavg())} (${os.cpus().length} cores)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
