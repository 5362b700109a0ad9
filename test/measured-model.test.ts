// The model path on real measurements (issue 10), as `npm run validate:measured -- --train --heldout-only`
// runs it: a 3-member model trained on the FEFF set without the true structures of the two measured
// standards, so what is asserted is screening of structures the model never saw. A regression anywhere
// on that path (reading, foil calibration, normalisation, dataset mesh, descriptors, training, the
// leave-one-out offset, fitting, ranking) moves these ranks. ~30 s on the 2-core CI machine.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { sharedDataDir } from "../lib/config";
import { initBackend } from "../lib/model/backend";
import { parsePoscar } from "../lib/structure/poscar";
import { DEFAULT_MATCH, leaveOneOutOffsets, prepareMatch } from "../lib/screening/match";
import { feffValidationSet } from "../lib/screening/reference";
import { MatchCandidate, rankMatches } from "../lib/screening/rank";
import { predictMaterial, trainMeasuredModel } from "../lib/screening/model-validation";
import { CU_MEASURED_STANDARDS, VALIDATION_MESH, readMeasuredStandards } from "../lib/screening/standards";

test("measured CuO and azurite against a model that never saw their structures (125 candidates, CLI defaults): CuO top 4, azurite top 15", async () => {
  // Measured 2026-12-02 (validate:measured --train --heldout-only --defaults-only, seeds 1–3, 60 epochs):
  // CuO rank 3, azurite 13 (mp-23733), both unchanged with the offset moved by ±0.5 eV; the FEFF ceiling
  // with the same options gives 4 and 12. The thresholds leave one to two places for seed and platform noise.
  await initBackend();
  const root = path.join(sharedDataDir(), "feff-cu-k-oxides");
  const mesh = VALIDATION_MESH;
  const trueIds = CU_MEASURED_STANDARDS.flatMap((s) => s.trueIds);
  const { spectra: feff } = feffValidationSet(root, mesh, trueIds);
  assert.ok(feff.size >= 100, `${feff.size} candidates`);

  const model = await trainMeasuredModel({ root, mesh, seeds: [1, 2, 3], epochs: 60, exclude: trueIds });
  assert.equal(model.trainRows, model.dataset.meta.length - 6, "the six site spectra of the three true structures are left out");
  const cands: MatchCandidate[] = [];
  for (const id of feff.keys()) {
    const structure = parsePoscar(fs.readFileSync(path.join(root, id, "POSCAR"), "utf8"), id);
    cands.push({ id, members: (await predictMaterial(model.predictor, structure)).members });
  }

  // Read as a user's file is (foil-calibrated), and each ranked with the offset of the other standard only.
  const targets = readMeasuredStandards();
  const loo = leaveOneOutOffsets(targets.map((t) => ({ name: t.name, target: t.target, reference: feff.get(t.trueIds[0])! })), mesh, "Cu", "K", DEFAULT_MATCH);
  const ranks = targets.map((t, i) => {
    const ranked = rankMatches(prepareMatch(t.target, mesh, { ...DEFAULT_MATCH, offset: loo[i].offset }), cands);
    return Math.min(...ranked.filter((r) => t.trueIds.includes(r.id)).map((r) => r.rank));
  });
  console.log(`model without the true structures, ranks among ${cands.length}: CuO ${ranks[0]}, azurite ${ranks[1]}`);
  assert.ok(ranks[0] <= 4, `CuO rank ${ranks[0]}`);
  assert.ok(ranks[1] <= 15, `azurite rank ${ranks[1]}`);
});
