/**
 * atomic — elemental properties of the compound and of the absorbing atom.
 *
 * For each property p in ELEMENT_PROPERTY_NAMES (Z, atomic mass, period, group, Pauling
 * electronegativity, covalent radius, atomic radius, first ionisation energy, electron affinity,
 * Mendeleev number, valence s/p/d/f electron counts; sources in lib/elements/README.md) six numbers,
 * with composition weights x_e = n_e / N over the elements e of the compound:
 *   mean  = Σ_e x_e p_e
 *   min, max over the elements present, range = max − min
 *   mad   = Σ_e x_e |p_e − mean|   (mean absolute deviation, Magpie's "avg_dev")
 *   site  = p of the absorbing atom itself.
 * Layout: property-major, labels "<prop>_<stat>" (14 × 6 = 84 columns). No options.
 * Statistics as in Magpie: Ward et al., npj Comput. Mater. 2, 16028 (2016).
 * A property missing for an element present (Pauling electronegativity of He, Ne, Ar) is an InputError.
 */
import type { Structure } from "../structure/types";
import { InputError } from "../util/errors";
import { ELEMENT_SYMBOLS } from "../elements/symbols";
import { ELEMENT_PROPERTY_NAMES, elementProperty, MAX_ELEMENT_Z } from "../elements/table";
import { checkDescriptorOptions, SiteDescriptor, SiteEnvironment } from "./types";

const STATS = ["mean", "min", "max", "range", "mad", "site"] as const;

export class AtomicDescriptor implements SiteDescriptor {
  readonly name = "atomic";
  readonly citation = "Ward, Agrawal, Choudhary, Wolverton, npj Comput. Mater. 2, 16028 (2016) (Magpie statistics)";
  readonly length = ELEMENT_PROPERTY_NAMES.length * STATS.length;
  readonly labels: readonly string[] = ELEMENT_PROPERTY_NAMES.flatMap((p) => STATS.map((s) => `${p}_${s}`));
  readonly neighbourCutoff = 0;
  readonly needsVoronoi = false;
  readonly options = {};
  /** Property table, row Z at [P·Z, P·Z + P). */
  private readonly table: Float64Array;

  constructor(options: Readonly<Record<string, unknown>> = {}) {
    checkDescriptorOptions(options, [], this.name);
    const np = ELEMENT_PROPERTY_NAMES.length;
    this.table = new Float64Array((MAX_ELEMENT_Z + 1) * np);
    ELEMENT_PROPERTY_NAMES.forEach((p, k) => {
      const col = elementProperty(p);
      for (let z = 0; z <= MAX_ELEMENT_Z; z++) this.table[z * np + k] = col[z];
    });
  }

  compute(structure: Structure, site: number, out: Float32Array, offset: number, env: SiteEnvironment): void {
    const counts = env.context.elementCounts;
    const nSites = env.context.z.length;
    const np = ELEMENT_PROPERTY_NAMES.length;
    const t = this.table;
    const zSite = env.context.z[site];
    const present = env.context.elements;
    for (let k = 0; k < np; k++) {
      let mean = 0, min = Infinity, max = -Infinity;
      for (let e = 0; e < present.length; e++) {
        const z = present[e];
        const p = t[z * np + k];
        if (Number.isNaN(p)) {
          throw new InputError(
            `${structure.source ?? "structure"} site ${site}: element ${ELEMENT_SYMBOLS[z - 1]} has no ${ELEMENT_PROPERTY_NAMES[k]} value`,
          );
        }
        mean += (counts[z] / nSites) * p;
        if (p < min) min = p;
        if (p > max) max = p;
      }
      let mad = 0;
      for (let e = 0; e < present.length; e++) {
        const z = present[e];
        mad += (counts[z] / nSites) * Math.abs(t[z * np + k] - mean);
      }
      const o = offset + k * STATS.length;
      out[o] = mean;
      out[o + 1] = min;
      out[o + 2] = max;
      out[o + 3] = max - min;
      out[o + 4] = mad;
      out[o + 5] = t[zSite * np + k];
    }
  }
}
