import { latticeVolume, reciprocalLattice } from "../structure/lattice";
import { Structure } from "../structure/types";
import { InputError } from "../util/errors";

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
/** Index of the low 32-bit word of a float64 in a Uint32Array view (platform byte order). */
const LOW_WORD = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;

/**
 * Per-structure neighbour search. Build once per structure (wraps coordinates, reciprocal lattice,
 * cell bounds) and query every site of it: `new NeighbourFinder(s).neighbours(i, 8)`.
 * A cell list: atoms are binned along the lattice vectors; a query visits the bins (of every periodic
 * image) inside the slab range allowed by the lattice-plane spacings and skips those whose circumscribed
 * sphere is out of reach, so any cell shape works (skewed triclinic, cells much smaller than the cutoff)
 * and large cells cost about the number of atoms near the sphere, not N × images.
 * With `structure.periodic === false` (clusters) there are no images.
 * The structure is treated as immutable: its coordinates are copied here.
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
  // Cell list: the cell is cut into nb[0]×nb[1]×nb[2] bins along the lattice vectors; binStart/binAtoms
  // list the atoms of each bin (CSR), binCart holds their wrapped cartesian coordinates in that order.
  private readonly nb = new Int32Array(3);
  private readonly binStart: Int32Array;
  private readonly binAtoms: Int32Array;
  private readonly binCart: Float64Array;
  /** Circumradius of one bin (a parallelepiped with edges a_d / nb_d), Å. */
  private readonly binRadius: number;
  // Scratch buffers reused between queries (grown on demand).
  private bufIdx = new Int32Array(256);
  private bufD2 = new Float64Array(256);
  private bufVec = new Float64Array(768);
  private bufImg = new Int32Array(768);
  private bufKey = new Float64Array(256);
  private bufKeyWords = new Uint32Array(this.bufKey.buffer);

  constructor(structure: Structure) {
    this.structure = structure;
    const n = structure.species.length;
    if (structure.frac.length !== 3 * n) {
      throw new InputError(`${structure.source ?? "structure"}: ${n} species but ${structure.frac.length / 3} coordinates`);
    }
    this.nsites = n;
    this.periodic = structure.periodic !== false;
    const m = (this.lattice = Float64Array.from(structure.lattice));
    const b = (this.reciprocal = reciprocalLattice(m, structure.source));
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
    // bins about the size of the volume per atom (≥ 2 Å), so a query visits few empty bins and
    // touches only atoms near the sphere instead of every atom of every image
    const binLen = Math.max(2, Math.cbrt((3 * Math.abs(latticeVolume(m))) / n));
    for (let d = 0; d < 3; d++) {
      this.nb[d] = this.periodic ? Math.max(1, Math.min(64, Math.floor(1 / this.recipLen[d] / binLen))) : 1;
    }
    const [nb0, nb1, nb2] = this.nb;
    const nbins = nb0 * nb1 * nb2;
    const binOf = new Int32Array(n);
    const binStart = (this.binStart = new Int32Array(nbins + 1));
    for (let i = 0; i < n; i++) {
      const b0 = Math.min(nb0 - 1, Math.floor(w[3 * i] * nb0));
      const b1 = Math.min(nb1 - 1, Math.floor(w[3 * i + 1] * nb1));
      const b2 = Math.min(nb2 - 1, Math.floor(w[3 * i + 2] * nb2));
      binOf[i] = nbins === 1 ? 0 : (b0 * nb1 + b1) * nb2 + b2;
      binStart[binOf[i] + 1]++;
    }
    for (let b = 0; b < nbins; b++) binStart[b + 1] += binStart[b];
    const fill = binStart.slice(0, nbins);
    const atoms = (this.binAtoms = new Int32Array(n));
    const bc = (this.binCart = new Float64Array(3 * n));
    for (let i = 0; i < n; i++) {
      const slot = fill[binOf[i]]++;
      atoms[slot] = i;
      bc[3 * slot] = c[3 * i]; bc[3 * slot + 1] = c[3 * i + 1]; bc[3 * slot + 2] = c[3 * i + 2];
    }
    let r2 = 0;
    for (let corner = 0; corner < 8; corner++) {
      let s2 = 0;
      for (let d = 0; d < 3; d++) {
        const v = ((corner & 1 ? 1 : -1) * m[d]) / nb0 + ((corner & 2 ? 1 : -1) * m[3 + d]) / nb1 + ((corner & 4 ? 1 : -1) * m[6 + d]) / nb2;
        s2 += 0.25 * v * v;
      }
      r2 = Math.max(r2, s2);
    }
    this.binRadius = Math.sqrt(r2);
  }

  /** All images within `cutoff` Å of site `site` (the site itself at distance 0 excluded). */
  neighbours(site: number, cutoff: number): NeighbourList {
    if (!Number.isInteger(site) || site < 0 || site >= this.nsites) {
      throw new RangeError(`site ${site} out of range 0..${this.nsites - 1} (${this.structure.source ?? "structure"})`);
    }
    if (!(cutoff >= 0) || !Number.isFinite(cutoff)) throw new RangeError(`cutoff must be a finite number ≥ 0, got ${cutoff}`);
    const m = this.lattice, w = this.wrappedFrac, wc = this.wrappedCart, nb = this.nb;
    const px = wc[3 * site], py = wc[3 * site + 1], pz = wc[3 * site + 2];
    const r2max = cutoff * cutoff;
    const reach = cutoff + this.binRadius;
    const reach2 = reach * reach;
    const atoms = this.binAtoms, bc = this.binCart, start = this.binStart, sh = this.shift;
    // bins g_d (over all images: image n_d = floor(g_d / nb_d)) whose fractional slab can hold a point
    // within the cutoff: |f − f_site| ≤ cutoff·|b_d| along each reciprocal direction
    const lo = [0, 0, 0], hi = [0, 0, 0];
    if (this.periodic) {
      for (let d = 0; d < 3; d++) {
        const f = w[3 * site + d], span = cutoff * this.recipLen[d];
        lo[d] = Math.floor((f - span) * nb[d]);
        hi[d] = Math.floor((f + span) * nb[d]);
      }
    }
    const nb1 = nb[1], nb2 = nb[2];
    let count = 0;
    for (let g0 = lo[0]; g0 <= hi[0]; g0++) {
      const n0 = Math.floor(g0 / nb[0]), b0 = g0 - n0 * nb[0];
      for (let g1 = lo[1]; g1 <= hi[1]; g1++) {
        const n1 = Math.floor(g1 / nb1), b1 = g1 - n1 * nb1;
        for (let g2 = lo[2]; g2 <= hi[2]; g2++) {
          const n2 = Math.floor(g2 / nb2), b2 = g2 - n2 * nb2;
          const bin = (b0 * nb1 + b1) * nb2 + b2;
          const first = start[bin], last = start[bin + 1];
          if (first === last) continue;
          const tx = n0 * m[0] + n1 * m[3] + n2 * m[6];
          const ty = n0 * m[1] + n1 * m[4] + n2 * m[7];
          const tz = n0 * m[2] + n1 * m[5] + n2 * m[8];
          if (this.periodic) {
            // skip the bin when its circumscribed sphere is out of reach
            const u0 = (g0 + 0.5) / nb[0], u1 = (g1 + 0.5) / nb1, u2 = (g2 + 0.5) / nb2;
            const ex = u0 * m[0] + u1 * m[3] + u2 * m[6] - px;
            const ey = u0 * m[1] + u1 * m[4] + u2 * m[7] - py;
            const ez = u0 * m[2] + u1 * m[5] + u2 * m[8] - pz;
            if (ex * ex + ey * ey + ez * ez > reach2) continue;
          }
          const ox = tx - px, oy = ty - py, oz = tz - pz;
          for (let slot = first; slot < last; slot++) {
            const dx = bc[3 * slot] + ox, dy = bc[3 * slot + 1] + oy, dz = bc[3 * slot + 2] + oz;
            const d2 = dx * dx + dy * dy + dz * dz;
            if (d2 > r2max || d2 < SELF_TOL * SELF_TOL) continue;
            if (count === this.bufIdx.length) this.grow();
            const j = atoms[slot];
            this.bufIdx[count] = j;
            this.bufD2[count] = d2;
            this.bufVec[3 * count] = dx;
            this.bufVec[3 * count + 1] = dy;
            this.bufVec[3 * count + 2] = dz;
            // image relative to stored coordinates (see NeighbourList.image)
            this.bufImg[3 * count] = n0 - sh[3 * j] + sh[3 * site];
            this.bufImg[3 * count + 1] = n1 - sh[3 * j + 1] + sh[3 * site + 1];
            this.bufImg[3 * count + 2] = n2 - sh[3 * j + 2] + sh[3 * site + 2];
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
    this.bufKey = new Float64Array(size);
    this.bufKeyWords = new Uint32Array(this.bufKey.buffer);
  }

  /** Entry a goes before entry b: by squared distance, ~1e-12 relative ties by site index, then image. */
  private before(a: number, b: number): boolean {
    const d2 = this.bufD2, idx = this.bufIdx, img = this.bufImg;
    const dd = d2[a] - d2[b];
    if (Math.abs(dd) > 1e-12 * (d2[a] + d2[b])) return dd < 0;
    return (idx[a] - idx[b] || img[3 * a] - img[3 * b] || img[3 * a + 1] - img[3 * b + 1] || img[3 * a + 2] - img[3 * b + 2]) < 0;
  }

  private sorted(count: number): NeighbourList {
    const d2 = this.bufD2, idx = this.bufIdx, img = this.bufImg;
    // A comparator sort was the main cost of a query. Instead: keys = the squared distances (all > 0,
    // so their bit patterns order like their values) with the entry number in the lowest mantissa
    // bits, sorted natively as numbers; that order is exact up to ~2^(bits − 52) relative, and an
    // insertion pass with the full comparison (ties by index, image) fixes the near-equal runs.
    let bits = 1;
    while (1 << bits < count) bits++;
    const mask = (1 << bits) - 1;
    const keys = this.bufKey.subarray(0, count);
    const words = this.bufKeyWords;
    keys.set(d2.subarray(0, count));
    for (let k = 0; k < count; k++) words[2 * k + LOW_WORD] = (words[2 * k + LOW_WORD] & ~mask) | k;
    keys.sort();
    const order = new Int32Array(count);
    for (let k = 0; k < count; k++) order[k] = words[2 * k + LOW_WORD] & mask;
    for (let k = 1; k < count; k++) {
      const o = order[k];
      let j = k - 1;
      for (; j >= 0 && this.before(o, order[j]); j--) order[j + 1] = order[j];
      order[j + 1] = o;
    }
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

/** The NeighbourFinder of `s`, built on first use and cached per structure object (do not mutate `s` afterwards). */
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
