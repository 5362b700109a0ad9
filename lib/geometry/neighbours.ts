import { reciprocalLattice } from "../structure/lattice";
import { InputError, Structure } from "../structure/types";

/** Every periodic image of every site within a cutoff of one site, sorted by distance (ties by index, then image). */
export interface NeighbourList {
  /** Site index (into the structure) of each neighbour. */
  readonly index: Int32Array;
  /** Distance from the central site, Å. */
  readonly distance: Float64Array;
  /** Cartesian vector central site → neighbour image, Å, neighbour k at [3k..3k+2]. */
  readonly vec: Float64Array;
  /**
   * Lattice translation of the neighbour relative to the central site's stored coordinates:
   * neighbour position = lattice · (frac[index] + image) and vec = that − lattice · frac[site].
   */
  readonly image: Int32Array;
}

/** Distances below this (Å) are the site itself. */
const SELF_TOL = 1e-8;

/**
 * Per-structure neighbour search. Build once per structure (wraps coordinates, reciprocal lattice,
 * cell bounds) and query every site of it: `new NeighbourFinder(s).neighbours(i, 8)`.
 * Periodic images are enumerated over the exact range allowed by the lattice-plane spacings, and
 * whole image cells farther than the cutoff plus the cell's circumradius are skipped, so any cell
 * shape works (skewed triclinic, cells much smaller than the cutoff).
 * With `structure.periodic === false` (clusters) there are no images.
 */
export class NeighbourFinder {
  readonly structure: Structure;
  readonly nsites: number;
  readonly periodic: boolean;
  /** Lattice rows, row-major. */
  readonly lattice: Float64Array;
  /** Reciprocal rows without 2π. */
  readonly reciprocal: Float64Array;
  /** Fractional coordinates wrapped into [0, 1) (unwrapped for clusters). */
  readonly wrappedFrac: Float64Array;
  /** Cartesian coordinates of the wrapped positions. */
  readonly wrappedCart: Float64Array;
  /** floor(frac): stored frac = wrappedFrac + shift. */
  readonly shift: Int32Array;
  private readonly recipLen = new Float64Array(3);
  private readonly cellCentre = new Float64Array(3);
  private readonly cellRadius: number;
  // Scratch buffers reused between queries (grown on demand).
  private bufIdx = new Int32Array(256);
  private bufD2 = new Float64Array(256);
  private bufVec = new Float64Array(768);
  private bufImg = new Int32Array(768);

  constructor(structure: Structure) {
    this.structure = structure;
    const n = structure.species.length;
    if (structure.frac.length !== 3 * n) {
      throw new InputError(`${structure.source ?? "structure"}: ${n} species but ${structure.frac.length / 3} coordinates`);
    }
    this.nsites = n;
    this.periodic = structure.periodic !== false;
    const m = (this.lattice = Float64Array.from(structure.lattice));
    const b = (this.reciprocal = reciprocalLattice(m));
    for (let i = 0; i < 3; i++) this.recipLen[i] = Math.hypot(b[3 * i], b[3 * i + 1], b[3 * i + 2]);
    const w = (this.wrappedFrac = new Float64Array(3 * n));
    const sh = (this.shift = new Int32Array(3 * n));
    for (let k = 0; k < 3 * n; k++) {
      const f = structure.frac[k];
      if (!Number.isFinite(f)) throw new InputError(`${structure.source ?? "structure"}: site ${Math.floor(k / 3)} has a non-finite coordinate`);
      const fl = this.periodic ? Math.floor(f) : 0;
      let r = f - fl;
      // f just below an integer can round to exactly 1 after the subtraction
      if (this.periodic && r >= 1) { r = 0; sh[k] = fl + 1; } else sh[k] = fl;
      w[k] = r;
    }
    const c = (this.wrappedCart = new Float64Array(3 * n));
    for (let i = 0; i < n; i++) {
      const x = w[3 * i], y = w[3 * i + 1], z = w[3 * i + 2];
      for (let d = 0; d < 3; d++) c[3 * i + d] = x * m[d] + y * m[3 + d] + z * m[6 + d];
    }
    for (let d = 0; d < 3; d++) this.cellCentre[d] = 0.5 * (m[d] + m[3 + d] + m[6 + d]);
    let r2 = 0;
    for (let corner = 0; corner < 8; corner++) {
      let s = 0;
      for (let d = 0; d < 3; d++) {
        const v = (corner & 1 ? m[d] : 0) + (corner & 2 ? m[3 + d] : 0) + (corner & 4 ? m[6 + d] : 0) - this.cellCentre[d];
        s += v * v;
      }
      r2 = Math.max(r2, s);
    }
    this.cellRadius = Math.sqrt(r2);
  }

  /** All images within `cutoff` Å of site `site` (the site itself at distance 0 excluded). */
  neighbours(site: number, cutoff: number): NeighbourList {
    if (!Number.isInteger(site) || site < 0 || site >= this.nsites) {
      throw new RangeError(`site ${site} out of range 0..${this.nsites - 1} (${this.structure.source ?? "structure"})`);
    }
    if (!(cutoff >= 0) || !Number.isFinite(cutoff)) throw new RangeError(`cutoff must be a finite number ≥ 0, got ${cutoff}`);
    const m = this.lattice, w = this.wrappedFrac, wc = this.wrappedCart, n = this.nsites;
    const px = wc[3 * site], py = wc[3 * site + 1], pz = wc[3 * site + 2];
    const r2max = cutoff * cutoff;
    const reach = cutoff + this.cellRadius;
    const reach2 = reach * reach;
    const lo = [0, 0, 0], hi = [0, 0, 0];
    if (this.periodic) {
      for (let d = 0; d < 3; d++) {
        // image n_d can hold a point within the cutoff only if |w_j + n_d − f_d| ≤ cutoff·|b_d|, w_j ∈ [0,1)
        const f = w[3 * site + d], span = cutoff * this.recipLen[d];
        lo[d] = Math.ceil(f - span - 1);
        hi[d] = Math.floor(f + span);
      }
    }
    let count = 0;
    const cc = this.cellCentre;
    for (let n1 = lo[0]; n1 <= hi[0]; n1++) {
      for (let n2 = lo[1]; n2 <= hi[1]; n2++) {
        for (let n3 = lo[2]; n3 <= hi[2]; n3++) {
          const tx = n1 * m[0] + n2 * m[3] + n3 * m[6];
          const ty = n1 * m[1] + n2 * m[4] + n3 * m[7];
          const tz = n1 * m[2] + n2 * m[5] + n3 * m[8];
          // skip the whole image cell when its circumscribed sphere is out of reach
          const ex = tx + cc[0] - px, ey = ty + cc[1] - py, ez = tz + cc[2] - pz;
          if (ex * ex + ey * ey + ez * ez > reach2) continue;
          const ox = tx - px, oy = ty - py, oz = tz - pz;
          for (let j = 0; j < n; j++) {
            const dx = wc[3 * j] + ox, dy = wc[3 * j + 1] + oy, dz = wc[3 * j + 2] + oz;
            const d2 = dx * dx + dy * dy + dz * dz;
            if (d2 > r2max || d2 < SELF_TOL * SELF_TOL) continue;
            if (count === this.bufIdx.length) this.grow();
            this.bufIdx[count] = j;
            this.bufD2[count] = d2;
            this.bufVec[3 * count] = dx;
            this.bufVec[3 * count + 1] = dy;
            this.bufVec[3 * count + 2] = dz;
            // image relative to stored coordinates (see NeighbourList.image)
            this.bufImg[3 * count] = n1 - this.shift[3 * j] + this.shift[3 * site];
            this.bufImg[3 * count + 1] = n2 - this.shift[3 * j + 1] + this.shift[3 * site + 1];
            this.bufImg[3 * count + 2] = n3 - this.shift[3 * j + 2] + this.shift[3 * site + 2];
            count++;
          }
        }
      }
    }
    return this.sorted(count);
  }

  private grow(): void {
    const size = this.bufIdx.length * 2;
    const idx = new Int32Array(size); idx.set(this.bufIdx); this.bufIdx = idx;
    const d2 = new Float64Array(size); d2.set(this.bufD2); this.bufD2 = d2;
    const vec = new Float64Array(3 * size); vec.set(this.bufVec); this.bufVec = vec;
    const img = new Int32Array(3 * size); img.set(this.bufImg); this.bufImg = img;
  }

  private sorted(count: number): NeighbourList {
    const d2 = this.bufD2, idx = this.bufIdx, img = this.bufImg;
    const order = new Int32Array(count);
    for (let k = 0; k < count; k++) order[k] = k;
    order.sort((a, b) => {
      const dd = d2[a] - d2[b];
      // squared distances equal to ~1e-12 relative are ties: order them by site index, then image
      if (Math.abs(dd) > 1e-12 * (d2[a] + d2[b])) return dd;
      return idx[a] - idx[b] || img[3 * a] - img[3 * b] || img[3 * a + 1] - img[3 * b + 1] || img[3 * a + 2] - img[3 * b + 2];
    });
    const index = new Int32Array(count), distance = new Float64Array(count);
    const vec = new Float64Array(3 * count), image = new Int32Array(3 * count);
    for (let k = 0; k < count; k++) {
      const o = order[k];
      index[k] = idx[o];
      distance[k] = Math.sqrt(d2[o]);
      for (let d = 0; d < 3; d++) {
        vec[3 * k + d] = this.bufVec[3 * o + d];
        image[3 * k + d] = img[3 * o + d];
      }
    }
    return { index, distance, vec, image };
  }
}

const FINDERS = new WeakMap<Structure, NeighbourFinder>();

/** The NeighbourFinder of `s`, built on first use and cached per structure object. */
export function neighbourFinder(s: Structure): NeighbourFinder {
  let f = FINDERS.get(s);
  if (!f) {
    f = new NeighbourFinder(s);
    FINDERS.set(s, f);
  }
  return f;
}

/** Every periodic image within `cutoff` Å of site `site` of `s`, sorted by distance. See NeighbourFinder. */
export function neighbours(s: Structure, site: number, cutoff: number): NeighbourList {
  return neighbourFinder(s).neighbours(site, cutoff);
}
