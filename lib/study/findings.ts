/**
 * The verdicts the notebooks narrate, built from the measured values of a StudyResult (never
 * written by hand): one list of sentences per topic.
 */
import { summarize, DEFAULT_SHAPE_CRITERION } from "../eval/metrics";
import { formatMeanStd } from "./ablation";
import type { StudyResult } from "./study";

const pct = (x: number, d = 1) => `${(100 * x).toFixed(d)} %`;

export function studyFindings(r: StudyResult, topic: string): string[] {
  const f = r.final;
  switch (topic) {
    case "final": {
      const { mlp, knn } = f!.models;
      const b = r.beats();
      const tm = f!.training.timing;
      return [
        `${tm.epochsRun} epochs in ${(tm.totalMs / 1000).toFixed(1)} s (${Math.round(tm.samplesPerSec)} samples/s on ${tm.backend}); restored epoch ${f!.training.bestEpoch}` +
          (f!.training.stopEpoch < tm.epochsRun ? ` (patience ${r.cfg.final.mlp.patience} stopped at ${f!.training.stopEpoch}; training went on only to record the validation history the patience replay needs)` : ""),
        `MLP mean test MSE = **${b.mseRatioToKnn.toFixed(2)} ×** kNN's and **${b.mseRatioToMean.toFixed(2)} ×** the mean spectrum's (median MSE: ${(mlp.summary.mse.median / knn.summary.mse.median).toFixed(2)} × kNN's).`,
        b.mseRatioToKnn < 0.9 && b.mseRatioToMean < 0.9 ? "The MLP beats both baselines by more than 10 % in mean MSE." : "The MLP does NOT beat both baselines by a clear (10 %) margin in mean MSE on this split.",
        `kNN used k = ${f!.knn.k}, ${f!.knn.weighting} weights (validation MSE per k/weighting: ${Object.entries(f!.knn.valMse).map(([k, v]) => `${k}: ${v.toExponential(2)}`).join(", ")}).`,
        `Default shape criterion (${DEFAULT_SHAPE_CRITERION.metric} ≥ ${DEFAULT_SHAPE_CRITERION.threshold}): MLP ${pct(mlp.shape.default.fraction)} of test spectra (study: 85 %, criterion unknown).`,
        uncertaintySentence(r),
      ];
    }
    case "randomSplit": {
      const c = r.splitComparison!;
      const rnd = r.random!;
      const costs = c.groupedOverRandomMse;
      const rKnn = rnd.models.mlp.summary.mse.mean / rnd.models.knn.summary.mse.mean;
      return [
        `On the random split ${c.testSpectraFromMaterialsInTraining} of ${rnd.split.test.length} test spectra (${pct(c.testSpectraFromMaterialsInTraining / rnd.split.test.length, 0)}) come from a material with another ${r.cfg.dataset.element} site in training.`,
        `Grouping by material multiplies the mean test MSE by ${costs.mlp.toFixed(2)} for the MLP (kNN: ${costs.knn.toFixed(2)}, mean spectrum: ${costs.mean.toFixed(2)}); ` +
          (costs.knn > costs.mlp ? "kNN's error (it can copy a sibling site's spectrum) depends more on the grouping than the MLP's." : "the MLP's error depends at least as much on the grouping as kNN's."),
        `MLP ÷ kNN mean MSE: ${rKnn.toFixed(2)} on the random split vs ${r.beats().mseRatioToKnn.toFixed(2)} grouped; shape reproduced (Pearson ≥ 0.95): ` +
          `${pct(rnd.models.mlp.shape.pearson["0.95"])} random vs ${pct(f!.models.mlp.shape.pearson["0.95"])} grouped (study: 85 %, random split, criterion unknown).`,
      ];
    }
    case "patience": {
      const p = r.patience!;
      const same = p.candidates.every((c) => c.bestEpoch === p.candidates[0].bestEpoch);
      return [
        `Validation-only choice: **patience ${p.picked}** (${p.picked === p.configured ? "the configured value, so the test-informed choice did not change the model" : `not the configured ${p.configured}`}` +
          `${same ? "; every candidate restores the same epoch, the run is too short to tell them apart" : ""}).`,
        `Replaying patience ${p.configured} restores epoch ${p.configuredReplayBestEpoch}; the final run restored epoch ${p.finalRunBestEpoch}` +
          `${p.configuredReplayBestEpoch === p.finalRunBestEpoch ? " (one rule, EarlyStopping, live and replayed)" : " (they differ: a bug in the replay)"}; ${p.epochsRun} epochs were trained once for all candidates.`,
      ];
    }
    case "ablation": {
      const a = r.ablation!;
      const imp = [...a.importance].sort((x, y) => y.removalMseIncrease - x.removalMseIncrease);
      const multiSeed = a.seeds.length > 1;
      // "Clearly hurts": removing it raises the test MSE by more than its spread over seeds (needs ≥ 2 seeds).
      const hurts = imp.filter((x) => x.removalMseIncrease > 0 && (!multiSeed || x.removalMseIncrease > x.removalMseIncreaseStd));
      const all = a.rows.find((x) => x.kind === "all");
      const spread = multiSeed ? " by more than its spread over seeds" : "";
      return [
        multiSeed ? `${a.seeds.length} seeds.` : "One seed only (quick profile): no spread, read the numbers as a smoke test.",
        `Best single descriptor on this data: ${a.importance.find((x) => x.aloneRank === 1)?.name}.`,
        hurts.length
          ? `Removing ${hurts.map((x) => x.name).join(", ")} raises the test MSE${spread}; the largest increase is for ${hurts[0].name}.`
          : `No descriptor's removal raises the test MSE${spread}: with the others present, each one is largely redundant.`,
        ...(all ? [`All descriptors together: test MSE ${formatMeanStd(all.mean.mse, all.std.mse, (x) => x.toExponential(3))}; best subset: ${[...a.rows].sort((x, y) => x.mean.mse - y.mean.mse)[0].label}.`] : []),
        `Most important by the lib's rule (largest MSE increase on removal, else best alone): **${a.mostImportant}** (by ${a.mostImportantBy}).`,
        a.mostImportant === "rdf"
          ? "This agrees with the study, which found the RDF most important (on O K-edge spectra; these are Cu K-edge)."
          : `The study found the RDF most important (O K-edge); on these ${r.cfg.dataset.element} ${r.cfg.dataset.edge}-edge spectra the measurement points to ${a.mostImportant} instead.`,
      ];
    }
    case "errors": {
      const mlp = f!.models.mlp;
      const s = mlp.summary.mse;
      // Share of the total squared error carried by the worst 5 % of spectra: is the mean driven by outliers?
      const sorted = Float64Array.from(mlp.metrics.mse).sort().reverse();
      const top = Math.max(1, Math.round(0.05 * sorted.length));
      const share = sorted.subarray(0, top).reduce((x, y) => x + y, 0) / sorted.reduce((x, y) => x + y, 0);
      const co = r.errors!.breakdown.byCoElement.filter((x) => x.key !== "other").sort((x, y) => y.mean - x.mean);
      const nShow = Math.min(3, Math.floor(co.length / 2));
      const fmt = (rows: typeof co) => rows.map((x) => `${x.key} (${x.mean.toExponential(2)}, n=${x.n})`).join(", ");
      const within1 = mlp.metrics.peakAbsError.filter((v) => v <= 1).length / mlp.metrics.peakAbsError.length;
      return [
        `MLP test MSE: mean ${s.mean.toExponential(3)}, median ${s.median.toExponential(3)}, 90th percentile ${s.p90.toExponential(3)}, max ${s.max.toExponential(3)}; the worst 5 % of spectra carry **${pct(share, 0)}** of the total squared error.`,
        nShow > 0
          ? `Highest mean MSE with: ${fmt(co.slice(0, nShow))}; lowest with: ${fmt(co.slice(-nShow).reverse())} (${co.length} element groups with ≥ 5 test spectra).`
          : `Too few element groups with ≥ 5 test spectra to compare (${co.length}).`,
        `MLP main peak within 1 eV of the truth for ${pct(within1)} of test spectra (median error ${summarize(mlp.metrics.peakAbsError).median.toFixed(2)} eV).`,
      ];
    }
    case "oxygen": {
      const o = r.oxygen!;
      const wins = o.folds.filter((x) => x.mse.mlp < x.mse.knn && x.mse.mlp < x.mse.mean).length;
      return [`MLP has the lowest MSE in ${wins} of ${o.folds.length} folds (kNN lowest in ${o.folds.filter((x) => x.mse.knn < x.mse.mlp && x.mse.knn < x.mse.mean).length}).`];
    }
    default:
      throw new Error(`findings: unknown topic "${topic}"`);
  }
}

function uncertaintySentence(r: StudyResult): string {
  const u = r.final!.uncertainty;
  const near = Math.abs(u.test.coverage1 - 0.6827) <= 0.05 && Math.abs(u.test.coverage2 - 0.9545) <= 0.05;
  return (
    `Band (${u.samples} Monte Carlo dropout samples at rate ${u.dropout}, scale ${u.chosen.calibration.scale.toFixed(2)} and floor ${u.chosen.calibration.floor.toExponential(2)} ` +
    `chosen on validation by ${u.chosen.method}): on ${u.test.n} test spectra ${pct(u.test.coverage1)} of points lie inside ±1σ and ${pct(u.test.coverage2)} inside ±2σ ` +
    `(nominal 68.3 / 95.4 %; uncalibrated spread ${pct(u.testUncalibrated.coverage1)} / ${pct(u.testUncalibrated.coverage2)}) — ` +
    (near ? "within 5 points of nominal" : "NOT within 5 points of nominal") +
    `; Spearman correlation of per-spectrum uncertainty with actual RMSE ${u.test.spearmanUncertaintyError.toFixed(2)}.`
  );
}
