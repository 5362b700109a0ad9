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
 * that disagree, unknown elements, non-finite numbers, a degenerate lattice (|volume| < 1e-6 Å³), or
 * two atoms (or an atom and an image) closer than 0.1 Å. Returns the structure for chaining.
 */
export function validateStructure(s: Structure): Structure {
  const src = s.source ?? "structure";
  const n = s.species.length;
  if (s.lattice.length !== 9) throw new InputError(`${src}: lattice has ${s.lattice.length} numbers, expected 9`);
  if (n === 0) throw new InputError(`${src}: no sites`);
  if (s.frac.length !== 3 * n) throw new InputError(`${src}: ${n} species but ${s.frac.length} coordinates (expected ${3 * n})`);
  if (!s.lattice.every(Number.isFinite)) throw new InputError(`${src}: lattice has non-finite numbers`);
  const vol = latticeVolume(s.lattice);
  if (!(Math.abs(vol) >= 1e-6)) throw new InputError(`${src}: degenerate lattice (volume ${vol.toPrecision(3)} Å³)`);
  for (let i = 0; i < n; i++) {
    if (!isElementSymbol(s.species[i])) throw new InputError(`${src}: site ${i}: unknown element "${s.species[i]}"`);
    for (let c = 0; c < 3; c++) {
      if (!Number.isFinite(s.frac[3 * i + c])) throw new InputError(`${src}: site ${i} (${s.species[i]}): non-finite coordinate`);
    }
  }
  const finder = neighbourFinder(s); // the cached one: later neighbour queries of s reuse it
  for (let i = 0; i < n; i++) {
    const nl = finder.neighbours(i, OVERLAP_DISTANCE);
    if (nl.index.length > 0) {
      const j = nl.index[0];
      const what = j === i ? "its own periodic image" : `site ${j} (${s.species[j]})`;
      throw new InputError(`${src}: site ${i} (${s.species[i]}) overlaps ${what}: ${nl.distance[0].toFixed(4)} Å apart`);
    }
  }
  // zero-distance duplicates are excluded from neighbour lists as "self": check them directly
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let same = true;
      for (let c = 0; c < 3 && same; c++) {
        const d = finder.wrappedFrac[3 * i + c] - finder.wrappedFrac[3 * j + c];
        if (Math.abs(d - (finder.periodic ? Math.round(d) : 0)) > 1e-9) same = false;
      }
      if (same) throw new InputError(`${src}: sites ${i} (${s.species[i]}) and ${j} (${s.species[j]}) are at the same position`);
    }
  }
  return s;
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
 * The one formula function of the lib (datasets, reports, scripts use it).
 */
export function formula(s: Structure, options: { reduced?: boolean } = {}): string {
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
