/**
 * adf — bond-angle distribution at the absorbing atom (a wACSF-style angular function).
 *
 * For every pair (j, k), j < k, of neighbours within the cutoff r_c, with θ_jk the angle j–absorber–k:
 *   A(θ_m) = Σ_{j<k} f_c(r_j) f_c(r_k) · G_σ(θ_m − θ_jk),   G_σ(x) = exp(−x²/2σ²)
 * on the grid θ_m = 0°, step, …, 180°, f_c(r) = ½(cos(π r / r_c) + 1) for r < r_c (0 beyond) — the
 * smooth cutoff of Behler–Parrinello symmetry functions. The Gaussian has unit height, so a pair at
 * exactly θ_m adds its weight f_c f_c there; the sum over the grid grows with the number of pairs.
 *
 * Why: the near-edge of a Cu K spectrum depends on the angular arrangement of the first shell, not
 * only on its distances — square-planar Cu(II) (90°/180° pairs) shows the 1s→4p_z shoulder that an
 * octahedral or tetrahedral (109.5°) site does not — and a radial distribution cannot tell these
 * apart at equal bond lengths. XANESNET uses the same information as weighted angular symmetry
 * functions: Rankine & Penfold, J. Phys. Chem. A 125, 4276 (2021), wACSF of Gastegger et al.,
 * J. Chem. Phys. 148, 241709 (2018); cutoff function: Behler & Parrinello, PRL 98, 146401 (2007).
 *
 * Defaults: r_c 3.2 Å (the Cu–O first shell is 1.85–2.8 Å; beyond 3.2 Å cation second neighbours
 * start), step 7.5°, σ 7.5° (bond angles of one polyhedron spread by a few degrees): 25 columns,
 * labels "adf_<θ>".
 */
import type { Structure } from "../structure/types";
import { checkDescriptorOptions, descriptorNumberOption, SiteDescriptor, SiteEnvironment } from "./types";

const KNOWN = ["cutoff", "step", "width"] as const;

export class AdfDescriptor implements SiteDescriptor {
  readonly name = "adf";
  readonly citation = "Gastegger et al., J. Chem. Phys. 148, 241709 (2018) (wACSF); for XANES: Rankine & Penfold, J. Phys. Chem. A 125, 4276 (2021)";
  readonly length: number;
  readonly labels: readonly string[];
  readonly neighbourCutoff: number;
  readonly needsVoronoi = false;
  readonly options: Readonly<{ cutoff: number; step: number; width: number }>;
  private readonly grid: Float64Array;
  // scratch per site: unit vectors and cutoff weights of the neighbours inside r_c
  private unit = new Float64Array(96);
  private weight = new Float64Array(32);

  constructor(options: Readonly<Record<string, unknown>> = {}) {
    checkDescriptorOptions(options, KNOWN, this.name);
    const cutoff = descriptorNumberOption(options, "cutoff", 3.2, this.name);
    const step = descriptorNumberOption(options, "step", 7.5, this.name);
    const width = descriptorNumberOption(options, "width", 7.5, this.name);
    if (!(cutoff > 0 && step > 0 && step <= 180 && width > 0)) throw new Error(`adf: need cutoff > 0, 0 < step ≤ 180, width > 0 (got ${cutoff}, ${step}, ${width})`);
    this.options = { cutoff, step, width };
    const n = Math.floor(180 / step + 1e-9) + 1;
    this.grid = Float64Array.from({ length: n }, (_, m) => m * step);
    this.length = n;
    this.labels = Array.from(this.grid, (t) => `adf_${t.toFixed(1)}`);
    this.neighbourCutoff = cutoff;
  }

  compute(_structure: Structure, _site: number, out: Float32Array, offset: number, env: SiteEnvironment): void {
    const { cutoff, width } = this.options;
    const nb = env.neighbours;
    let n = 0;
    while (n < nb.distance.length && nb.distance[n] < cutoff) n++;
    if (this.weight.length < n) {
      this.weight = new Float64Array(2 * n);
      this.unit = new Float64Array(6 * n);
    }
    const u = this.unit, w = this.weight;
    for (let j = 0; j < n; j++) {
      const r = nb.distance[j];
      w[j] = 0.5 * (Math.cos((Math.PI * r) / cutoff) + 1);
      for (let d = 0; d < 3; d++) u[3 * j + d] = nb.vec[3 * j + d] / r;
    }
    out.fill(0, offset, offset + this.length);
    const inv2s2 = 1 / (2 * width * width);
    const reach = 4 * width;
    const grid = this.grid, step = this.options.step, m = this.length;
    for (let j = 0; j < n; j++) {
      for (let k = j + 1; k < n; k++) {
        let c = u[3 * j] * u[3 * k] + u[3 * j + 1] * u[3 * k + 1] + u[3 * j + 2] * u[3 * k + 2];
        c = c > 1 ? 1 : c < -1 ? -1 : c;
        const theta = (Math.acos(c) * 180) / Math.PI;
        const wjk = w[j] * w[k];
        const m0 = Math.max(0, Math.ceil((theta - reach) / step));
        const m1 = Math.min(m - 1, Math.floor((theta + reach) / step));
        for (let q = m0; q <= m1; q++) {
          const x = grid[q] - theta;
          out[offset + q] += wjk * Math.exp(-x * x * inv2s2);
        }
      }
    }
  }
}
