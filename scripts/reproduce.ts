/**
 * `npm run reproduce`: the Cu K-edge study end to end (lib/study runStudy): dataset, features, final
 * MLP and both baselines on a grouped-by-material split (and on a random-by-spectrum split, the
 * study's protocol), early-stopping patience replayed on the validation rows only, descriptor
 * ablation, error analysis, the O K-edge section, the saved predictor and a prediction for a
 * structure outside the dataset. Writes results/metrics.json, results/figures/*.png + figures.html
 * and results/model/.
 *
 * XANES_PROFILE=quick runs the same steps on a subset with tiny nets (seconds); default "full".
 * `--notebooks` then also executes every notebook in the same profile (results/notebooks/); they
 * reuse this run's cached final model (lib/study cache in the work dir).
 */
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { profile, resultsDir } from "../lib/config";
import { initBackend } from "../lib/model/backend";
import { exportFigures, writeJsonFile } from "../lib/eval/report";
import { formatMeanStd } from "../lib/study/ablation";
import { studyConfig } from "../lib/study/config";
import { runStudy } from "../lib/study/study";

const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

async function main(): Promise<void> {
  const { values: args } = parseArgs({ options: { notebooks: { type: "boolean", default: false } } });
  const cfg = studyConfig(profile());
  const out = resultsDir();
  log(`profile ${cfg.profile}; results → ${out}; ${os.cpus().length} CPUs`);
  const backend = await initBackend();
  log(`tfjs backend: ${backend.name} (${backend.reason})`);
  const root = path.join(__dirname, "..");
  const study = await runStudy(cfg, {
    log,
    // Train afresh; the run is cached for the notebooks (--notebooks) to reuse.
    cache: "refresh",
    modelDir: path.join(out, "model"),
    unseenStructure: path.join(root, "test", "fixtures", "unseen-cu-oxide", "POSCAR"),
  });
  console.log(study.markdown());
  const b = study.beats();
  log(`MLP test MSE / kNN = ${b.mseRatioToKnn.toFixed(3)}, / mean spectrum = ${b.mseRatioToMean.toFixed(3)}`);
  const a = study.ablation!;
  log(`most important descriptor (by ${a.mostImportantBy === "removal" ? "largest test-MSE increase when removed" : "best alone; no removal raised the MSE"}): ${a.mostImportant}`);
  for (const imp of a.importance) {
    log(`  ${imp.name}: alone MSE ${imp.aloneMse.toExponential(3)} (rank ${imp.aloneRank}), removal ΔMSE ${formatMeanStd(imp.removalMseIncrease, imp.removalMseIncreaseStd, (x) => x.toExponential(2))}`);
  }

  const t = performance.now();
  const written = await exportFigures(study.figures(), path.join(out, "figures"), "figures.html", `XANES reproduce (${cfg.profile})`);
  study.times.figures = (performance.now() - t) / 1000;
  const total = study.times.total + study.times.figures;
  delete study.times.total;
  study.times.total = total;
  log(`wrote ${written.length} figure files to ${path.join(out, "figures")}`);
  log(`wrote ${writeJsonFile(path.join(out, "metrics.json"), study.toJSON())}`);
  console.log(["| stage | seconds |", "|---|---:|", ...Object.entries(study.times).map(([k, v]) => `| ${k} | ${v.toFixed(1)} |`)].join("\n"));
  study.dispose();

  if (args.notebooks) {
    const run = (cmd: string[]) => spawnSync(cmd[0], cmd.slice(1), { cwd: root, stdio: "inherit", env: { ...process.env, XANES_PROFILE: cfg.profile } });
    log("building the lib for the notebooks (npm run build), then executing every notebook");
    if (run(["npm", "run", "--silent", "build"]).status !== 0) throw new Error("npm run build failed");
    if (run([process.execPath, "--import", "tsx", "scripts/run-notebooks.ts", `--${cfg.profile}`, "--out", path.join(out, "notebooks")]).status !== 0) throw new Error("a notebook failed (see above)");
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
