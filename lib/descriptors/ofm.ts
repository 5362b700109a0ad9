/**
 * ofm — orbital field matrix centred on the absorbing atom (Pham et al., Sci. Technol. Adv. Mater.
 * 18, 756 (2017); as matminer's OrbitalFieldMatrix site matrix).
 *
 * O_e is the 32-entry one-hot valence vector of element e (s1 s2 p1..p6 d1..d10 f1..f14; a 1 at the
 * electron count of each of its outermost s, p, d, f subshells — lib/elements ofmVector). With the
 * faces k of the absorber's Voronoi cell (pymatgen VoronoiNN), θ_k the face's solid angle,
 * θ_max the largest of them and r_k the distance (Å) to the neighbour image across face k (pymatgen's
 * VoronoiNN reports the minimum-image distance between the two sites instead, which differs for some
 * faces in small cells; code built on it would weight those faces differently):
 *   X = Σ_k (θ_k / θ_max) · (1 / r_k) · O_centre ⊗ O_k          (32 × 32, X_ij = O_centre,i · O_k,j)
 * flattened row-major (row i = centre orbital), labels "ofm_<centre orbital>_<neighbour orbital>".
 * Option includeCentre (default false): the 32 × 33 form, an extra first column holding O_centre
 * itself (Pham's "central atom" column), labels "ofm_<i>_self".
 * For a finite cluster (structure.periodic false) the faces of the bounding box are not neighbours and
 * are left out.
 */
import type { Structure } from "../structure/types";
import { InputError } from "../util/errors";
import { OFM_LABELS, OFM_TABLE, OFM_VECTOR_LENGTH } from "../elements/table";
import { checkDescriptorOptions, SiteDescriptor, SiteEnvironment } from "./types";

const L = OFM_VECTOR_LENGTH;

export class OfmDescriptor implements SiteDescriptor {
  readonly name = "ofm";
  readonly citation = "Pham et al., Sci. Technol. Adv. Mater. 18, 756 (2017)";
  readonly length: number;
  readonly labels: readonly string[];
  readonly neighbourCutoff = 0;
  readonly needsVoronoi = true;
  readonly options: Readonly<{ includeCentre: boolean }>;
  private readonly cols: number;
  /** Σ_k w_k O_k, accumulated per site. */
  private readonly field = new Float64Array(L);

  constructor(options: Readonly<Record<string, unknown>> = {}) {
    checkDescriptorOptions(options, ["includeCentre"], this.name);
    const includeCentre = options.includeCentre ?? false;
    if (typeof includeCentre !== "boolean") throw new Error(`ofm: includeCentre must be true or false, got ${JSON.stringify(includeCentre)}`);
    this.options = { includeCentre };
    this.cols = includeCentre ? L + 1 : L;
    this.length = L * this.cols;
    const colNames = includeCentre ? ["self", ...OFM_LABELS] : OFM_LABELS;
    this.labels = OFM_LABELS.flatMap((i) => colNames.map((j) => `ofm_${i}_${j}`));
  }

  compute(structure: Structure, site: number, out: Float32Array, offset: number, env: SiteEnvironment): void {
    const faces = env.voronoiFaces;
    if (!faces || faces.length === 0) {
      throw new InputError(`${structure.source ?? "structure"} site ${site}: no Voronoi faces (ofm needs them)`);
    }
    // faces with index −1 bound a cluster's cell (periodic: false) artificially: they are no neighbours
    let thetaMax = 0;
    for (const f of faces) if (f.index >= 0 && f.solidAngle > thetaMax) thetaMax = f.solidAngle;
    if (thetaMax === 0) throw new InputError(`${structure.source ?? "structure"} site ${site}: no Voronoi neighbours (ofm needs them)`);
    const field = this.field;
    field.fill(0);
    const zs = env.context.z;
    // O_centre ⊗ Σ_k w_k O_k = Σ_k w_k O_centre ⊗ O_k: sum the neighbour vectors first
    for (const f of faces) {
      if (f.index < 0) continue;
      const w = f.solidAngle / thetaMax / f.distance;
      const row = zs[f.index] * L;
      for (let j = 0; j < L; j++) field[j] += w * OFM_TABLE[row + j];
    }
    const c = zs[site] * L;
    const cols = this.cols, shift = cols - L;
    for (let i = 0; i < L; i++) {
      const oc = OFM_TABLE[c + i];
      const o = offset + i * cols;
      if (shift) out[o] = oc;
      for (let j = 0; j < L; j++) out[o + shift + j] = oc * field[j];
    }
  }
}
