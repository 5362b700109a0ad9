/**
 * `npm run bench:scale`: featurisation, one training epoch of the study MLP and peak memory at the
 * study's data size (~120,000 site spectra), measured at 10k, 30k and 120k sites.
 *
 * The dataset is the FEFF Cu K-edge set replicated with perturbed structures: replica 0 is the set
 * itself; replica r ≥ 1 scales each lattice by 1 + 0.02·(u − ½) and moves every atom by a seeded
 * Gaussian step (σ 0.003 in fractional coordinates, ≈ 0.01–0.03 Å), so every replica is
 * featurised from scratch (new structure objects, nothing cached). A replica's target is its
 * original site's spectrum: the figures here are times and memory, not accuracy.
 *
 * Each size runs in its own child process (peak RSS is per process): the features go straight into
 * one preallocated float32 matrix (held once), then trainMlp runs one epoch of the study MLP
 * (hidden 512-512-256, ReLU, Adam, MSE, batch 256) on 90 % of the rows with the other 10 % as
 * validation. Goals (issue 13): featurise < 60 s, epoch < 15 s, peak RSS < 2 GiB at 120k.
 *
 *   npm run bench:scale [-- --sizes 10000,30000,120000]
 */
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { sharedDataDir } from "../lib/config";
import { buildDataset } from "../lib/data/dataset";
import { collectFeffFolders } from "../lib/data/feff";
import { DESCRIPTOR_NAMES, Featurizer } from "../lib/descriptors/featurizer";
import { initBackend } from "../lib/model/backend";
import { mlpConfig, trainMlp } from "../lib/model/mlp";
import { DEFAULT_MESHES } from "../lib/spectra/mesh";
import type { Structure } from "../lib/structure/types";
import { createRng } from "../lib/util/random";

interface SizeResult {
  sites: number;
  skipped: number;
  columns: number;
  datasetMs: number;
  featuriseMs: number;
  featuriseCpuMs: number;
  epochMs: number;
  epochCpuMs: number;
  trainRows: number;
  samplesPerSec: number;
  /** Wall ms in the optimisation steps (trainRows / samplesPerSec); the rest of epochMs is scaler fits, standardisation, validation. */
  stepsMs: number;
  step: string;
  peakRssMb: number;
  featureMb: number;
  load: number[];
}

/** Box–Muller standard normal from a uniform generator. */
function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

function perturb(s: Structure, rng: () => number, tag: string): Structure {
  const scale = 1 + 0.02 * (rng() - 0.5);
  const lattice = Float64Array.from(s.lattice, (v) => v * scale);
  const frac = Float64Array.from(s.frac, (v) => v + 0.003 * gaussian(rng));
  return { lattice, species: s.species, frac, source: `${s.source ?? "structure"} (${tag})`, periodic: s.periodic };
}

async function runSize(n: number): Promise<SizeResult> {
  let t0 = performance.now();
  const ds = await buildDataset({ name: "bench-scale", sources: collectFeffFolders(path.join(sharedDataDir(), "feff-cu-k-oxides")), mesh: DEFAULT_MESHES["Cu-K"], filters: { elements: ["Cu"] } });
  const datasetMs = performance.now() - t0;
  const m = ds.energy.length;
  // Rows of each material, in dataset order.
  const byMaterial = new Map<string, number[]>();
  ds.meta.forEach((meta, i) => byMaterial.set(meta.materialId, [...(byMaterial.get(meta.materialId) ?? []), i]));
  const materials = [...byMaterial.keys()];

  const featurizer = new Featurizer({ descriptors: DESCRIPTOR_NAMES.map((name) => ({ name })), absorber: "Cu" });
  const d = featurizer.length;
  const X = new Float32Array(n * d);
  const Y = new Float32Array(n * m);
  const rng = createRng(12);
  let rows = 0;
  let skipped = 0;
  await initBackend();
  const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
  let c0 = process.cpuUsage();
  t0 = performance.now();
  for (let r = 0; rows < n; r++) {
    for (const id of materials) {
      if (rows >= n) break;
      const original = ds.structures.get(id)!;
      const structure = r === 0 ? original : perturb(original, rng, `replica ${r}`);
      for (const i of byMaterial.get(id)!) {
        if (rows >= n) break;
        try {
          featurizer.featurizeSite(structure, ds.meta[i].site, X, rows * d);
        } catch {
          skipped++;
          continue;
        }
        Y.set(ds.spectra.subarray(i * m, (i + 1) * m), rows * m);
        rows++;
      }
    }
  }
  const featuriseMs = performance.now() - t0;
  const featuriseCpuMs = cpuMs(process.cpuUsage(c0));

  // One epoch of the study MLP; rows in a seeded random 90/10 split.
  const order = Array.from({ length: n }, (_, i) => i);
  const srng = createRng(3);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(srng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nTrain = Math.round(0.9 * n);
  c0 = process.cpuUsage();
  t0 = performance.now();
  const res = await trainMlp({ data: X, rows: n, cols: d }, { data: Y, rows: n, cols: m },
    mlpConfig({ hidden: [512, 512, 256], activation: "relu", batchSize: 256, epochs: 1, seed: 1 }),
    { train: order.slice(0, nTrain), val: order.slice(nTrain) });
  const epochMs = performance.now() - t0;
  const epochCpuMs = cpuMs(process.cpuUsage(c0));
  res.model.dispose();
  return {
    sites: n,
    skipped,
    columns: d,
    datasetMs,
    featuriseMs,
    featuriseCpuMs,
    epochMs,
    epochCpuMs,
    trainRows: nTrain,
    samplesPerSec: res.timing.samplesPerSec,
    stepsMs: (nTrain / res.timing.samplesPerSec) * 1000,
    step: res.timing.optimizer,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    featureMb: X.byteLength / 2 ** 20,
    load: os.loadavg(),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sizes: { type: "string", default: "10000,30000,120000" }, child: { type: "string" } } });
  if (values.child) {
    const r = await runSize(Number(values.child));
    console.log(`RESULT ${JSON.stringify(r)}`);
    return;
  }
  const sizes = values.sizes!.split(",").map(Number);
  console.log(`scale bench: FEFF Cu K-edge set replicated with perturbed structures; ${os.cpus().length} cores, node ${process.version}`);
  console.log("each size in its own process; featurise = all five descriptors into one float32 matrix; epoch = trainMlp, 1 epoch,");
  console.log("study MLP hidden 512-512-256, batch 256, 90 % train / 10 % validation (validation pass included).");
  console.log("Wall times stretch when the load average exceeds the cores; CPU seconds (process time, all threads) are steadier.\n");
  const results: SizeResult[] = [];
  for (const n of sizes) {
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, "--child", String(n)], { encoding: "utf8", maxBuffer: 1 << 24 });
    const line = (r.stdout ?? "").split("\n").find((l) => l.startsWith("RESULT "));
    if (r.status !== 0 || !line) {
      console.log(`${n} sites: failed (${(r.stderr || r.error?.message || "").trim().split("\n").slice(-3).join(" | ")})`);
      continue;
    }
    const res = JSON.parse(line.slice(7)) as SizeResult;
    results.push(res);
    console.log(`${n} sites done (load ${res.load.map((x) => x.toFixed(1)).join(" ")})`);
  }
  const rowsOut = results.map((r) => [
    String(r.sites),
    (r.featuriseMs / 1000).toFixed(1),
    (r.featuriseCpuMs / 1000).toFixed(1),
    (r.sites / (r.featuriseMs / 1000)).toFixed(0),
    (r.epochMs / 1000).toFixed(1),
    (r.epochCpuMs / 1000).toFixed(1),
    (r.stepsMs / 1000).toFixed(1),
    r.samplesPerSec.toFixed(0),
    r.peakRssMb.toFixed(0),
    r.featureMb.toFixed(0),
    r.load[0].toFixed(1),
    `${r.columns} columns, ${r.skipped} skipped, dataset read ${(r.datasetMs / 1000).toFixed(1)} s, ${r.step}`,
  ]);
  const header = ["sites", "featurise s", "(CPU s)", "sites/s", "epoch s", "(CPU s)", "of which steps s", "train samples/s", "peak RSS MB", "features MB", "load", "notes"];
  const widths = header.map((h, i) => Math.max(h.length, ...rowsOut.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i < 11 ? c.padStart(widths[i]) : c)).join("  ");
  console.log("\n" + fmt(header));
  for (const row of rowsOut) console.log(fmt(row));
  // Growth exponent between consecutive sizes: time ∝ N^k.
  for (let i = 1; i < results.length; i++) {
    const a = results[i - 1];
    const b = results[i];
    const k = (x: number, y: number) => (Math.log(y / x) / Math.log(b.sites / a.sites)).toFixed(2);
    console.log(`${a.sites} → ${b.sites}: featurise ∝ N^${k(a.featuriseMs, b.featuriseMs)}, epoch ∝ N^${k(a.epochMs, b.epochMs)}, peak RSS ∝ N^${k(a.peakRssMb, b.peakRssMb)}`);
  }
  const big = results.find((r) => r.sites >= 120000);
  if (big) {
    console.log(`\ngoals at ${big.sites}: featurise ${(big.featuriseMs / 1000).toFixed(1)} s (< 60 s: ${big.featuriseMs < 60000 ? "met" : "NOT met"}), epoch ${(big.epochMs / 1000).toFixed(1)} s (< 15 s: ${big.epochMs < 15000 ? "met" : "NOT met"}), peak RSS ${(big.peakRssMb / 1024).toFixed(2)} GiB (< 2 GiB: ${big.peakRssMb < 2048 ? "met" : "NOT met"})`);
  }
  console.log(`load average now ${os.loadavg().map((x) => x.toFixed(2)).join(", ")} on ${os.cpus().length} cores`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
