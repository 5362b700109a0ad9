import { Structure } from "../structure/types";
import { InputError } from "../util/errors";
import { neighbours } from "../geometry/neighbours";
import { isElementSymbol } from "../elements/symbols";
import type { Candidate } from "./types";

/** Indices of every site of `element` in `s` (the default absorbing sites of a candidate). */
export function sitesOfElement(s: Structure, element: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.species.length; i++) if (s.species[i] === element) out.push(i);
  return out;
}

/**
 * A variant of `s` with new sites or cell and `note` added to its source. Every other field is carried
 * over (periodic, and occupancy: a variant of a disordered cell stays disordered, so featurising it
 * still refuses a partially occupied environment instead of describing an ordered cell silently).
 * `occupancy` must follow the new site list (the vacancy generator drops the removed site's entry).
 */
function withSource(s: Structure, species: readonly string[], lattice: Float64Array, frac: Float64Array, note: string, occupancy = s.occupancy): Structure {
  const { occupancy: _old, ...rest } = s;
  const out: Structure = { ...rest, lattice, species, frac, source: s.source ? `${s.source} [${note}]` : note };
  return occupancy ? { ...out, occupancy } : out;
}

/** `base.sites`/`weights` restricted to the sites that `keep` accepts (absent stays absent). */
function keptSites(base: Candidate, keep: (i: number) => boolean): Pick<Candidate, "sites" | "weights"> {
  if (!base.sites) return {};
  const k = base.sites.map((i, j) => j).filter((j) => keep(base.sites![j]));
  return { sites: k.map((j) => base.sites![j]), weights: base.weights ? k.map((j) => base.weights![j]) : undefined };
}

/**
 * Substitutions of every `from` atom by each element of `to`, one candidate per replacement element
 * (mode "all"), or one candidate per (site, element) with a single atom replaced (mode "single").
 * The absorbing element may be substituted too; the candidate then has no absorbing site of it,
 * which the ranking reports.
 */
export function substitutionCandidates(
  base: Candidate,
  from: string,
  to: readonly string[],
  mode: "all" | "single" = "all",
): Candidate[] {
  for (const e of [from, ...to]) if (!isElementSymbol(e)) throw new InputError(`substitution: unknown element "${e}"`);
  const s = base.structure;
  const idx = sitesOfElement(s, from);
  if (idx.length === 0) throw new InputError(`substitution: ${base.id} has no ${from} site`);
  const out: Candidate[] = [];
  for (const el of to) {
    if (el === from) continue;
    const groups = mode === "all" ? [idx] : idx.map((i) => [i]);
    for (const g of groups) {
      const species = s.species.slice();
      for (const i of g) species[i] = el;
      const tag = mode === "all" ? `${from}→${el}` : `${from}${g[0]}→${el}`;
      out.push({
        id: `${base.id} ${tag}`,
        structure: withSource(s, species, s.lattice, s.frac, tag),
        ...keptSites(base, (i) => species[i] === s.species[i]),
        origin: "substitution",
      });
    }
  }
  return out;
}

/**
 * Strained copies: for each step ε (e.g. -0.02 = 2 % compression) an isotropic one (all lattice vectors
 * × (1+ε)) and, unless `uniaxial` is false, one per lattice vector a, b, c. Fractional coordinates are
 * kept (no relaxation), which is the usual first guess for a strained cell.
 */
export function strainCandidates(base: Candidate, steps: readonly number[], opts: { isotropic?: boolean; uniaxial?: boolean } = {}): Candidate[] {
  const iso = opts.isotropic ?? true;
  const uni = opts.uniaxial ?? true;
  const out: Candidate[] = [];
  const s = base.structure;
  const pct = (e: number) => `${e >= 0 ? "+" : ""}${+(e * 100).toFixed(3)}%`;
  for (const eps of steps) {
    if (!Number.isFinite(eps) || eps <= -1) throw new InputError(`strain step ${eps} is not a valid strain (> -1)`);
    if (eps === 0) continue;
    const scaleRows = (rows: readonly number[], tag: string) => {
      const lat = Float64Array.from(s.lattice);
      for (const r of rows) for (let k = 0; k < 3; k++) lat[3 * r + k] *= 1 + eps;
      out.push({ id: `${base.id} ${tag}`, structure: withSource(s, s.species, lat, s.frac, tag), sites: base.sites, weights: base.weights, origin: "strain" });
    };
    if (iso) scaleRows([0, 1, 2], `strain ${pct(eps)}`);
    if (uni) ["a", "b", "c"].forEach((axis, r) => scaleRows([r], `strain ${axis}${pct(eps)}`));
  }
  return out;
}

/**
 * Vacancy candidates: one copy per atom within `cutoff` Å of absorbing site `site` (default: the first
 * coordination shell, nearest distance + `shellTolerance`), with that atom removed. The absorbing
 * site keeps its identity (its index is renumbered when an earlier atom goes), and only that site is
 * predicted. With `element`, only atoms of that element are removed (e.g. "O" for oxygen vacancies).
 */
export function vacancyCandidates(
  base: Candidate,
  site: number,
  opts: { cutoff?: number; shellTolerance?: number; element?: string } = {},
): Candidate[] {
  const s = base.structure;
  const n = s.species.length;
  if (!Number.isInteger(site) || site < 0 || site >= n) throw new InputError(`vacancy: site ${site} is not in ${base.id} (${n} sites)`);
  if (n < 2) throw new InputError(`vacancy: ${base.id} has a single site`);
  // Nearest image of every other site (a site may appear several times among the images).
  const radius = opts.cutoff ?? 4;
  const list = neighbours(s, site, radius);
  const d = new Float64Array(n).fill(Infinity);
  for (let k = 0; k < list.index.length; k++) {
    const j = list.index[k];
    if (list.distance[k] < d[j]) d[j] = list.distance[k];
  }
  // Like the other generators: asking for variants that cannot exist is an input error, not an empty list.
  const noneWithin = (r: number) =>
    new InputError(`vacancy: no ${opts.element ? `${opts.element} atom` : "atom"} within ${+r.toFixed(2)} Å of site ${site} (${s.species[site]}) of ${base.id}`);
  let cutoff = opts.cutoff;
  if (cutoff === undefined) {
    let nearest = Infinity;
    for (let j = 0; j < n; j++) if (j !== site && (!opts.element || s.species[j] === opts.element)) nearest = Math.min(nearest, d[j]);
    if (!Number.isFinite(nearest)) throw noneWithin(radius);
    cutoff = nearest + (opts.shellTolerance ?? 0.3);
  }
  const out: Candidate[] = [];
  for (let j = 0; j < n; j++) {
    if (j === site || d[j] > cutoff) continue;
    if (opts.element && s.species[j] !== opts.element) continue;
    const species = s.species.filter((_, k) => k !== j);
    const frac = new Float64Array(3 * (n - 1));
    frac.set(s.frac.subarray(0, 3 * j), 0);
    frac.set(s.frac.subarray(3 * j + 3), 3 * j);
    const tag = `vacancy ${s.species[j]}${j} (${d[j].toFixed(2)} Å)`;
    out.push({
      id: `${base.id} ${tag}`,
      structure: withSource(s, species, Float64Array.from(s.lattice), frac, tag, s.occupancy?.filter((_, k) => k !== j)),
      sites: [j < site ? site - 1 : site],
      origin: "vacancy",
    });
  }
  if (out.length === 0) throw noneWithin(cutoff);
  return out;
}
