import { Structure } from "../structure/types";
import { InputError } from "../util/errors";
import { neighbourFinder } from "./neighbours";

/**
 * Site equivalence from local environments (no space-group analysis: we have no spglib).
 *
 * Two sites are put in one class when they hold the same species and, for every species, the sorted
 * distances to all its atoms within `cutoff` agree to `tolerance` Å. Symmetry-equivalent sites always
 * satisfy this, so a crystallographic orbit is never split (up to the tolerance); the converse need
 * not hold — two inequivalent sites with identical shells out to the cutoff land in one class. The
 * classes are thus a coarsening ("superset-safe" proxy) of the crystallographic orbits, exact for
 * what a FEFF cluster of radius ≤ cutoff can see in terms of distances. A neighbour lying within
 * noise of the cutoff itself could split an orbit (its count differs); with MP-symmetrised cells
 * that has not been seen.
 *
 * Measured against the FEFF Cu K set (Lightshow ran one site per symmetry class; test/geometry.test.ts):
 * with the defaults, 2,223 of 2,325 materials (95.6 %) have exactly one computed site per class, no
 * two computed sites ever share a class, and every computed site is its class's lowest index. The
 * remaining 102 have a class without a spectrum (failed site runs, or sites Lightshow's looser
 * symmetry tolerance merged: pymatgen at symprec 0.01 merges e.g. mp-1101238's two Cu). A looser
 * tolerance trades one error for the other: 1e-2 Å gives 96.9 % one-to-one but merges computed
 * sites in 8 materials, which would mis-weight an average; so 1e-3 Å. Against pymatgen's
 * SpacegroupAnalyzer orbits (every 8th material, 303): identical Cu classes for all 303 at symprec
 * 1e-3; at symprec 1e-2 ours are finer in 6 and never coarser.
 */
export interface SiteEquivalence {
  /** Classes of site indices, each sorted ascending; classes ordered by their first site. */
  readonly groups: number[][];
  /** Per site of the structure: index into `groups`, or −1 for sites not considered (other elements). */
  readonly classOf: Int32Array;
  /** Per site: size of its class (its multiplicity in the cell); 0 for sites not considered. */
  readonly multiplicity: Int32Array;
}

export interface EquivalenceOptions {
  /** Neighbour shell radius, Å (default 6). */
  readonly cutoff?: number;
  /** Largest difference of matching distances, Å (default 1e-3). */
  readonly tolerance?: number;
}

/** Per-site fingerprint: per-species sorted distance lists, concatenated in species order. */
interface Fingerprint {
  readonly species: string;
  /** Neighbour counts per species (in `speciesOrder`), a cheap pre-check. */
  readonly key: string;
  readonly distances: Float64Array;
}

/**
 * Group the sites of `structure` (only those of `element` when given) by local environment; see
 * SiteEquivalence. Cost: one neighbour query per site considered and, per site, a comparison with the
 * representatives of classes sharing its neighbour counts.
 */
export function equivalentSites(structure: Structure, element?: string, opts: EquivalenceOptions = {}): SiteEquivalence {
  const cutoff = opts.cutoff ?? 6;
  const tol = opts.tolerance ?? 1e-3;
  if (!(cutoff > 0) || !Number.isFinite(cutoff)) throw new RangeError(`equivalentSites: cutoff must be a positive number, got ${cutoff}`);
  if (!(tol >= 0)) throw new RangeError(`equivalentSites: tolerance must be ≥ 0, got ${tol}`);
  const n = structure.species.length;
  const sites: number[] = [];
  for (let i = 0; i < n; i++) if (element === undefined || structure.species[i] === element) sites.push(i);
  if (element !== undefined && sites.length === 0) {
    throw new InputError(`${structure.source ?? "structure"}: no ${element} site to group`);
  }
  const speciesOrder = [...new Set(structure.species)].sort();
  const speciesIndex = new Map(speciesOrder.map((s, k) => [s, k]));
  const finder = neighbourFinder(structure);
  const classOf = new Int32Array(n).fill(-1);
  const groups: number[][] = [];
  const reps: Fingerprint[] = [];
  // classes bucketed by (species, neighbour counts): only those can match
  const byKey = new Map<string, number[]>();
  const counts = new Int32Array(speciesOrder.length);
  for (const i of sites) {
    const nl = finder.neighbours(i, cutoff);
    const m = nl.index.length;
    counts.fill(0);
    for (let k = 0; k < m; k++) counts[speciesIndex.get(structure.species[nl.index[k]])!]++;
    // distances grouped by species (stable: already sorted by distance within each species)
    const start = new Int32Array(speciesOrder.length);
    for (let s = 1; s < speciesOrder.length; s++) start[s] = start[s - 1] + counts[s - 1];
    const distances = new Float64Array(m);
    for (let k = 0; k < m; k++) distances[start[speciesIndex.get(structure.species[nl.index[k]])!]++] = nl.distance[k];
    const fp: Fingerprint = { species: structure.species[i], key: `${structure.species[i]}|${counts.join(",")}`, distances };
    const candidates = byKey.get(fp.key);
    let found = -1;
    if (candidates) {
      for (const c of candidates) {
        if (sameShell(reps[c].distances, distances, tol)) {
          found = c;
          break;
        }
      }
    }
    if (found < 0) {
      found = groups.length;
      groups.push([]);
      reps.push(fp);
      if (candidates) candidates.push(found);
      else byKey.set(fp.key, [found]);
    }
    groups[found].push(i);
    classOf[i] = found;
  }
  const multiplicity = new Int32Array(n);
  for (const g of groups) for (const i of g) multiplicity[i] = g.length;
  return { groups, classOf, multiplicity };
}

/**
 * Same-length per-species distance lists agreeing within tol. A neighbour just inside the cutoff for
 * one site and just outside for another changes the counts; the counts key then differs and the sites
 * are split, which errs on the side of more classes only for distances within tol of the cutoff.
 */
function sameShell(a: Float64Array, b: Float64Array, tol: number): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (Math.abs(a[k] - b[k]) > tol) return false;
  return true;
}
