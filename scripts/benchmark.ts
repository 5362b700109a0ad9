/**
 * Scores the Cu K-edge models on a published benchmark protocol.
 *
 *   npm run benchmark -- omnixas [options]
 *   npm run benchmark -- grouped [options]
 *
 * omnixas: the OmniXAS split (train/val/test by material) and processing (141-point mesh from
 * 8983.173 eV, absolute intensities); score eta = median per-spectrum MSE of the mean training
 * spectrum / the model's, compared with the published ExpertXAS value 5.19. Every estimator is
 * fitted on the train lines found under the roots, makes its choices (early stopping, kNN k) on the
 * val lines, and is scored once on the test lines.
 * grouped: the reproduction's own dataset and grouped split (70/10/20 by material, seed 42), with the
 * same estimators and scores (its goals: MLP mean MSE ≤ 0.4 × kNN's, ≥ 90 % of test spectra with
 * Pearson ≥ 0.95).
 *
 * Options:
 *   --root DIR        FEFF data root (repeatable; default <shared data>/feff-cu-k-oxides)
 *   --split DIR       split folder (default <shared data>/omnixas-cu-feff-split)
 *   --preset NAME     descriptor preset (repeatable): study, extended (default study)
 *   --singles         also each descriptor of the presets alone (MLP with the first seed, and kNN)
 *   --descriptors a,b also this descriptor list (repeatable; e.g. an ablation of one addition);
 *                     with --descriptors and no --preset, no preset is run
 *   --seeds 1,2,3     MLP seeds; the ensemble predicts their mean (default 1,2,3,4,5)
 *   MLP settings: by default the study preset trains the reproduction's final net (STUDY_MLP) and
 *   every other configuration the settings chosen on validation (scripts/estimators.ts): BENCHMARK_MLP
 *   for omnixas (chosen on its val lines), GROUPED_MLP for grouped (chosen on the grouped split's own
 *   val lines by the ensemble's val mean MSE; docs/benchmark/README.md);
 *   these options override them for every configuration:
 *   --hidden 512,512,256  --dropout 0.1  --lr 0.001  --batch 64  --epochs 200  --patience 30
 *   --loss mse|mse+derivative|mse+cosine  --loss-weight 1  --output-scaling standard|none|pca
 *   --lr-schedule constant | cosine:MIN[:WARMUP] | step:EVERY:FACTOR   (lrSchedule, lib/model/mlp.ts)
 *   --weight-decay 1e-4   decoupled (AdamW) weight decay
 *   --pca K           predict K principal-component coefficients (K ≥ 1), or keep the fraction K < 1
 *                     of the training variance (sets --output-scaling pca)
 *   --grid FILE       JSON array of { "label": "...", "mlp": { MlpConfig fields } }: each entry is run
 *                     for each preset (its fields over the settings above), in one process
 *   --predictions DIR write each member's val and test predictions (float32 npy, rows × mesh points) to
 *                     DIR/<configuration>/seed-<s>.{val,test}.npy, for pooling members later (--combine)
 *   --combine DIR     no training: score the ensemble of every member whose predictions are in DIR
 *                     (repeatable: members of several settings or runs pooled into one ensemble), next to
 *                     kNN on the first preset's features; the folders must come from the same protocol.
 *                     With --seeds, only the members of those seeds (in any of the folders)
 *   --out FILE        JSON report (default results/benchmark-omnixas.json)
 *   --save DIR        save the first preset's ensemble there (member-<k>/ folders, with the calibrated
 *                     band in each member's metadata) for `npm run evaluate` and screening
 *   --label TEXT      free text recorded in the report (e.g. what this run tests)
 *   --help
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { parseArgs } from "node:util";
import { scriptUsage } from "./usage";
import { resultsDir, sharedDataDir } from "../lib/config";
import { buildOmnixasData, etaScore, OMNIXAS_PUBLISHED_ETA, perSpectrumMse, median } from "../lib/data/omnixas";
import { DESCRIPTOR_PRESETS, presetDescriptors } from "../lib/descriptors/presets";
import { initBackend } from "../lib/model/backend";
import { takeRows } from "../lib/util/matrix";
import { spectralContract } from "../lib/model/spectral";
import { evaluateSpectra, shapeReproduced } from "../lib/eval/metrics";
import { bandCoverage, calibratedSigma, chooseBandOnValidation, ensembleMeanStd, uncertaintyReport } from "../lib/eval/uncertainty";
import { writeJsonFile } from "../lib/eval/report";
import { InputError, errorMessage } from "../lib/util/errors";
import { defaultMlp, featurizeForBenchmark, fitKnn, fitMean, fitMlp, FitData, readMemberPredictions, saveMlpEnsemble, selectDescriptors, STUDY_MLP, writeMemberPredictions } from "./estimators";
import { checkMlpConfig, type LrSchedule, type MlpConfig, type XanesMlp } from "../lib/model/mlp";
import { readJsonFile } from "../lib/util/json";
import { buildDataset, Dataset } from "../lib/data/dataset";
import { collectFeffFolders } from "../lib/data/feff";
import { groupedSplit, SplitIndices } from "../lib/data/splits";
import { DEFAULT_MESHES } from "../lib/spectra/mesh";
import { studyConfig } from "../lib/study/config";

function numbers(s: string, what: string): number[] {
  const v = s.split(",").map((x) => Number(x.trim()));
  if (v.length === 0 || v.some((x) => !Number.isFinite(x))) throw new InputError(`--${what}: expected comma-separated numbers, got "${s}"`);
  return v;
}

/** --lr-schedule: constant | cosine:MIN[:WARMUP] | step:EVERY:FACTOR. */
function lrSchedule(s: string): LrSchedule {
  const [kind, ...rest] = s.split(":");
  const v = rest.map(Number);
  const bad = () => new InputError(`--lr-schedule: expected constant, cosine:MIN[:WARMUP] or step:EVERY:FACTOR, got "${s}"`);
  if (v.some((x) => !Number.isFinite(x))) throw bad();
  if (kind === "constant" && v.length === 0) return { kind };
  if (kind === "cosine" && (v.length === 1 || v.length === 2)) return v.length === 1 ? { kind, minFactor: v[0] } : { kind, minFactor: v[0], warmupEpochs: v[1] };
  if (kind === "step" && v.length === 2) return { kind, everyEpochs: v[0], factor: v[1] };
  throw bad();
}

/** --grid FILE: entries { label, mlp } (checked here; the merged configs are checked by checkMlpConfig). */
function readGrid(file: string): { label: string; mlp: Partial<MlpConfig> }[] {
  const g = readJsonFile(file);
  if (!Array.isArray(g) || g.length === 0) throw new InputError(`${file}: --grid expects a non-empty JSON array of { "label": "...", "mlp": { ... } }`);
  const seen = new Set<string>();
  return g.map((e, i) => {
    const label = (e as { label?: unknown })?.label;
    const mlp = (e as { mlp?: unknown })?.mlp;
    if (typeof label !== "string" || label.length === 0 || seen.has(label)) throw new InputError(`${file}: entry ${i}: label must be a non-empty string, unique in the grid`);
    if (typeof mlp !== "object" || mlp === null || Array.isArray(mlp)) throw new InputError(`${file}: entry ${i} (${label}): mlp must be an object of MlpConfig fields`);
    const unknown = Object.keys(mlp).filter((k) => !(k in STUDY_MLP) || k === "seed");
    if (unknown.length) throw new InputError(`${file}: entry ${i} (${label}): unknown or per-member MlpConfig field(s) ${unknown.join(", ")}`);
    seen.add(label);
    return { label, mlp: mlp as Partial<MlpConfig> };
  });
}

/** Scores of one estimator's predictions on val and test rows. */
function scores(predVal: Float32Array, predTest: Float32Array, d: FitData, baseline: Float32Array, energy: Float64Array) {
  const truthVal = takeRows(d.Y, d.split.val).data;
  const truthTest = takeRows(d.Y, d.split.test).data;
  const val = etaScore(predVal, truthVal, baseline);
  const test = etaScore(predTest, truthTest, baseline);
  const mseTest = perSpectrumMse(predTest, truthTest, d.Y.cols);
  const mseVal = perSpectrumMse(predVal, truthVal, d.Y.cols);
  const shape = shapeReproduced(evaluateSpectra(predTest, truthTest, energy));
  return {
    valEta: val.eta,
    testEta: test.eta,
    nVal: val.n,
    nTest: test.n,
    testMedianMse: test.medianMseModel,
    valMeanMse: mseVal.reduce((a, b) => a + b, 0) / mseVal.length,
    testMeanMse: mseTest.reduce((a, b) => a + b, 0) / mseTest.length,
    testPearsonAtLeast095: shape.pearson["0.95"],
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      root: { type: "string", multiple: true },
      split: { type: "string" },
      preset: { type: "string", multiple: true },
      singles: { type: "boolean", default: false },
      descriptors: { type: "string", multiple: true },
      seeds: { type: "string" },
      hidden: { type: "string" },
      dropout: { type: "string" },
      lr: { type: "string" },
      batch: { type: "string" },
      epochs: { type: "string" },
      patience: { type: "string" },
      loss: { type: "string" },
      "loss-weight": { type: "string" },
      "output-scaling": { type: "string" },
      "lr-schedule": { type: "string" },
      "weight-decay": { type: "string" },
      pca: { type: "string" },
      grid: { type: "string" },
      predictions: { type: "string" },
      combine: { type: "string", multiple: true },
      out: { type: "string" },
      save: { type: "string" },
      label: { type: "string", default: "" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(scriptUsage(__filename));
    return;
  }
  const protocol = positionals[0];
  if ((protocol !== "omnixas" && protocol !== "grouped") || positionals.length > 1) throw new InputError(`unknown benchmark "${positionals.join(" ")}" (known: omnixas, grouped)`);
  const roots = values.root ?? [path.join(sharedDataDir(), "feff-cu-k-oxides")];
  const splitDir = values.split ?? path.join(sharedDataDir(), "omnixas-cu-feff-split");
  const presets = values.preset ?? (values.descriptors ? [] : ["study"]);
  const custom = (values.descriptors ?? []).map((l) => l.split(",").map((x) => x.trim()).filter((x) => x.length > 0));
  for (const p of presets) if (!(p in DESCRIPTOR_PRESETS)) throw new InputError(`--preset ${p}: unknown (known: ${Object.keys(DESCRIPTOR_PRESETS).join(", ")})`);
  const seeds = numbers(values.seeds ?? "1,2,3,4,5", "seeds");
  // the options given, over each configuration's default settings
  const overrides: Partial<MlpConfig> = {};
  const num = (v: string | undefined, what: string) => (v === undefined ? undefined : numbers(v, what)[0]);
  const set = <K extends keyof MlpConfig>(k: K, v: MlpConfig[K] | undefined) => v !== undefined && (overrides[k] = v);
  set("hidden", values.hidden ? numbers(values.hidden, "hidden") : undefined);
  set("dropout", num(values.dropout, "dropout"));
  set("learningRate", num(values.lr, "lr"));
  set("batchSize", num(values.batch, "batch"));
  set("epochs", num(values.epochs, "epochs"));
  set("patience", num(values.patience, "patience"));
  set("loss", values.loss as MlpConfig["loss"] | undefined);
  set("lossWeight", num(values["loss-weight"], "loss-weight"));
  set("outputScaling", values["output-scaling"] as MlpConfig["outputScaling"] | undefined);
  set("lrSchedule", values["lr-schedule"] ? lrSchedule(values["lr-schedule"]) : undefined);
  set("weightDecay", num(values["weight-decay"], "weight-decay"));
  if (values.pca !== undefined) {
    if (values["output-scaling"] !== undefined && values["output-scaling"] !== "pca") throw new InputError(`--pca needs --output-scaling pca (got ${values["output-scaling"]})`);
    overrides.outputScaling = "pca";
    overrides.pcaComponents = num(values.pca, "pca");
  } else if (values["output-scaling"] !== undefined && values["output-scaling"] !== "pca") {
    overrides.pcaComponents = null;
  }
  const grid = values.grid ? readGrid(values.grid) : [{ label: "", mlp: {} }];
  const combine = values.combine;
  if (combine && (values.grid || values.predictions || values.save)) throw new InputError("--combine scores saved member predictions: it takes no --grid, --predictions or --save");
  const settingsFor = (preset: string, extra: Partial<MlpConfig>): MlpConfig => {
    const cfg: MlpConfig = { ...defaultMlp(protocol, preset), ...overrides, ...extra };
    try {
      checkMlpConfig(cfg, "benchmark");
    } catch (err) {
      throw new InputError(errorMessage(err));
    }
    return cfg;
  };
  // every configuration's settings checked before any data is read
  for (const g of grid) for (const p of [...presets, "custom"]) settingsFor(p, g.mlp);
  const out = values.out ?? path.join(resultsDir(), "benchmark-omnixas.json");
  const log = (s: string) => console.log(s);

  const backend = await initBackend();
  log(`tfjs backend: ${backend.name}`);
  const data = protocol === "omnixas" ? await buildOmnixasData(roots, splitDir) : await groupedData(roots);
  const cov = data.coverage;
  if (cov) log(
      `split lines found here: train ${cov.found.train}/${cov.lines.train}, val ${cov.found.val}/${cov.lines.val}, test ${cov.found.test}/${cov.lines.test} ` +
      `(material folder absent: ${cov.materialMissing.train}/${cov.materialMissing.val}/${cov.materialMissing.test}; site spectrum absent: ${cov.siteMissingIds.length})`,
  );
  if (data.dataset.config.quality.held) log(`the processing held the first value of ${data.dataset.config.quality.held?.start} of ${data.dataset.meta.length} spectra (onset after the mesh start, ${data.dataset.energy[0]} eV)`);
  // union in registry order, so each config's columns come out in its featurizer's order
  const registryOrder = presetDescriptors("extended");
  const wanted = new Set([...presets.flatMap((p) => presetDescriptors(p)), ...custom.flat()]);
  const allNames = [...registryOrder.filter((n) => wanted.has(n)), ...[...wanted].filter((n) => !registryOrder.includes(n))];
  const { table, split } = featurizeForBenchmark(data.dataset, allNames, data.split);
  if (table.errors.length) log(`featurisation failed for ${table.errors.length} spectra (left out): ${table.errors.slice(0, 3).map((e) => e.message).join("; ")}`);
  log(`features: ${table.X.cols} columns (${allNames.join(", ")}) in ${table.seconds.toFixed(1)} s; rows train ${split.train.length}, val ${split.val.length}, test ${split.test.length}`);
  const M = data.dataset.energy.length;
  const energy = data.dataset.energy;

  const runs: Record<string, unknown>[] = [];
  // the report is rewritten after every configuration, so a long run stopped early keeps what it measured
  const writeReport = () => {
    const report = {
      benchmark: protocol,
      label: values.label,
      createdAt: new Date().toISOString(),
      complete: runs.length === configs.length,
      roots,
      splitDir,
      coverage: cov,
      heldFirstValue: data.dataset.config.quality.held?.start,
      rows: { train: split.train.length, val: split.val.length, test: split.test.length, featurisationErrors: table.errors },
      published: OMNIXAS_PUBLISHED_ETA,
      backend: backend.name,
      runs,
    };
    fs.mkdirSync(path.dirname(out), { recursive: true });
    writeJsonFile(out, report);
  };
  const summaryRows: string[][] = [];
  const configs: { label: string; preset: string; descriptors: string[]; seeds: number[]; mlp: MlpConfig; grid: string; combine?: string[] }[] = [];
  const named = (base: string, g: string) => (g ? `${base} / ${g}` : base);
  if (combine) {
    const p = presets[0] ?? "custom";
    const descriptors = presets.length ? presetDescriptors(p) : custom[0];
    configs.push({ label: named(p === "custom" ? descriptors.join("+") : p, `combined: ${combine.map((dir) => path.basename(dir)).join(" + ")}`), preset: p, descriptors, seeds: [], mlp: settingsFor(p, {}), grid: "", combine });
  }
  for (const g of combine ? [] : grid) {
    for (const p of presets) configs.push({ label: named(p, g.label), preset: p, descriptors: presetDescriptors(p), seeds, mlp: settingsFor(p, g.mlp), grid: g.label });
    for (const list of custom) configs.push({ label: named(list.join("+"), g.label), preset: "custom", descriptors: list, seeds, mlp: settingsFor("custom", g.mlp), grid: g.label });
    if (values.singles) {
      for (const name of allNames) configs.push({ label: named(`${name} alone`, g.label), preset: "single", descriptors: [name], seeds: seeds.slice(0, 1), mlp: settingsFor("single", g.mlp), grid: g.label });
    }
  }
  for (const [ci, c] of configs.entries()) {
    const keep = values.save !== undefined && ci === 0;
    const kept: XanesMlp[] = [];
    const X = selectDescriptors(table, c.descriptors);
    const nFeatures = X.cols;
    const d: FitData = { X, Y: table.Y, split };
    const mean = await fitMean(d);
    const baseline = mean.predict([0]);
    const knn = await fitKnn(d);
    const knnScores = scores(knn.predict(split.val), knn.predict(split.test), d, baseline, energy);
    log(`[${c.label}] kNN ${knn.name}: val eta ${knnScores.valEta.toFixed(3)}, test eta ${knnScores.testEta.toFixed(3)} (n ${knnScores.nTest})`);
    const memberVal: Float32Array[] = [];
    const memberTest: Float32Array[] = [];
    const members: Record<string, unknown>[] = [];
    if (c.combine) {
      for (const m of readMemberPredictions(c.combine, { val: split.val.length, test: split.test.length }, M, values.seeds === undefined ? undefined : seeds)) {
        memberVal.push(m.val);
        memberTest.push(m.test);
        const s = scores(m.val, m.test, d, baseline, energy);
        members.push({ source: m.source, ...s });
        log(`[${c.label}] member ${m.source}: val eta ${s.valEta.toFixed(3)}, val mean MSE ${s.valMeanMse.toExponential(3)}, test eta ${s.testEta.toFixed(3)}`);
      }
    }
    for (const seed of c.seeds) {
      const m = await fitMlp(d, c.mlp, seed);
      const pv = m.predict(split.val);
      const pt = m.predict(split.test);
      memberVal.push(pv);
      memberTest.push(pt);
      const s = scores(pv, pt, d, baseline, energy);
      members.push({ ...m.info, ...s });
      if (values.predictions) writeMemberPredictions(path.join(values.predictions, slug(c.label)), seed, pv, pt, M);
      log(`[${c.label}] MLP seed ${seed}: best epoch ${m.bestEpoch}/${m.epochsRun}, ${m.seconds.toFixed(0)} s (${loadNote()}); val eta ${s.valEta.toFixed(3)}, val mean MSE ${s.valMeanMse.toExponential(3)}, test eta ${s.testEta.toFixed(3)}`);
      if (keep) kept.push(m.model);
      else m.dispose();
    }
    const ensVal = ensembleMeanStd(memberVal);
    const ensTest = ensembleMeanStd(memberTest);
    const ens = scores(ensVal.mean, ensTest.mean, d, baseline, energy);
    let uncertainty: Record<string, unknown> | null = null;
    const nMembers = memberVal.length;
    if (nMembers > 1) {
      const truthVal = takeRows(table.Y, split.val).data;
      const truthTest = takeRows(table.Y, split.test).data;
      const rawTest = calibratedSigma(ensTest.std, { scale: 1, floor: 0 });
      // both calibrations on val; the one whose worst val coverage deviation from nominal is smaller is used
      const chosenBand = chooseBandOnValidation(ensVal.mean, ensVal.std, truthVal);
      const byMethod: Record<string, Record<string, unknown>> = {};
      for (const b of chosenBand.candidates) {
        const cal = b.calibration;
        const test = uncertaintyReport(ensTest.mean, calibratedSigma(ensTest.std, cal), truthTest, M);
        byMethod[b.method] = { calibration: cal, val: b.val, test };
        log(`[${c.label}] band (${b.method}): scale ${cal.scale.toFixed(2)}, floor ${cal.floor.toExponential(2)}; val 1σ ${(100 * b.val.coverage1).toFixed(1)} %, 2σ ${(100 * b.val.coverage2).toFixed(1)} %; test 1σ ${(100 * test.coverage1).toFixed(1)} %, 2σ ${(100 * test.coverage2).toFixed(1)} %, Spearman(u, RMSE) ${test.spearmanUncertaintyError.toFixed(3)}`);
      }
      const chosen = { method: chosenBand.method, cal: chosenBand.calibration };
      uncertainty = {
        chosenOnVal: chosen.method,
        calibration: chosen.cal,
        ...byMethod[chosen.method],
        methods: byMethod,
        testUncalibrated: { coverage1: bandCoverage(ensTest.mean, rawTest, truthTest, 1), coverage2: bandCoverage(ensTest.mean, rawTest, truthTest, 2) },
      };
    }
    if (keep) {
      const cal = (uncertainty?.calibration ?? null) as { scale: number; floor: number } | null;
      // OmniXAS spectra are their intensity scale ("none" as a normalisation); `protocol` tells evaluate to reprocess so.
      const spectral = spectralContract(data.dataset.config.mesh, "Cu", "K", protocol === "omnixas" ? "none" : data.dataset.config.normalisation);
      const dirs = await saveMlpEnsemble(values.save!, kept, c.descriptors, spectral, {
        protocol,
        processing: protocol === "omnixas" ? "OmniXAS: window cut, numpy-interp ends, mu × xsedge50 × 1000/a0² (lib/data/omnixas.ts)" : "reproduction dataset (studyConfig)",
        preset: c.preset,
        trainedOn: { benchmark: protocol, roots, splitDir, rows: split.train.length },
        uncertainty: cal ? { scale: cal.scale, floor: cal.floor, method: uncertainty!.chosenOnVal, calibratedOn: `${protocol} val rows` } : null,
      });
      kept.forEach((m) => m.dispose());
      log(`[${c.label}] saved ${dirs.length} members under ${values.save}`);
    }
    const meanScores = scores(mean.predict(split.val), mean.predict(split.test), d, baseline, energy);
    log(`[${c.label}] val: mean MSE MLP ensemble ${ens.valMeanMse.toExponential(3)}, kNN ${knnScores.valMeanMse.toExponential(3)}, ratio ${(ens.valMeanMse / knnScores.valMeanMse).toFixed(3)}`);
    log(`[${c.label}] test: mean MSE MLP ensemble / kNN ${(ens.testMeanMse / knnScores.testMeanMse).toFixed(3)}; Pearson ≥ 0.95: MLP ensemble ${(100 * ens.testPearsonAtLeast095).toFixed(1)} %, kNN ${(100 * knnScores.testPearsonAtLeast095).toFixed(1)} %`);
    log(`[${c.label}] MLP ensemble of ${nMembers}: val eta ${ens.valEta.toFixed(3)}, test eta ${ens.testEta.toFixed(3)} (n ${ens.nTest}${protocol === "omnixas" ? `; ExpertXAS ${OMNIXAS_PUBLISHED_ETA.expertXAS}, ratio ${(ens.testEta / OMNIXAS_PUBLISHED_ETA.expertXAS).toFixed(3)}` : ""})`);
    runs.push({
      label: c.label,
      preset: c.preset,
      descriptors: c.descriptors,
      nFeatures,
      mean: meanScores,
      knn: { name: knn.name, ...knn.info, ...knnScores },
      grid: c.grid || undefined,
      mlp: { settings: c.combine ? null : c.mlp, seeds: c.seeds, combined: c.combine, members, ensemble: ens, memberTestEta: summary(members.map((m) => m.testEta as number)), memberValEta: summary(members.map((m) => m.valEta as number)) },
      uncertainty,
    });
    summaryRows.push([
      c.label, String(nMembers), knnScores.valEta.toFixed(3), knnScores.testEta.toFixed(3), summary(members.map((m) => m.valEta as number)).mean.toFixed(3),
      ens.valEta.toFixed(3), ens.testEta.toFixed(3), String(ens.nTest), (ens.testMeanMse / knnScores.testMeanMse).toFixed(3), `${(100 * ens.testPearsonAtLeast095).toFixed(1)} %`,
      (ens.valMeanMse / knnScores.valMeanMse).toFixed(3),
    ]);
    writeReport();
  }
  writeReport();
  log("");
  log(markdownTable(["configuration", "seeds", "kNN val eta", "kNN test eta", "MLP member val eta (mean)", "MLP ens. val eta", "MLP ens. test eta", "n test", "test MSE MLP/kNN", "test Pearson ≥ 0.95", "val MSE MLP/kNN"], summaryRows));
  log(`wrote ${out}`);
}

/**
 * The reproduction's own protocol: its dataset (studyConfig's Cu-K mesh and normalisation)
 * and grouped-by-material split (70/10/20, seed 42), on dataset rows.
 */
async function groupedData(roots: readonly string[]): Promise<{ dataset: Dataset; split: SplitIndices; coverage: null }> {
  const cfg = studyConfig("full");
  const sources = roots.map((r) => collectFeffFolders(r));
  const dataset = await buildDataset({
    name: "grouped-benchmark",
    sourceLabel: roots.join(", "),
    sources,
    mesh: DEFAULT_MESHES[cfg.dataset.mesh],
    normalisation: cfg.dataset.normalisation,
    filters: { elements: ["Cu"] },
    splitSeed: cfg.split.seed,
    splitFractions: cfg.split.fractions,
  });
  return { dataset, split: groupedSplit(dataset.meta.map((m) => m.materialId), cfg.split.fractions, cfg.split.seed), coverage: null };
}

/** A configuration label as a folder name. */
function slug(label: string): string {
  return label.toLowerCase().replace(/[^a-z0-9.]+/g, "-").replace(/^-+|-+$/g, "") || "config";
}

/** The 1-minute load average, recorded beside each member's training time. */
function loadNote(): string {
  return `load ${os.loadavg()[0].toFixed(2)}`;
}

function markdownTable(head: string[], rows: string[][]): string {
  return [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

function summary(v: number[]): { mean: number; std: number; median: number; values: number[] } {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1));
  return { mean: m, std: sd, median: median(v), values: v };
}

main().catch((err) => {
  console.error(err instanceof InputError ? `error: ${err.message}` : err instanceof Error ? err.stack ?? err.message : errorMessage(err));
  process.exit(1);
});
