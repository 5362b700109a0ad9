/**
 * Predicts the absorbing element's XANES for whole structures with a saved model or ensemble, with
 * its uncertainty band, as the app's Predict view does (lib/model/structure-prediction.ts).
 *
 *   npm run predict -- [--model DIR] [--out DIR] STRUCTURE [STRUCTURE ...]
 *
 *   STRUCTURE   CIF, POSCAR/CONTCAR or Materials Project / pymatgen JSON (format from name or content)
 *   --model DIR model folder (xanes-model.json) or ensemble folder (default results/model, written by
 *               npm run reproduce)
 *   --out DIR   one CSV per structure (<name>.csv: curve, energy, mean, lower, upper; lower/upper =
 *               mean ∓ σ) and predictions.json (default results/predict)
 *
 * Sites are grouped into symmetry classes (moyo); each class is predicted once and the structure's
 * spectrum is their multiplicity-weighted average. σ is the ensemble's spread, or Monte Carlo dropout
 * samples for a single net that records a dropout band, scaled as calibrated on validation rows when
 * the model records that calibration (meta.uncertainty; `npm run reproduce` and `npm run benchmark`
 * write it). A file that cannot be read or featurised is reported and skipped; the others are written.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { scriptUsage } from "./usage";
import { resultsDir } from "../lib/config";
import { initBackend } from "../lib/model/backend";
import { bandRecord } from "../lib/model/band";
import { loadEnsemble } from "../lib/model/ensemble";
import { className, predictionCsv, predictStructure, type StructurePrediction } from "../lib/model/structure-prediction";
import { readStructureFile } from "../lib/structure/read";
import { writeJsonFile } from "../lib/eval/report";
import { InputError, errorMessage } from "../lib/util/errors";

/** The file's name, or with its folder when another input has the same name (POSCARs of several materials). */
function csvName(file: string, all: readonly string[]): string {
  const base = path.basename(file);
  const clash = all.some((f) => f !== file && path.basename(f) === base);
  return (clash ? `${path.basename(path.dirname(path.resolve(file)))}_${base}` : base).replace(/[^\w.-]+/g, "_");
}

export async function main(argv = process.argv.slice(2), log: (s: string) => void = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { model: { type: "string" }, out: { type: "string" }, help: { type: "boolean", default: false } },
  });
  if (values.help || positionals.length === 0) {
    log(scriptUsage(__filename));
    return values.help ? 0 : 1;
  }
  const modelDir = values.model ?? path.join(resultsDir(), "model");
  if (!fs.existsSync(modelDir)) throw new InputError(`--model ${modelDir}: not found${values.model ? "" : " (run npm run reproduce first, or give --model DIR)"}`);
  await initBackend();
  const members = await loadEnsemble(modelDir);
  const band = bandRecord(members[0].meta);
  const spectral = members[0].spectral;
  log(
    `model: ${members.length} member(s), ${spectral.mesh.element} ${spectral.mesh.edge}, ${spectral.mesh.count}-point mesh from ${spectral.mesh.start} eV, ${spectral.normalisation} normalisation; ` +
      (band ? `band: ${band.spread}, calibrated (scale ${band.scale.toFixed(2)}, floor ${band.floor.toExponential(2)}${band.calibratedOn ? ` on ${band.calibratedOn}` : ""})` : members.length > 1 ? "band: the members' raw spread (no calibration recorded)" : "no band (one net without a recorded dropout band)"),
  );
  const out = values.out ?? path.join(resultsDir(), "predict");
  fs.mkdirSync(out, { recursive: true });
  const done: { file: string; csv: string; prediction: StructurePrediction }[] = [];
  const skipped: { file: string; reason: string }[] = [];
  for (const file of positionals) {
    try {
      if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new InputError(`${file}: not found (or not a file)`);
      const p = predictStructure(readStructureFile(file), members);
      if (p.classes.length === 0) throw new InputError(`${file}: no ${spectral.mesh.element} site could be predicted (${p.skipped.map((s) => s.reason).join("; ") || `no ${spectral.mesh.element} site`})`);
      const csv = path.join(out, `${csvName(file, positionals)}.csv`);
      fs.writeFileSync(csv, predictionCsv(p));
      done.push({ file, csv, prediction: p });
      const meanSigma = p.average.std.reduce((s, v) => s + v, 0) / Math.max(1, p.average.std.length);
      log(`${file}: ${p.formula}, ${p.classes.length} class(es): ${p.classes.map((c) => className(p, c)).join("; ")}; mean σ of the average ${meanSigma.toExponential(2)} -> ${csv}`);
      for (const s of p.skipped) log(`  skipped sites ${s.sites.map((i) => i + 1).join(", ")}: ${s.reason}`);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      skipped.push({ file, reason: e.message });
      log(`skipped ${file}: ${e.message}`);
    }
  }
  const json = writeJsonFile(path.join(out, "predictions.json"), {
    model: modelDir,
    band,
    predictions: done.map((d) => ({
      file: d.file,
      csv: d.csv,
      formula: d.prediction.formula,
      energy: d.prediction.energy,
      classes: d.prediction.classes.map((c) => ({ sites: c.sites, multiplicity: c.multiplicity, symmetry: c.label, mean: c.band.mean, sigma: c.band.std })),
      average: { mean: d.prediction.average.mean, sigma: d.prediction.average.std },
      skippedSites: d.prediction.skipped,
    })),
    skipped,
  });
  log(`${done.length} of ${positionals.length} structure(s) predicted${skipped.length ? `, ${skipped.length} skipped (listed in ${json})` : ""}; wrote ${json}`);
  members.forEach((m) => m.dispose());
  return done.length > 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(err instanceof InputError ? `error: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : errorMessage(err));
      process.exit(1);
    },
  );
}
