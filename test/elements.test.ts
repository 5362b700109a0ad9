import { test } from "node:test";
import assert from "node:assert/strict";
import {
  atomicNumber,
  element,
  ELEMENT_PROPERTY_NAMES,
  ELEMENT_SYMBOLS,
  elementProperty,
  isElementSymbol,
  MAX_ELEMENT_Z,
  OFM_LABELS,
  ofmVector,
} from "../lib/elements";
import { InputError } from "../lib/util/errors";

/** The labels of the 1-entries of an OFM one-hot vector, e.g. ["s2", "p4"]. */
function ones(symbol: string): string[] {
  const v = ofmVector(symbol);
  return OFM_LABELS.filter((_, i) => v[i] === 1);
}

test("symbol exports keep working", () => {
  assert.equal(ELEMENT_SYMBOLS[28], "Cu");
  assert.equal(atomicNumber("O"), 8);
  assert.ok(isElementSymbol("Pu") && !isElementSymbol("CU"));
});

test("table covers H..Pu in order with the basic facts right", () => {
  for (let z = 1; z <= MAX_ELEMENT_Z; z++) {
    const r = element(z);
    assert.equal(r.Z, z);
    assert.equal(r.symbol, ELEMENT_SYMBOLS[z - 1]);
    assert.ok(r.atomicMass > 0 && r.covalentRadius > 0 && r.ionizationEnergy > 0, r.symbol);
  }
  const cu = element("Cu");
  assert.equal(cu.name, "Copper");
  assert.equal(cu.period, 4);
  assert.equal(cu.group, 11);
  assert.equal(cu.block, "d");
  assert.ok(Math.abs(cu.atomicMass - 63.546) < 1e-3);
  assert.equal(cu.electronegativity, 1.9);
  assert.equal(element("O").covalentRadius, 0.66); // Cordero 2008
  assert.ok(Math.abs(element("H").ionizationEnergy - 13.598) < 1e-3);
  assert.equal(element(8).period, 2);
  assert.equal(element("Pb").group, 14);
});

test("unknown or out-of-table elements are clear errors", () => {
  assert.throws(() => element("Xx"), (e: Error) => e instanceof InputError && /unknown element symbol "Xx"/.test(e.message));
  assert.throws(() => element("cu"), InputError);
  assert.throws(() => element(0), /Z = 0/);
  assert.throws(() => element(95), /Z = 95/);
  assert.throws(() => element("Am"), /beyond the table/);
  assert.throws(() => element("Q", "POSCAR site 3"), /POSCAR site 3/);
});

test("elementProperty gives Float64Array by Z with NaN for missing values", () => {
  const x = elementProperty("electronegativity");
  assert.ok(x instanceof Float64Array);
  assert.equal(x.length, MAX_ELEMENT_Z + 1);
  assert.ok(Number.isNaN(x[0]));
  assert.equal(x[8], 3.44);
  assert.ok(Number.isNaN(x[2])); // He: no Pauling value
  assert.equal(elementProperty("valenceD")[26], 6);
  assert.equal(elementProperty("Z")[94], 94);
  for (const p of ELEMENT_PROPERTY_NAMES) assert.equal(elementProperty(p).length, MAX_ELEMENT_Z + 1);
  assert.throws(() => elementProperty("colour" as never), /unknown element property/);
});

test("valence counts outside the noble-gas core", () => {
  assert.deepEqual(element("Pd").valence, [0, 0, 10, 0]);
  assert.deepEqual(element("Cr").valence, [1, 0, 5, 0]);
  assert.deepEqual(element("Ce").valence, [2, 0, 1, 1]);
});

test("OFM one-hot valence vectors (Pham 2017)", () => {
  assert.equal(OFM_LABELS.length, 32);
  assert.deepEqual(OFM_LABELS.slice(0, 3), ["s1", "s2", "p1"]);
  assert.equal(OFM_LABELS[31], "f14");
  assert.deepEqual(ones("O"), ["s2", "p4"]);
  assert.deepEqual(ones("Fe"), ["s2", "d6"]);
  assert.deepEqual(ones("La"), ["s2", "d1"]);
  assert.deepEqual(ones("Pb"), ["s2", "p2", "d10", "f14"]);
  assert.deepEqual(ones("Cu"), ["s1", "d10"]);
  assert.deepEqual(ones("H"), ["s1"]);
  for (let z = 1; z <= MAX_ELEMENT_Z; z++) {
    const v = ofmVector(z);
    const n = v.reduce((a, b) => a + b, 0);
    assert.ok(n >= 1 && n <= 4, `Z=${z}: ${n} ones`);
  }
});
