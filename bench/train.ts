/**
 * Training throughput of the 1500-512-512-256-150 MLP (ReLU), batch 256, Adam, MSE, random data,
 * for each available tfjs backend configuration, through the lib's own trainMlp loop, against
 * PyTorch (bench/train_torch.py, /usr/bin/python3, one thread) measured in the same run.
 *
 * Each configuration: one warm-up epoch (excluded), then epochs until --seconds have passed.
 * Fast configurations run --rounds times, each round beside its own PyTorch run, and report the
 * median ratio (robust to load drifting on a shared machine); slow ones (stock wasm, cpu) run once.
 *
 *   node --import tsx bench/train.ts [--seconds 3] [--rounds 3] [--only wasm-patched,wasm+openblas,pytorch]
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { initBackend, InitBackendOptions } from "../lib/model/backend";
import { mlpConfig, trainMlp } from "../lib/model/mlp";
import { loadNativeBlas, nativeBlasStatus } from "../lib/model/native_blas";
import { createRng } from "../lib/util/random";

const LAYERS = [1500, 512, 512, 256, 150];
const BATCH = 256;
const TORCH_PYTHON = "/usr/bin/python3";

interface Variant {
  name: string;
  init: InitBackendOptions;
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
  const sel = await initBackend(v.init);
  const { X, Y } = randomData(v.rows, 1);
  const trainIdx = Array.from({ length: v.rows }, (_, i) => i);
  let tStart = 0;
  let cpuStart = process.cpuUsage();
  const nIn = LAYERS[0], nOut = LAYERS[LAYERS.length - 1];
  const config = mlpConfig({ hidden: LAYERS.slice(1, -1), activation: "relu", batchSize: BATCH, learningRate: 1e-3, epochs: 1_000_000, seed: 0 });
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

function benchTorch(seconds: number): Result | string {
  const script = path.join(__dirname, "train_torch.py");
  const r = spawnSync(TORCH_PYTHON, [script, "--layers", LAYERS.join(","), "--batch", String(BATCH), "--rows", "2560", "--seconds", String(seconds)], {
    encoding: "utf8",
    timeout: (seconds + 120) * 1000,
    env: { ...process.env, OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" },
  });
  if (r.error) return `torch not run: ${r.error.message}`;
  if (r.status !== 0) return `torch not run: ${(r.stderr || "").trim().split("\n").pop()}`;
  const line = r.stdout.trim().split("\n").pop() ?? "";
  const j = JSON.parse(line) as { samples_per_sec: number; samples_per_cpu_sec: number; steps: number; torch: string };
  return { name: "pytorch", samplesPerSec: j.samples_per_sec, samplesPerCpuSec: j.samples_per_cpu_sec, samplesMeasured: j.steps * BATCH, note: `torch ${j.torch}, 1 thread` };
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
  if (loadNativeBlas()) variants.push({ name: "wasm+openblas", init: { backend: "wasm", nativeBlas: true }, rows: 2560, note: `${nativeBlasStatus().split(" ").slice(0, 2).join(" ")} sgemm + native Adam`, slow: false });
  else console.log(`(native BLAS row skipped: ${nativeBlasStatus()})`);
  if (tfjsNodeAvailable()) variants.push({ name: "tensorflow", init: { backend: "tensorflow" }, rows: 2560, note: "tfjs-node", slow: false });
  else console.log("(tensorflow row skipped: @tensorflow/tfjs-node not installed)");
  variants.push({ name: "cpu", init: { backend: "cpu" }, rows: 512, note: "pure JS", slow: true });

  console.log(`MLP ${LAYERS.join("-")} ReLU, batch ${BATCH}, Adam, MSE. Fast configurations: ${rounds} rounds of ${seconds} s,`);
  console.log("each round next to its own PyTorch run; ratio = median over rounds of (tfjs / PyTorch in that round).");
  console.log("The 2 cores are shared with other processes: wall-clock samples/s drift with load; samples per");
  console.log("CPU-second (process CPU time, both sides single-threaded compute) are steadier.\n");

  const torchOn = want("pytorch") || want("torch");
  let torchNote = "";
  const runTorch = (): Result | null => {
    if (!torchOn || torchNote) return null;
    const t = benchTorch(seconds);
    if (typeof t === "string") {
      torchNote = t;
      return null;
    }
    return t;
  };

  type Acc = { sps: number[]; cps: number[]; ratios: number[]; cpuRatios: number[]; samples: number; note: string };
  const perVariant = new Map<string, Acc>();
  const torchAll: Result[] = [];
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
    if (torch) torchAll.push(torch);
    for (const v of variants) {
      if (!want(v.name) || (v.slow && round > 0)) continue;
      process.stdout.write(`round ${round + 1}: ${v.name}…\n`);
      record(await benchTfjs(v, seconds), torch);
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
  if (torchAll.length) {
    table.push([
      "pytorch",
      median(torchAll.map((t) => t.samplesPerSec)).toFixed(0),
      "1.00×",
      median(torchAll.map((t) => t.samplesPerCpuSec)).toFixed(0),
      "1.00×",
      String(torchAll.reduce((s, t) => s + t.samplesMeasured, 0)),
      `${torchAll[0].note}; runs ${torchAll.map((t) => t.samplesPerSec.toFixed(0)).join("/")}`,
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i >= 1 && i <= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  console.log("\n" + fmt(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of table) console.log(fmt(row));
  if (torchNote) console.log(`\n${torchNote}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
