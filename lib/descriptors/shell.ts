/**
 * shell — Voronoi-weighted first coordination shell of the absorbing atom, and a bond-valence sum.
 *
 * With the Voronoi faces k of the absorber (solid angle Ω_k, neighbour distance r_k, element Z_k) and
 * weights w_k = Ω_k / Ω_max (as the ofm descriptor and pymatgen VoronoiNN), the first shell is the
 * faces with w_k ≥ 0.2 (smaller faces are contacts across the shell, not bonds; O'Keeffe's
 * solid-angle rule). Columns (12):
 *   shell_cn        Σ_{first} 1                       number of first-shell neighbours
 *   shell_wcn       Σ_all w_k                         Voronoi-weighted coordination
 *   shell_rmean     Σ w_k r_k / Σ w_k (first shell)   Å
 *   shell_rmin, shell_rmax                            Å (first shell)
 *   shell_distortion  (1/n) Σ |r_k − r̄| / r̄           Baur's distortion index (first shell, unweighted r̄)
 *   shell_zmean     Σ w_k Z_k / Σ w_k                 first shell
 *   shell_enmean    Σ w_k χ_k / Σ w_k                 Pauling electronegativity, first shell
 *   shell_ofrac     Σ_{O} w_k / Σ w_k                 oxygen fraction of the first shell
 *   shell_bvs       Σ_{O within 3.5 Å} exp((R0 − r)/b), R0 = 1.679 Å, b = 0.37 Å (Cu²⁺–O; Brese & O'Keeffe,
 *                   Acta Cryst. B47, 192 (1991)) — a bond-valence estimate of the Cu oxidation state
 *   shell_ncat      cations (not O, F, S, Cl, N, Se, Br, I, H) within 3.5 Å
 *   shell_ncu       Cu within 3.5 Å (Cu–Cu contacts, e.g. in Cu(I) oxides)
 *
 * Why: the K-edge position moves by ~1–2 eV per unit of Cu oxidation state and the white line with
 * coordination number and symmetry; on an absolute energy mesh the edge position dominates the
 * per-spectrum error, and the bond-valence sum is the standard structural estimate of the oxidation
 * state. Voronoi-weighted coordination: O'Keeffe, Acta Cryst. A35, 772 (1979); Hoppe's effective
 * coordination number, Z. Kristallogr. 150, 23 (1979).
 */
import type { Structure } from "../structure/types";
import { InputError } from "../util/errors";
import { elementProperty } from "../elements/table";
import { checkDescriptorOptions, SiteDescriptor, SiteEnvironment } from "./types";

const LABELS = [
  "shell_cn",
  "shell_wcn",
  "shell_rmean",
  "shell_rmin",
  "shell_rmax",
  "shell_distortion",
  "shell_zmean",
  "shell_enmean",
  "shell_ofrac",
  "shell_bvs",
  "shell_ncat",
  "shell_ncu",
] as const;

/** First-shell faces: w = Ω/Ω_max at least this. */
export const FIRST_SHELL_MIN_WEIGHT = 0.2;
/** Cu²⁺–O bond-valence parameters (Brese & O'Keeffe 1991). */
export const BV_CU_O = { r0: 1.679, b: 0.37 } as const;
const CONTACT_RADIUS = 3.5;
const ANIONS = new Set([1, 7, 8, 9, 16, 17, 34, 35, 53]);

export class ShellDescriptor implements SiteDescriptor {
  readonly name = "shell";
  readonly citation = "O'Keeffe, Acta Cryst. A35, 772 (1979) (Voronoi coordination); Brese & O'Keeffe, Acta Cryst. B47, 192 (1991) (bond valence)";
  readonly length = LABELS.length;
  readonly labels: readonly string[] = LABELS;
  readonly neighbourCutoff = CONTACT_RADIUS;
  readonly needsVoronoi = true;
  readonly options: Readonly<Record<string, unknown>> = {};
  private readonly en = elementProperty("electronegativity");

  constructor(options: Readonly<Record<string, unknown>> = {}) {
    checkDescriptorOptions(options, [], this.name);
  }

  compute(structure: Structure, site: number, out: Float32Array, offset: number, env: SiteEnvironment): void {
    const faces = env.voronoiFaces;
    const src = structure.source ?? "structure";
    if (!faces || faces.length === 0) throw new InputError(`${src} site ${site}: no Voronoi faces (shell needs them)`);
    let omegaMax = 0;
    for (const f of faces) if (f.index >= 0 && f.solidAngle > omegaMax) omegaMax = f.solidAngle;
    if (omegaMax === 0) throw new InputError(`${src} site ${site}: no Voronoi neighbours (shell needs them)`);
    const zs = env.context.z;
    let cn = 0, wcn = 0, sw = 0, swr = 0, swz = 0, swe = 0, swen = 0, swo = 0, sr = 0;
    let rmin = Infinity, rmax = 0;
    for (const f of faces) {
      if (f.index < 0) continue;
      const w = f.solidAngle / omegaMax;
      wcn += w;
      if (w < FIRST_SHELL_MIN_WEIGHT) continue;
      const z = zs[f.index];
      const chi = this.en[z];
      cn++;
      sr += f.distance;
      sw += w;
      swr += w * f.distance;
      swz += w * z;
      // a missing electronegativity (noble gases) counts as the shell's mean: left out of both sums
      if (Number.isFinite(chi)) {
        swe += w * chi;
        swen += w;
      }
      if (z === 8) swo += w;
      if (f.distance < rmin) rmin = f.distance;
      if (f.distance > rmax) rmax = f.distance;
    }
    const rbar = sr / cn;
    let dev = 0;
    for (const f of faces) if (f.index >= 0 && f.solidAngle / omegaMax >= FIRST_SHELL_MIN_WEIGHT) dev += Math.abs(f.distance - rbar) / rbar;
    let bvs = 0, ncat = 0, ncu = 0;
    const nb = env.neighbours;
    for (let j = 0; j < nb.distance.length && nb.distance[j] <= CONTACT_RADIUS; j++) {
      const z = zs[nb.index[j]];
      if (z === 8) bvs += Math.exp((BV_CU_O.r0 - nb.distance[j]) / BV_CU_O.b);
      if (!ANIONS.has(z)) ncat++;
      if (z === 29) ncu++;
    }
    const o = offset;
    out[o] = cn;
    out[o + 1] = wcn;
    out[o + 2] = swr / sw;
    out[o + 3] = rmin;
    out[o + 4] = rmax;
    out[o + 5] = dev / cn;
    out[o + 6] = swz / sw;
    out[o + 7] = swen > 0 ? swe / swen : 0;
    out[o + 8] = swo / sw;
    out[o + 9] = bvs;
    out[o + 10] = ncat;
    out[o + 11] = ncu;
  }
}
