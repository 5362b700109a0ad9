/**
 * prdf — element-resolved partial radial distributions around the absorbing atom: the rdf
 * descriptor's formula (lib/descriptors/rdf.ts, "shell" normalisation
 *   g_c(r_k) = Σ_{j in channel c} G_σ(r_k − r_j) / (4π r_k²))
 * with one channel each for O neighbours, Cu neighbours and all other elements, on r = 1.0..6.0 Å,
 * step 0.1 Å, σ 0.1 Å: 3 × 51 = 153 columns, labels "prdf_<channel>_<r>".
 *
 * Why: the summed rdf cannot tell an O at 3.4 Å from a cation at 3.4 Å, yet they scatter the
 * photoelectron very differently (O: weak, Z = 8; second-shell metals: strong, and Cu–Cu paths
 * shape the post-edge of Cu(I) oxides). 6 Å holds the shells whose multiple scattering forms the
 * first 35 eV above the edge (the OmniXAS window). Element-resolved partial RDFs as descriptors:
 * Schütt et al., Phys. Rev. B 89, 205118 (2014); for XANES, Rankine & Penfold, J. Phys. Chem. A 125,
 * 4276 (2021).
 * A separate registry name (not rdf options) so a preset can hold both the total and partial RDFs.
 */
import type { Structure } from "../structure/types";
import { RdfDescriptor } from "./rdf";
import { checkDescriptorOptions, descriptorNumberOption, SiteDescriptor, SiteEnvironment } from "./types";

export class PrdfDescriptor implements SiteDescriptor {
  readonly name = "prdf";
  readonly citation = "Schütt et al., Phys. Rev. B 89, 205118 (2014) (partial radial distribution functions)";
  readonly length: number;
  readonly labels: readonly string[];
  readonly neighbourCutoff: number;
  readonly needsVoronoi = false;
  readonly options: Readonly<{ rMin: number; rMax: number; step: number; width: number }>;
  private readonly inner: RdfDescriptor;

  constructor(options: Readonly<Record<string, unknown>> = {}) {
    checkDescriptorOptions(options, ["rMin", "rMax", "step", "width"], this.name);
    this.options = {
      rMin: descriptorNumberOption(options, "rMin", 1.0, this.name),
      rMax: descriptorNumberOption(options, "rMax", 6.0, this.name),
      step: descriptorNumberOption(options, "step", 0.1, this.name),
      width: descriptorNumberOption(options, "width", 0.1, this.name),
    };
    this.inner = new RdfDescriptor({ ...this.options, normalisation: "shell", weighting: "none", elementGroups: [["O"], ["Cu"]] });
    this.length = this.inner.length;
    this.labels = this.inner.labels.map((l) => "p" + l);
    this.neighbourCutoff = this.inner.neighbourCutoff;
  }

  compute(structure: Structure, site: number, out: Float32Array, offset: number, env: SiteEnvironment): void {
    this.inner.compute(structure, site, out, offset, env);
  }
}
