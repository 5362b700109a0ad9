/**
 * composition — element fractions of the whole compound.
 *
 * Definition: x_Z = n_Z / N for Z = 1..94 (H..Pu, the element list of lib/elements, fixed so every
 * compound gets the same columns), n_Z the number of sites of element Z in the cell, N the number of
 * sites. The vector sums to 1 and is the same for every site of one structure. Labels "frac_<symbol>".
 * No options. Cf. the element-fraction descriptor of Ward et al., npj Comput. Mater. 2, 16028 (2016).
 */
import type { Structure } from "../structure/types";
import { ELEMENT_SYMBOLS } from "../elements/symbols";
import { MAX_ELEMENT_Z } from "../elements/table";
import { checkDescriptorOptions, SiteDescriptor, SiteEnvironment } from "./types";

export class CompositionDescriptor implements SiteDescriptor {
  readonly name = "composition";
  readonly citation = "Ward, Agrawal, Choudhary, Wolverton, npj Comput. Mater. 2, 16028 (2016) (element fractions)";
  readonly length = MAX_ELEMENT_Z;
  readonly labels: readonly string[] = ELEMENT_SYMBOLS.slice(0, MAX_ELEMENT_Z).map((s) => `frac_${s}`);
  readonly neighbourCutoff = 0;
  readonly needsVoronoi = false;
  readonly options = {};

  constructor(options: Readonly<Record<string, unknown>> = {}) {
    checkDescriptorOptions(options, [], this.name);
  }

  compute(_structure: Structure, _site: number, out: Float32Array, offset: number, env: SiteEnvironment): void {
    const counts = env.context.elementCounts;
    const n = env.context.z.length;
    for (let z = 1; z <= MAX_ELEMENT_Z; z++) out[offset + z - 1] = counts[z] / n;
  }
}
