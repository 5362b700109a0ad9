import { Structure } from "../structure/types";
import { InputError } from "../util/errors";
import { neighbourFinder } from "./neighbours";
import { SpaceGroupInfo, analyzeSymmetry } from "./symmetry";

/**
 * Symmetry-equivalent sites (crystallographic orbits) of a structure, from moyo (lib/geometry/symmetry):
 * used for site multiplicities (whole-material spectra weight each computed site by its orbit size)
 * and to predict each class of sites once.
 *
 * Finite clusters (periodic: false, e.g. a feff.inp) have no space group: they are grouped by local
 * environment instead (environmentClasses), and `spaceGroup`/`wyckoff` are absent.
 *
 * Compared with the environment heuristic this replaced (environmentClasses: same distances to every
 * neighbour out to 6 Å, within 1e-3 Å) over all 2,423 POSCARs of the FEFF Cu K set
 * (scripts/compare-equivalence.ts), at symprec 1e-3 Å: identical Cu classes in 2,417; in 4 (P1, P-1
 * cells) moyo is finer — the heuristic merged Cu whose shells agree to 1e-3 Å although no operation
 * relates them within 1e-3 Å; in 2 moyo is coarser — an orbit whose distances differ by a little more
 * than 1e-3 Å, within moyo's positional tolerance. Against the sites FEFF computed (one per orbit, by
 * Lightshow) both give 2,223 of 2,325 materials one-to-one and never two computed sites in one class.
 * symprec 1e-2 Å makes 2,258 one-to-one but puts two computed sites in one class in 2 materials
 * (mis-weighting their averages), 1e-1 Å in 51: hence DEFAULT_SYMPREC = 1e-3 Å.
 */
export interface SiteEquivalence {
  /** Classes of site indices, each sorted ascending; classes ordered by their first site. */
  readonly groups: number[][];
  /** Per site of the structure: index into `groups`, or −1 for sites not considered (other elements). */
  readonly classOf: Int32Array;
  /** Per site: size of its class (its multiplicity in the cell); 0 for sites not considered. */
  readonly multiplicity: Int32Array;
  /** Space group found (periodic structures). */
  readonly spaceGroup?: SpaceGroupInfo;
  /** Wyckoff letter of every site (periodic structures), in the standard setting of `spaceGroup`. */
  readonly wyckoff?: readonly string[];
}

export interface EquivalenceOptions {
  /** Symmetry tolerance, Å (moyo symprec; default DEFAULT_SYMPREC, 1e-3 Å). */
  readonly symprec?: number;
  /** environmentClasses only: neighbour shell radius, Å (default 6). */
  readonly cutoff?: number;
  /** environmentClasses only: largest difference of matching distances, Å (default 1e-3). */
  readonly tolerance?: number;
}

/**
 * Symmetry-equivalent sites of `structure` (only those of `element` when given): moyo's orbits at
 * `symprec`. Clusters (periodic: false) fall back to environmentClasses. InputError when `element`
 * has no site.
 */
export function equivalentSites(structure: Structure, element?: string, opts: EquivalenceOptions = {}): SiteEquivalence {
  if (structure.periodic === false) return environmentClasses(structure, element, opts);
  const n = structure.species.length;
  const sites: number[] = [];
  for (let i = 0; i < n; i++) if (element === undefined || structure.species[i] === element) sites.push(i);
  if (element !== undefined && sites.length === 0) {
    throw new InputError(`${structure.source ?? "structure"}: no ${element} site to group`);
  }
  const sym = analyzeSymmetry(structure, { symprec: opts.symprec });
  const classOf = new Int32Array(n).fill(-1);
  const groups: number[][] = [];
  const byOrbit = new Map<number, number>();
  for (const i of sites) {
    let g = byOrbit.get(sym.orbit[i]);
    if (g === undefined) {
      g = groups.length;
      groups.push([]);
      byOrbit.set(sym.orbit[i], g);
    }
    groups[g].push(i);
    classOf[i] = g;
  }
  const multiplicity = new Int32Array(n);
  for (const g of groups) for (const i of g) multiplicity[i] = g.length;
  return { groups, classOf, multiplicity, spaceGroup: sym.spaceGroup, wyckoff: sym.wyckoff };
}

/** Per-site fingerprint: per-species sorted distance lists, concatenated in species order. */
interface Fingerprint {
  readonly species: string;
  /** Neighbour counts per species (in `speciesOrder`), a cheap pre-check. */
  readonly key: string;
  readonly distances: Float64Array;
}

/**
 * Sites grouped by local environment (the heuristic used before moyo; kept for finite clusters, which
 * have no space group, and for comparison). Two sites are put in one class when they hold the same
 * species and, for every species, the sorted distances to all its atoms within `cutoff` (6 Å) agree
 * to `tolerance` (1e-3 Å). Symmetry-equivalent sites always satisfy this, so an orbit is never split
 * (up to the tolerance); the converse need not hold: two inequivalent sites with identical shells out
 * to the cutoff land in one class. Cost: one neighbour query per site considered and, per site, a
 * comparison with the representatives of classes sharing its neighbour counts.
 */
export function environmentClasses(structure: Structure, element?: string, opts: EquivalenceOptions = {}): SiteEquivalence {
  const cutoff = opts.cutoff ?? 6;
  const tol = opts.tolerance ?? 1e-3;
  if (!(cutoff > 0) || !Number.isFinite(cutoff)) throw new RangeError(`environmentClasses: cutoff must be a positive number, got ${cutoff}`);
  if (!(tol >= 0)) throw new RangeError(`environmentClasses: tolerance must be ≥ 0, got ${tol}`);
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
