/**
 * Tables of a benchmark report (the JSON `npm run benchmark` writes, e.g. docs/benchmark/runs/*.json),
 * for notebook 04 and the README: eta on the test part with the validation figure beside it, n, and
 * the ratio to the published model; and the calibrated band's coverage when the run had an ensemble.
 */
import * as path from "node:path";
import { PROJECT_ROOT } from "../config";
import { readJsonFile } from "../util/json";
import { InputError } from "../util/errors";
import type { StudyTable } from "./tables";

interface Scores {
  valEta: number;
  testEta: number;
  nTest: number;
  testPearsonAtLeast095?: number;
  /** Absent in reports written before the benchmark recorded it. */
  testMeanMse?: number;
}

interface ReportRun {
  label: string;
  descriptors: string[];
  mean: Scores;
  knn: Scores & { name: string };
  mlp: { seeds: number[]; ensemble: Scores; settings?: { hidden?: number[]; lrSchedule?: { kind: string }; weightDecay?: number; dropout?: number; outputScaleExponent?: number } };
  uncertainty?: { chosenOnVal?: string; test: { coverage1: number; coverage2: number; spearmanUncertaintyError: number; n: number } } | null;
}

export interface BenchmarkReport {
  benchmark: string;
  label?: string;
  published?: Record<string, number>;
  runs: ReportRun[];
}

/** A benchmark report read from `file`; missing fields are an InputError naming the file and field. */
export function readBenchmarkReport(file: string): BenchmarkReport {
  const r = readJsonFile(file) as Partial<BenchmarkReport>;
  const need = (ok: boolean, field: string) => {
    if (!ok) throw new InputError(`${file}: ${field} is missing or malformed (not a report of npm run benchmark?)`);
  };
  need(typeof r.benchmark === "string", "benchmark");
  need(Array.isArray(r.runs) && r.runs.length > 0, "runs");
  r.runs!.forEach((run, i) => {
    for (const [k, s] of [["mean", run.mean], ["knn", run.knn], ["mlp.ensemble", run.mlp?.ensemble]] as const) {
      need(typeof s?.testEta === "number" && typeof s?.valEta === "number" && typeof s?.nTest === "number", `runs[${i}].${k}.testEta/valEta/nTest`);
    }
  });
  return r as BenchmarkReport;
}

const eta = (s: Scores) => `${s.testEta.toFixed(2)} (${s.valEta.toFixed(2)})`;

/** " (512-512-256, cosine, decay 1)" from a run's recorded MLP settings ("" when absent). */
function settingsLabel(st: ReportRun["mlp"]["settings"]): string {
  if (!st?.hidden) return "";
  const parts = [st.hidden.join("-")];
  if (st.lrSchedule && st.lrSchedule.kind !== "constant") parts.push(st.lrSchedule.kind);
  if (st.weightDecay) parts.push(`decay ${st.weightDecay}`);
  if (st.dropout === 0) parts.push("no dropout");
  if (st.outputScaleExponent !== undefined && st.outputScaleExponent !== 1) parts.push(`output scale γ ${st.outputScaleExponent}`);
  return ` (${parts.join(", ")})`;
}

/** One row per estimator and run: test eta (validation eta), n, ratio to the published best model. */
export function benchmarkEtaTable(reports: readonly BenchmarkReport[]): StudyTable {
  const rows: string[][] = [];
  const shown = new Set<string>();
  for (const rep of reports) {
    // The published eta is on the OmniXAS split only.
    const ref = rep.benchmark === "omnixas" ? rep.published?.expertXAS : undefined;
    const vs = (s: Scores) => (ref ? `${(s.testEta / ref).toFixed(2)}×` : "");
    // The mean spectrum depends on neither descriptors nor settings: once per benchmark.
    if (!shown.has(rep.benchmark)) rows.push([rep.benchmark, "mean training spectrum", eta(rep.runs[0].mean), String(rep.runs[0].mean.nTest), vs(rep.runs[0].mean), ""]);
    shown.add(rep.benchmark);
    for (const run of rep.runs) {
      const where = `${rep.benchmark}, ${run.label}`;
      const k = run.mlp.seeds.length;
      // kNN depends only on the descriptors: once per benchmark and descriptor set.
      const knnKey = `${where}/${run.knn.name}`;
      // The grouped split's goal is on the mean MSE, as a ratio to kNN's on the same features.
      const perKnn = (s: Scores) => (s.testMeanMse !== undefined && run.knn.testMeanMse ? `${(s.testMeanMse / run.knn.testMeanMse).toFixed(3)}` : "");
      if (!shown.has(knnKey)) rows.push([where, run.knn.name, eta(run.knn), String(run.knn.nTest), vs(run.knn), perKnn(run.knn)]);
      shown.add(knnKey);
      rows.push([where, `${k > 1 ? `MLP ensemble of ${k}` : "MLP, one seed"}${settingsLabel(run.mlp.settings)}`, eta(run.mlp.ensemble), String(run.mlp.ensemble.nTest), vs(run.mlp.ensemble), perKnn(run.mlp.ensemble)]);
    }
  }
  const ref = reports.find((r) => r.benchmark === "omnixas" && r.published?.expertXAS)?.published?.expertXAS;
  return {
    name: "benchmark-eta",
    title: "eta = median per-spectrum MSE of the mean training spectrum ÷ the model's (test; validation in brackets)",
    columns: ["benchmark, descriptors", "estimator", "eta test (val)", "n test", ref ? `÷ published ${ref}` : "", "test mean MSE ÷ kNN's"],
    rows,
  };
}

/** The calibrated ensemble band on test, per run that had one. */
export function benchmarkBandTable(reports: readonly BenchmarkReport[]): StudyTable {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const rows = reports.flatMap((rep) =>
    rep.runs.filter((run) => run.uncertainty).map((run) => {
      const u = run.uncertainty!;
      return [`${rep.benchmark}, ${run.label}${settingsLabel(run.mlp.settings)}`, `${run.mlp.seeds.length}`, u.chosenOnVal ?? "likelihood", String(u.test.n), pct(u.test.coverage1), pct(u.test.coverage2), u.test.spearmanUncertaintyError.toFixed(3)];
    }),
  );
  return {
    name: "benchmark-band",
    title: "Ensemble band calibrated on validation, checked on test (nominal 68.3 % / 95.4 %)",
    columns: ["benchmark, descriptors", "members", "calibration", "n test", "inside ±1σ", "inside ±2σ", "Spearman(uncertainty, RMSE)"],
    rows,
  };
}

/** The recorded runs the README and notebook 04 quote (docs/benchmark/runs; see docs/benchmark/README.md). */
export const HEADLINE_BENCHMARK_RUNS = ["omnixas-final-chosen.json", "omnixas-final.json", "grouped-final.json", "grouped-final-gamma.json"] as const;

/** The headline benchmark reports as recorded in this checkout. */
export function recordedBenchmarkReports(dir = path.join(PROJECT_ROOT, "docs", "benchmark", "runs")): BenchmarkReport[] {
  return HEADLINE_BENCHMARK_RUNS.map((f) => readBenchmarkReport(path.join(dir, f)));
}
