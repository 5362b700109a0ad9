import { test } from "node:test";
import assert from "node:assert/strict";
import type { Structure } from "../lib/structure/types";
import { InputError } from "../lib/util/errors";
import { substitutionCandidates, strainCandidates, vacancyCandidates } from "../lib/screening/candidates";
import { Featurizer } from "../lib/descriptors/featurizer";

// Cu at the origin, O at the face centres' neighbours, and a mixed site: O 0.6 + F 0.4 on one position.
const disordered: Structure = {
  lattice: Float64Array.from([4, 0, 0, 0, 4, 0, 0, 0, 4]),
  species: ["Cu", "O", "O", "O", "F"],
  frac: Float64Array.from([0, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0.5]),
  occupancy: Float64Array.from([1, 1, 1, 0.6, 0.4]),
  source: "mixed.cif",
};
const base = { id: "mixed", structure: disordered };

test("variants of a disordered cell keep its occupancies (site by site), so featurising them still refuses the disorder", () => {
  const variants = [
    ...substitutionCandidates(base, "O", ["S"]),
    ...substitutionCandidates(base, "O", ["S"], "single"),
    ...strainCandidates(base, [0.02]),
  ];
  assert.ok(variants.length >= 8);
  for (const v of variants) assert.deepEqual(Array.from(v.structure.occupancy ?? []), [1, 1, 1, 0.6, 0.4], v.id);
  const vac = vacancyCandidates(base, 0, { cutoff: 2.1 });
  // Every neighbour at 2 Å: the two full O and both entries of the mixed site, one removed at a time.
  assert.deepEqual(vac.map((v) => Array.from(v.structure.occupancy!)), [
    [1, 1, 0.6, 0.4],
    [1, 1, 0.6, 0.4],
    [1, 1, 1, 0.4],
    [1, 1, 1, 0.6],
  ]);
  vac.forEach((v) => assert.equal(v.structure.species.length, v.structure.occupancy!.length));
  const f = new Featurizer({ descriptors: [{ name: "rdf" }], absorber: "Cu" });
  for (const v of [variants[0], vac[0]]) {
    assert.throws(() => f.featurizeSite(v.structure, 0), (e: Error) => e instanceof InputError && /disordered environment/.test(e.message), v.id);
  }
  // An ordered cell stays ordered, with no occupancy field.
  const { occupancy: _o, ...ordered } = disordered;
  for (const v of [...substitutionCandidates({ id: "o", structure: ordered }, "O", ["S"]), ...vacancyCandidates({ id: "o", structure: ordered }, 0, { cutoff: 2.1 })]) {
    assert.equal("occupancy" in v.structure, false, v.id);
  }
});
