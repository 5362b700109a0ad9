/**
 * Training throughput of the 1500-512-512-256-150 MLP (ReLU), batch 256, Adam, MSE, random data,
 * for each available tfjs backend configuration, through the lib's own trainMlp loop, against
 * PyTorch (bench/train_torch.py, /usr/bin/python3, one thread) measured in the same run.
 *
 * Each configuration: one warm-up epoch (excluded), then epochs until --seconds have passed.
 * PyTorch runs before and after the tfjs configurations; the ratio uses their mean.
 *
 *   node --import tsx bench/train.ts [--seconds 4] [--only wasm-patched,torch]
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { initBackend, InitBackendOptions } from "../lib/model/backend";
import { trainMlp } from "../lib/model/mlp";
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
  const { model, timing } = await trainMlp(X, LAYERS[0], Y, LAYERS[LAYERS.length - 1], {
    trainIdx,
    hidden: LAYERS.slice(1, -1),
    activation: "relu",
    batchSize: BATCH,
    learningRate: 1e-3,
    epochs: 1_000_000,
    seed: 0,
    onEpoch: (log) => {
      if (log.epoch === 1) tStart = log.elapsedMs;
      return log.epoch < 2 || log.elapsedMs - tStart < seconds * 1000;
    },
  });
  model.dispose();
  const measured = (timing.epochsRun - 1) * v.rows;
  return { name: v.name, samplesPerSec: timing.samplesPerSec, samplesMeasured: measured, note: `${v.note}; kernels: ${sel.kernelsPatched.join(", ") || "stock"}` };
}

function benchTorch(seconds: number): Result | string {
  const script = path.join(__dirname, "train_torch.py");
  const r = spawnSync(TORCH_PYTHON, [script, "--layers", LAYERS.join(","), "--batch", String(BATCH), "--rows", "2560", "--seconds", String(seconds)], {
    encoding: "utf8",
    timeout: (seconds + 120) * 1000,
  });
  if (r.error) return `torch not run: ${r.error.message}`;
  if (r.status !== 0) return `torch not run: ${(r.stderr || "").trim().split("\n").pop()}`;
  const line = r.stdout.trim().split("\n").pop() ?? "";
  const j = JSON.parse(line) as { samples_per_sec: number; steps: number; torch: string };
  return { name: "pytorch", samplesPerSec: j.samples_per_sec, samplesMeasured: j.steps * BATCH, note: `torch ${j.torch}, 1 thread` };
}

function tfjsNodeAvailable(): boolean {
  try {
    require.resolve("@tensorflow/tfjs-node");
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const seconds = Number(arg("seconds", "4"));
  const only = arg("only", "").split(",").filter(Boolean);
  const want = (n: string) => only.length === 0 || only.includes(n);

  const variants: Variant[] = [
    { name: "wasm-stock", init: { backend: "wasm", patchKernels: false }, rows: 512, note: "tfjs-backend-wasm as shipped" },
    { name: "wasm-patched", init: { backend: "wasm", nativeBlas: false }, rows: 2560, note: "transpose-then-multiply matmul, view-based slice" },
  ];
  if (loadNativeBlas()) variants.push({ name: "wasm+openblas", init: { backend: "wasm", nativeBlas: true }, rows: 2560, note: nativeBlasStatus() });
  else console.log(`(native BLAS row skipped: ${nativeBlasStatus()})`);
  if (tfjsNodeAvailable()) variants.push({ name: "tensorflow", init: { backend: "tensorflow" }, rows: 2560, note: "tfjs-node" });
  else console.log("(tensorflow row skipped: @tensorflow/tfjs-node not installed)");
  variants.push({ name: "cpu", init: { backend: "cpu" }, rows: 512, note: "pure JS" });

  console.log(`MLP ${LAYERS.join("-")} ReLU, batch ${BATCH}, Adam, MSE; ${seconds} s per configuration after a warm-up epoch.`);
  console.log("Note: the 2 cores are shared with other processes; expect ±20% noise — compare ratios from the same run.\n");

  const torchRuns: Result[] = [];
  let torchNote = "";
  const runTorch = () => {
    if (!want("pytorch") && !want("torch")) return;
    const t = benchTorch(seconds);
    if (typeof t === "string") torchNote = t;
    else torchRuns.push(t);
  };
  runTorch();
  const results: Result[] = [];
  for (const v of variants) {
    if (!want(v.name)) continue;
    process.stdout.write(`running ${v.name}…\n`);
    results.push(await benchTfjs(v, seconds));
  }
  runTorch();

  const torchMean = torchRuns.length ? torchRuns.reduce((s, r) => s + r.samplesPerSec, 0) / torchRuns.length : NaN;
  const rowsOut = [...results];
  if (torchRuns.length) {
    rowsOut.push({
      name: "pytorch",
      samplesPerSec: torchMean,
      samplesMeasured: torchRuns.reduce((s, r) => s + r.samplesMeasured, 0),
      note: `${torchRuns[0].note}; runs: ${torchRuns.map((r) => r.samplesPerSec.toFixed(0)).join(" / ")} samples/s (before / after)`,
    });
  }
  const header = ["configuration", "samples/s", "vs PyTorch", "samples timed", "notes"];
  const table = rowsOut.map((r) => [
    r.name,
    r.samplesPerSec.toFixed(0),
    Number.isFinite(torchMean) ? `${(r.samplesPerSec / torchMean).toFixed(2)}×` : "n/a",
    String(r.samplesMeasured),
    r.note,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i === 1 || i === 2 || i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  console.log("\n" + fmt(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of table) console.log(fmt(row));
  if (torchNote) console.log(`\n${torchNote}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
