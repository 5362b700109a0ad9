/**
 * screenMeasured with the fits on a worker thread (lib/screening/parallel.ts) gives the same ranking as
 * on the main thread: same rows, same numbers. The predictor is a stand-in (FEFF spectra of the
 * candidate's material, perturbed per member and site), so no network is needed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { sharedDataDir } from "../lib/config";
import { meshEnergies } from "../lib/spectra/mesh";
import { readXdiFile } from "../lib/spectra/xdi";
import { parsePoscar } from "../lib/structure/poscar";
import { DEFAULT_MATCH, normaliseTarget, prepareMatch } from "../lib/screening/match";
import { feffMaterialSpectrum } from "../lib/screening/reference";
import { VALIDATION_MESH } from "../lib/screening/standards";
import { screenMeasured } from "../lib/screening/rank";
import { matchWorkers } from "../lib/screening/parallel";
import type { Candidate, ScreeningPredictor } from "../lib/screening/types";

test("measured screening: fits on a worker thread equal the main thread's, row for row", async () => {
  const root = path.join(sharedDataDir(), "feff-cu-k-oxides");
  const ids = ["mp-704645", "mp-1692", "mp-1064456", "mp-23733", "mp-1193268", "mp-361", "mp-1010"].filter((id) => fs.existsSync(path.join(root, id, "POSCAR")));
  const spectra = new Map<string, Float64Array>();
  const candidates: Candidate[] = [];
  for (const id of ids) {
    const r = feffMaterialSpectrum(path.join(root, id), VALIDATION_MESH);
    if (typeof r === "string") continue;
    const structure = parsePoscar(fs.readFileSync(path.join(root, id, "POSCAR"), "utf8"), id);
    spectra.set(structure.source!, r.spectrum);
    candidates.push({ id, structure });
  }
  assert.ok(candidates.length >= 5);
  const m = VALIDATION_MESH.points;
  const energy = meshEnergies(VALIDATION_MESH);
  const predictor: ScreeningPredictor = {
    energy,
    members: 3,
    predictSites: (items) =>
      [0, 1, 2].map((e) => {
        const out = new Float32Array(items.length * m);
        items.forEach((it, i) => {
          const s = spectra.get(it.structure.source!)!;
          for (let j = 0; j < m; j++) out[i * m + j] = s[j] * (1 + 0.01 * e) + 0.002 * Math.sin(0.1 * j + it.site + e);
        });
        return out;
      }),
  };
  const x = readXdiFile(path.join(sharedDataDir(), "xaslib", "data", "Cu", "CuO_tenorite_13K_01.xdi"));
  const prepared = prepareMatch(normaliseTarget(x.energy, x.mu, x.source), VALIDATION_MESH, { ...DEFAULT_MATCH, offset: -4.75 });
  const strip = (rows: { prediction: unknown; predictionStd: unknown }[]) => rows.map(({ prediction, predictionStd, ...r }) => r);
  for (const kind of ["material", "site"] as const) {
    const main = await screenMeasured(prepared, candidates, predictor, { element: "Cu", kind, batchSize: 8 });
    const workers = matchWorkers(prepared);
    try {
      const off = await screenMeasured(prepared, candidates, predictor, { element: "Cu", kind, batchSize: 8, fitRows: workers.fitRows });
      assert.deepEqual(strip(off.rows), strip(main.rows), kind);
      assert.deepEqual(off.rows.map((r) => Array.from(r.prediction)), main.rows.map((r) => Array.from(r.prediction)));
    } finally {
      await workers.close();
    }
  }
});
