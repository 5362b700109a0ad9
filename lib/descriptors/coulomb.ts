/**
 * coulomb — eigenvalues of the Coulomb matrix of the cluster around the absorbing atom.
 *
 * Cluster: the absorber (atom 0) and its nearest periodic neighbours within `cutoff` Å, at most
 * `maxAtoms` atoms in all. When the atom limit would split a shell (neighbours at equal distance,
 * within 5e-3 Å), the whole shell is left out, so the result does not depend on which of
 * symmetry-equivalent atoms comes first.
 * Matrix (Rupp et al., Phys. Rev. Lett. 108, 058301 (2012)), Hartree atomic units:
 *   M_ii = 0.5 Z_i^2.4,   M_ij = Z_i Z_j / r_ij   with r_ij in Bohr (1 Bohr = 0.529177 Å).
 * Descriptor: its eigenvalues (own Householder + QL solver, eigen.ts) sorted by decreasing absolute
 * value (Rupp's and Montavon's convention), zero-padded to `maxAtoms`. Labels "coulomb_eig_<k>".
 * Defaults: cutoff 6 Å, maxAtoms 25 (absorber + about the first two or three coordination shells of an
 * oxide, where the XANES is most sensitive; the eigenvalue cost grows as maxAtoms³).
 * Two cluster atoms closer than 0.5 Å are an InputError.
 */
import type { Structure } from "../structure/types";
import { InputError } from "../util/errors";
import { symmetricEigenvaluesInPlace } from "./eigen";
import { checkDescriptorOptions, descriptorNumberOption, MIN_INTERATOMIC_DISTANCE, SiteDescriptor, SiteEnvironment } from "./types";

export const BOHR_ANGSTROM = 0.529177210903;
// Relaxed DFT cells place equivalent atoms up to ~1 mÅ apart in distance: a tighter tolerance cut
// shells differently for equivalent sites (54% apart in 5 FEFF materials at 1e-4 Å; none at 2e-3 Å).
const SHELL_TOL = 5e-3;

export class CoulombDescriptor implements SiteDescriptor {
  readonly name = "coulomb";
  readonly citation = "Rupp, Tkatchenko, Müller, von Lilienfeld, Phys. Rev. Lett. 108, 058301 (2012)";
  readonly length: number;
  readonly labels: readonly string[];
  readonly neighbourCutoff: number;
  readonly needsVoronoi = false;
  readonly options: Readonly<{ cutoff: number; maxAtoms: number }>;
  private readonly matrix: Float64Array;
  private readonly eig: Float64Array;
  private readonly eigWork: Float64Array;
  private readonly zc: Float64Array;
  private readonly xyz: Float64Array;

  constructor(options: Readonly<Record<string, unknown>> = {}) {
    checkDescriptorOptions(options, ["cutoff", "maxAtoms"], this.name);
    const cutoff = descriptorNumberOption(options, "cutoff", 6, this.name);
    const maxAtoms = descriptorNumberOption(options, "maxAtoms", 25, this.name);
    if (!(cutoff > 0) || !Number.isInteger(maxAtoms) || maxAtoms < 1) throw new Error(`coulomb: need cutoff > 0 and integer maxAtoms ≥ 1 (got ${cutoff}, ${maxAtoms})`);
    this.options = { cutoff, maxAtoms };
    this.length = maxAtoms;
    this.labels = Array.from({ length: maxAtoms }, (_, k) => `coulomb_eig_${k}`);
    this.neighbourCutoff = cutoff;
    this.matrix = new Float64Array(maxAtoms * maxAtoms);
    this.eig = new Float64Array(maxAtoms);
    this.eigWork = new Float64Array(maxAtoms);
    this.zc = new Float64Array(maxAtoms);
    this.xyz = new Float64Array(3 * maxAtoms);
  }

  /** Number of neighbours in the cluster (absorber excluded) for a sorted distance list. */
  clusterNeighbours(distance: Float64Array): number {
    const { cutoff, maxAtoms } = this.options;
    let m = 0;
    while (m < distance.length && distance[m] <= cutoff) m++;
    if (m > maxAtoms - 1) {
      m = maxAtoms - 1;
      // drop the partial shell: neighbour m (first left out) must be farther than neighbour m−1
      while (m > 0 && distance[m] - distance[m - 1] < SHELL_TOL) m--;
    }
    return m;
  }

  compute(structure: Structure, site: number, out: Float32Array, offset: number, env: SiteEnvironment): void {
    const nb = env.neighbours;
    const zs = env.context.z;
    const m = this.clusterNeighbours(nb.distance);
    const n = m + 1;
    const zc = this.zc, xyz = this.xyz, a = this.matrix;
    zc[0] = zs[site];
    xyz[0] = xyz[1] = xyz[2] = 0;
    for (let k = 0; k < m; k++) {
      zc[k + 1] = zs[nb.index[k]];
      xyz[3 * k + 3] = nb.vec[3 * k] / BOHR_ANGSTROM;
      xyz[3 * k + 4] = nb.vec[3 * k + 1] / BOHR_ANGSTROM;
      xyz[3 * k + 5] = nb.vec[3 * k + 2] / BOHR_ANGSTROM;
    }
    const minBohr = MIN_INTERATOMIC_DISTANCE / BOHR_ANGSTROM;
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 0.5 * Math.pow(zc[i], 2.4);
      for (let j = i + 1; j < n; j++) {
        const dx = xyz[3 * i] - xyz[3 * j], dy = xyz[3 * i + 1] - xyz[3 * j + 1], dz = xyz[3 * i + 2] - xyz[3 * j + 2];
        const r = Math.sqrt(dx * dx + dy * dy + dz * dz);
        if (r < minBohr) {
          throw new InputError(
            `${structure.source ?? "structure"} site ${site}: atoms ${i === 0 ? site : nb.index[i - 1]} and ${nb.index[j - 1]} of its cluster are ${(r * BOHR_ANGSTROM).toFixed(3)} Å apart (overlapping)`,
          );
        }
        a[i * n + j] = a[j * n + i] = (zc[i] * zc[j]) / r;
      }
    }
    const eig = symmetricEigenvaluesInPlace(a, n, this.eig, this.eigWork);
    // insertion sort by decreasing |λ| (n ≤ maxAtoms, tiny)
    for (let i = 1; i < n; i++) {
      const v = eig[i];
      let j = i - 1;
      while (j >= 0 && Math.abs(eig[j]) < Math.abs(v)) {
        eig[j + 1] = eig[j];
        j--;
      }
      eig[j + 1] = v;
    }
    for (let k = 0; k < this.length; k++) out[offset + k] = k < n ? eig[k] : 0;
  }
}
