/**
 * `npm run predict`: whole structures through a saved model, with the recorded band; bad files are
 * reported and skipped, the others written.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { sharedDataDir } from "../lib/config";
import { initBackend } from "../lib/model/backend";
import { MlpRegressor } from "../lib/model/estimator";
import { mlpConfig } from "../lib/model/mlp";
import { XanesPredictor } from "../lib/model/predictor";
import { studyConfig } from "../lib/study/config";
import { buildStudyDataset } from "../lib/study/features";
import { featurizeDataset } from "../lib/descriptors/table";
import { datasetSpectral } from "../lib/model/spectral";
import { main } from "../scripts/predict";
import { tempDirFactory } from "./helpers/files";

const tmp = tempDirFactory("xanes-predict-");
const CU = path.join(sharedDataDir(), "feff-cu-k-oxides");
const skip = fs.existsSync(CU) ? false : "shared data not found (set XAS_DATA_DIR)";
let modelDir: string;
let ids: string[];

before(async () => {
  await initBackend();
  if (skip) return;
  const cfg = studyConfig("quick");
  cfg.dataset.maxMaterials = 20;
  const ds = await buildStudyDataset(cfg);
  const table = featurizeDataset(ds, [{ name: "composition" }, { name: "rdf", options: { rMax: 5 } }], "Cu");
  const mlp = await new MlpRegressor(mlpConfig({ hidden: [8], epochs: 2, dropout: 0.2, seed: 4 })).fit(table.X, table.Y, { train: [...Array(table.X.rows).keys()] });
  modelDir = path.join(tmp("model"), "model");
  await new XanesPredictor(mlp.fitted(), table.featurizer, datasetSpectral(ds, "Cu", "K"), {
    uncertainty: { spread: "monte-carlo dropout", samples: 6, seed: 1, scale: 2, floor: 0.01 },
  }).save(modelDir);
  mlp.dispose();
  ids = [...new Set(ds.meta.map((m) => m.materialId))].slice(0, 2);
});

test("predict: two POSCARs (same file name) get their own CSV with a calibrated band; a bad file is skipped and listed", { skip }, async () => {
  const out = tmp("out");
  const bad = path.join(tmp("bad"), "broken.cif");
  fs.writeFileSync(bad, "data_x\n_cell_length_a 3\n");
  const lines: string[] = [];
  const code = await main(["--model", modelDir, "--out", out, ...ids.map((id) => path.join(CU, id, "POSCAR")), bad], (s) => lines.push(s));
  assert.equal(code, 0);
  assert.match(lines[0], /band: monte-carlo dropout, calibrated \(scale 2\.00/);
  for (const id of ids) {
    const csv = fs.readFileSync(path.join(out, `${id}_POSCAR.csv`), "utf8").trim().split("\n");
    assert.equal(csv[0], "curve,energy,mean,lower,upper");
    // curve names may hold commas (quoted); energy, mean, lower, upper are the last four fields
    const rows = csv.slice(1).map((l) => l.split(",").slice(-4));
    assert.ok(rows.length >= 275);
    // σ ≥ the calibrated floor everywhere: lower < mean < upper
    for (const r of rows) assert.ok(Number(r[2]) < Number(r[1]) - 0.009 && Number(r[3]) > Number(r[1]) + 0.009, r.join(","));
  }
  const report = JSON.parse(fs.readFileSync(path.join(out, "predictions.json"), "utf8"));
  assert.equal(report.predictions.length, 2);
  assert.equal(report.skipped.length, 1);
  assert.ok(report.skipped[0].reason.includes(bad));
  assert.ok(lines.some((l) => l.startsWith(`skipped ${bad}:`)));
});

test("predict: nothing readable exits 1; a missing model folder says how to make one", { skip }, async () => {
  const lines: string[] = [];
  assert.equal(await main(["--model", modelDir, "--out", tmp("o2"), "/nonexistent/POSCAR"], (s) => lines.push(s)), 1);
  assert.ok(lines.some((l) => /not found/.test(l)));
  await assert.rejects(main(["--model", "/nonexistent/model", "x.cif"], () => {}), /--model \/nonexistent\/model: not found/);
});
