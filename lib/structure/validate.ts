import { isElementSymbol } from "../elements/symbols";
import { element } from "../elements/table";
import { neighbourFinder } from "../geometry/neighbours";
import { latticeVolume } from "./lattice";
import { Structure } from "./types";
import { InputError } from "../util/errors";

/** Atoms closer than this (Å), periodic images included, are overlapping. */
export const OVERLAP_DISTANCE = 0.1;

/**
 * Throw an InputError (naming the source and sites) for a structure that cannot be physical: sizes
 * that disagree, unknown elements, non-finite numbers, a degenerate lattice (|volume| < 1e-6 Å³),
 * occupancies outside (0, 1], or two atoms (or an atom and an image) closer than 0.1 Å. Partially
 * occupied sites may be close to or share a position with others (split and mixed sites) as long as
 * the occupancies at one position sum to ≤ 1. Returns the structure for chaining.
 */
export function validateStructure(s: Structure): Structure {
  const src = s.source ?? "structure";
  const n = s.species.length;
  if (s.lattice.length !== 9) throw new InputError(`${src}: lattice has ${s.lattice.length} numbers, expected 9`);
  if (n === 0) throw new InputError(`${src}: no sites`);
  if (s.frac.length !== 3 * n) throw new InputError(`${src}: ${n} species but ${s.frac.length} coordinates (expected ${3 * n})`);
  if (!s.lattice.every(Number.isFinite)) throw new InputError(`${src}: lattice has non-finite numbers`);
  const vol = latticeVolume(s.lattice);
  if (!(Math.abs(vol) >= 1e-6) || !Number.isFinite(vol)) throw new InputError(`${src}: degenerate lattice (volume ${vol.toPrecision(3)} Å³)`);
  const occ = s.occupancy;
  if (occ && occ.length !== n) throw new InputError(`${src}: ${n} sites but ${occ.length} occupancies`);
  for (let i = 0; i < n; i++) {
    if (!isElementSymbol(s.species[i])) throw new InputError(`${src}: site ${i}: unknown element "${s.species[i]}"`);
    for (let c = 0; c < 3; c++) {
      const v = s.frac[3 * i + c];
      // beyond 1e4 cells a coordinate has lost the digits that place it within its cell
      if (!Number.isFinite(v) || Math.abs(v) > 1e4) throw new InputError(`${src}: site ${i} (${s.species[i]}): coordinate ${v} is not finite or out of range`);
    }
    if (occ && !(occ[i] > 0 && occ[i] <= 1)) throw new InputError(`${src}: site ${i} (${s.species[i]}): occupancy ${occ[i]} not in (0, 1]`);
  }
  const partial = (i: number) => occ !== undefined && occ[i] < 1;
  const finder = neighbourFinder(s); // the cached one: later neighbour queries of s reuse it
  for (let i = 0; i < n; i++) {
    const nl = finder.neighbours(i, OVERLAP_DISTANCE);
    for (let k = 0; k < nl.index.length; k++) {
      const j = nl.index[k];
      if (partial(i) && partial(j) && j !== i) continue; // split sites: alternatives, not both present
      const what = j === i ? "its own periodic image" : `site ${j} (${s.species[j]})`;
      throw new InputError(`${src}: site ${i} (${s.species[i]}) overlaps ${what}: ${nl.distance[k].toFixed(4)} Å apart`);
    }
  }
  // zero-distance duplicates are excluded from neighbour lists as "self": find them with a hash of
  // the wrapped position (linear; positions equal to 1e-9 in a cell fall in one bucket or a neighbour)
  const byPos = new Map<string, number[]>();
  const q = (v: number) => Math.round(v * 1e8) % 100000000;
  for (let i = 0; i < n; i++) {
    const key = `${q(finder.wrappedFrac[3 * i])},${q(finder.wrappedFrac[3 * i + 1])},${q(finder.wrappedFrac[3 * i + 2])}`;
    const list = byPos.get(key);
    if (list) list.push(i);
    else byPos.set(key, [i]);
  }
  for (const list of byPos.values()) {
    if (list.length < 2) continue;
    const total = list.reduce((a, i) => a + (occ ? occ[i] : 1), 0);
    if (!list.every(partial) || total > 1 + 1e-3) {
      const [i, j] = list;
      throw new InputError(`${src}: sites ${i} (${s.species[i]}) and ${j} (${s.species[j]}) are at the same position${occ ? ` (total occupancy ${+total.toFixed(4)})` : ""}`);
    }
  }
  return s;
}

/** True when every site is fully occupied by one element. */
export function isOrdered(s: Structure): boolean {
  return !s.occupancy || s.occupancy.every((o) => o === 1);
}

/** Occupancy-weighted amount of each element in the cell, in order of first appearance. */
export function composition(s: Structure): Map<string, number> {
  const m = new Map<string, number>();
  s.species.forEach((el, i) => m.set(el, (m.get(el) ?? 0) + (s.occupancy ? s.occupancy[i] : 1)));
  return m;
}

/** Distinct elements in order of first appearance. */
export function elementsOf(s: Structure): string[] {
  return [...new Set(s.species)];
}

/** Number of sites of each element, in order of first appearance. */
export function elementCounts(s: Structure): Map<string, number> {
  const m = new Map<string, number>();
  for (const el of s.species) m.set(el, (m.get(el) ?? 0) + 1);
  return m;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Pauling electronegativity for ordering; elements without one (noble gases) go last. */
function orderKey(el: string): number {
  try {
    return element(el).electronegativity ?? Infinity;
  } catch {
    return Infinity;
  }
}

/**
 * Formula of the cell ("Cu4O2") or, with `reduced`, divided by the gcd of the counts ("Cu2O").
 * Elements ordered by electronegativity like pymatgen: ties by first appearance for the cell formula
 * (Composition.formula), by symbol for the reduced one (reduce_formula, i.e. formula_pretty).
 * pymatgen's polyanion brackets ("Hg2(NO3)2"-style) are not reproduced.
 * A disordered structure (partial occupancies) gets occupancy-weighted amounts ("Sr0.7Y0.3CoO2.7"),
 * never reduced. The one formula function of the lib (datasets, reports, scripts use it).
 */
export function formula(s: Structure, options: { reduced?: boolean } = {}): string {
  if (!isOrdered(s)) {
    // disordered: occupancy-weighted amounts, not reduced (pymatgen's formula of a disordered cell)
    const amounts = [...composition(s)].sort((a, b) => orderKey(a[0]) - orderKey(b[0]));
    return amounts.map(([el, v]) => (Math.abs(v - 1) < 1e-9 ? el : `${el}${+v.toFixed(4)}`)).join("");
  }
  const counts = [...elementCounts(s)];
  let g = 1;
  if (options.reduced) {
    g = 0;
    for (const [, c] of counts) g = gcd(c, g);
  }
  // Array.prototype.sort is stable: equal keys keep first-appearance order
  counts.sort((a, b) => orderKey(a[0]) - orderKey(b[0]) || (options.reduced ? (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0) : 0));
  return counts.map(([el, c]) => (c / g === 1 ? el : `${el}${c / g}`)).join("");
}
