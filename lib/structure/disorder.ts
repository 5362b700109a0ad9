import { Structure } from "./types";
import { InputError } from "../util/errors";

/** How to treat partially occupied sites when a structure is read for featurisation. */
export type OrderMode = "none" | "most-probable";

/**
 * Throw an InputError when the environment of `site` is disordered: the site itself or any neighbour
 * in `neighbours` (a neighbour list of the site, e.g. within the descriptor cutoff) is partially
 * occupied. Descriptors see one atom per site, so featurising such an environment would silently
 * describe a structure that is not the one read. The message lists the partial sites (index, element,
 * occupancy, distance). Ordered structures (no `occupancy`) pass at no cost.
 */
export function assertOrderedEnvironment(s: Structure, site: number, neighbours: { readonly index: Int32Array; readonly distance: Float64Array }, cutoff?: number): void {
  const occ = s.occupancy;
  if (!occ) return;
  const partial: string[] = [];
  if (occ[site] < 1) partial.push(`the site itself (${s.species[site]} ${+occ[site].toFixed(4)})`);
  const seen = new Set<number>();
  for (let k = 0; k < neighbours.index.length; k++) {
    const j = neighbours.index[k];
    if (occ[j] >= 1 || seen.has(j)) continue;
    seen.add(j);
    partial.push(`site ${j} ${s.species[j]} ${+occ[j].toFixed(4)} at ${neighbours.distance[k].toFixed(3)} Å`);
  }
  if (partial.length === 0) return;
  const shown = partial.length > 6 ? [...partial.slice(0, 6), `… ${partial.length - 6} more`] : partial;
  throw new InputError(
    `${s.source ?? "structure"} site ${site} (${s.species[site]}): disordered environment${cutoff ? ` within ${cutoff} Å` : ""}, partially occupied: ${shown.join(", ")}. ` +
      `Order the structure first (orderMostProbable / order: "most-probable") or give an ordered cell`,
  );
}

/**
 * One ordered structure from a disordered one, by the most probable occupation of each position:
 * sites sharing a position (a mixed site, e.g. Nb 0.8 + Zr 0.2) become the species of highest
 * occupancy (ties: the first in site order), and a position is kept only if that occupancy is at least
 * the vacancy's (1 − total), so Li 0.3 alone is removed and Li 0.5 is kept. This is one
 * representative configuration, not an average over configurations: split sites (partial sites close
 * to each other) may then overlap, which validateStructure reports. Ordered input is returned as is.
 */
export function orderMostProbable(s: Structure): Structure {
  const occ = s.occupancy;
  if (!occ) return s;
  const n = s.species.length;
  const groups = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const key = [0, 1, 2].map((c) => { const v = s.frac[3 * i + c]; return Math.round((v - Math.floor(v)) * 1e9) % 1e9; }).join(",");
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  }
  const keep: number[] = [];
  for (const g of groups.values()) {
    let best = g[0], total = 0;
    for (const i of g) {
      total += occ[i];
      if (occ[i] > occ[best]) best = i;
    }
    if (occ[best] >= 1 - total - 1e-9) keep.push(best);
  }
  keep.sort((a, b) => a - b);
  if (keep.length === 0) throw new InputError(`${s.source ?? "structure"}: no site is more probably occupied than vacant`);
  const frac = new Float64Array(3 * keep.length);
  keep.forEach((i, k) => frac.set(s.frac.subarray(3 * i, 3 * i + 3), 3 * k));
  const { occupancy: _drop, ...rest } = s;
  return { ...rest, species: keep.map((i) => s.species[i]), frac, source: `${s.source ?? "structure"} [most-probable order]` };
}
