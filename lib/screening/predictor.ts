/**
 * Adapters from trained models (lib/model) to the ScreeningPredictor the ranking uses.
 */
import type { Structure } from "../structure/types";
import type { XanesPredictor } from "../model/predictor";
import type { ScreeningPredictor, SiteRef } from "./types";

/**
 * An ensemble of predictors trained with different seeds on the same descriptors and mesh: sites are
 * featurised once (by the first member's featurizer) and every member's network predicts from the
 * same feature matrix. A single predictor is an ensemble of one.
 */
export function ensemblePredictor(members: readonly XanesPredictor[]): ScreeningPredictor {
  if (members.length === 0) throw new Error("ensemblePredictor: no members");
  const first = members[0];
  const cfg = JSON.stringify(first.featurizer.toJSON());
  for (const [i, p] of members.entries()) {
    if (JSON.stringify(p.featurizer.toJSON()) !== cfg) throw new Error(`ensemblePredictor: member ${i} uses different descriptors than member 0`);
    if (JSON.stringify(p.spectral) !== JSON.stringify(first.spectral)) {
      throw new Error(`ensemblePredictor: member ${i} has a different spectral contract (mesh, normalisation) than member 0`);
    }
  }
  const d = first.featurizer.length;
  const featurizer = first.featurizer as XanesPredictor["featurizer"] & { featurizeSites?: (items: readonly SiteRef[]) => Float32Array };
  return {
    energy: first.energy,
    members: members.length,
    predictSites(items: readonly SiteRef[]): Float32Array[] {
      let X: Float32Array;
      if (featurizer.featurizeSites) X = featurizer.featurizeSites(items);
      else {
        X = new Float32Array(items.length * d);
        items.forEach((it, i) => featurizer.featurizeSite(it.structure, it.site, X, i * d));
      }
      return members.map((p) => p.model.predict({ data: X, rows: items.length, cols: d }).data);
    },
  };
}

/**
 * Memoises predictions per (structure object, site), so screening many targets against the same
 * candidates featurises and predicts each site once. Holds structures weakly.
 */
export function cachedPredictor(inner: ScreeningPredictor): ScreeningPredictor & { readonly hits: number; readonly misses: number } {
  const cache = new WeakMap<Structure, Map<number, Float32Array[]>>();
  const m = inner.energy.length;
  const k = inner.members;
  const stats = { hits: 0, misses: 0 };
  return {
    energy: inner.energy,
    members: k,
    get hits() {
      return stats.hits;
    },
    get misses() {
      return stats.misses;
    },
    async predictSites(items: readonly SiteRef[]): Promise<Float32Array[]> {
      const missing: SiteRef[] = [];
      const lookup = (it: SiteRef) => cache.get(it.structure)?.get(it.site);
      for (const it of items) {
        if (lookup(it)) continue;
        // The same (structure, site) twice in one batch is predicted once.
        let map = cache.get(it.structure);
        if (!map) cache.set(it.structure, (map = new Map()));
        if (!map.has(it.site)) {
          missing.push(it);
          map.set(it.site, []); // placeholder, filled below
        }
      }
      if (missing.length) {
        let preds: Float32Array[];
        try {
          preds = await inner.predictSites(missing);
        } catch (err) {
          for (const it of missing) cache.get(it.structure)?.delete(it.site);
          throw err;
        }
        missing.forEach((it, i) => {
          cache.get(it.structure)!.set(
            it.site,
            preds.map((p) => p.slice(i * m, (i + 1) * m)),
          );
        });
      }
      stats.misses += missing.length;
      stats.hits += items.length - missing.length;
      const out = Array.from({ length: k }, () => new Float32Array(items.length * m));
      items.forEach((it, i) => {
        const rows = lookup(it)!;
        for (let e = 0; e < k; e++) out[e].set(rows[e], i * m);
      });
      return out;
    },
  };
}
