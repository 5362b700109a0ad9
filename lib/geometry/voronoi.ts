import { latticeVolume } from "../structure/lattice";
import { Structure } from "../structure/types";
import { NeighbourFinder, NeighbourList, neighbourFinder } from "./neighbours";

/** One face of a Voronoi cell: the bisector plane between the site and one neighbour image. */
export interface VoronoiFace {
  /** Site index of the neighbour, or −1 for a face of the bounding box (only for clusters, periodic: false). */
  readonly index: number;
  /** Lattice translation of the neighbour image (as NeighbourList.image). */
  readonly image: readonly [number, number, number];
  /** Distance to the neighbour image, Å (for box faces: twice the box half-width). */
  readonly distance: number;
  /** Solid angle subtended by the face at the site, sr. */
  readonly solidAngle: number;
  /** Face area, Å². */
  readonly area: number;
  /** Outward unit normal (site → neighbour direction). */
  readonly normal: readonly [number, number, number];
}

export interface VoronoiCell {
  /** Faces, largest solid angle first. Solid angles sum to 4π. */
  readonly faces: VoronoiFace[];
  /** Cell volume, Å³. */
  readonly volume: number;
}

export interface VoronoiOptions {
  /**
   * First neighbour-search radius, Å (default: 2.5 × the cube root of the volume per site, at least 4).
   * The search is widened automatically until no unchecked neighbour can cut the cell, so this only
   * affects speed.
   */
  initialCutoff?: number;
  /**
   * Neighbours of this site already computed with `finder.neighbours(site, cutoff)` (e.g. for other
   * descriptors): used instead of the first search when `cutoff` ≥ the initial cutoff (a shorter list
   * would only be widened again, costing more searches than it saves); ignored for clusters.
   */
  precomputed?: { list: NeighbourList; cutoff: number };
  /** Half-width of the starting cube, Å (default 100). Only matters for clusters, where it truncates cells of surface atoms. */
  boxHalfWidth?: number;
}

/** Points closer than this (Å) to a clipping plane count as on it: keeps cospherical (high-symmetry) vertices stable. */
const PLANE_EPS = 1e-9;
/** Cut points closer than this (Å) are one vertex. */
const MERGE_EPS = 1e-7;

interface Face {
  /** Global neighbour number (offsets[i] + position in lists[i], see voronoiCellOf), or −1 for the box. */
  k: number;
  /** Polygon vertices, flat xyz, relative to the site, ordered counter-clockwise seen from outside. */
  v: number[];
  /** Outward normal and plane offset (for box faces). */
  nx: number; ny: number; nz: number; h: number;
}

function boxFaces(H: number): Face[] {
  const faces: Face[] = [];
  // for each axis and sign: a square face, CCW seen from outside
  for (let ax = 0; ax < 3; ax++) {
    for (const sg of [1, -1]) {
      const u = (ax + 1) % 3, w = (ax + 2) % 3;
      const corners = sg > 0 ? [[-1, -1], [1, -1], [1, 1], [-1, 1]] : [[-1, -1], [-1, 1], [1, 1], [1, -1]];
      const v: number[] = [];
      for (const [cu, cw] of corners) {
        const p = [0, 0, 0];
        p[ax] = sg * H; p[u] = cu * H; p[w] = cw * H;
        v.push(p[0], p[1], p[2]);
      }
      const n = [0, 0, 0];
      n[ax] = sg;
      faces.push({ k: -1, v, nx: n[0], ny: n[1], nz: n[2], h: H });
    }
  }
  return faces;
}

/**
 * Clip convex polyhedron `faces` by the half-space x·n ≤ h (n unit). Returns the new face list, or null
 * when no vertex lies outside (the plane does not cut the cell).
 */
function clip(faces: Face[], nx: number, ny: number, nz: number, h: number, k: number): Face[] | null {
  let cuts = false;
  for (const f of faces) {
    const v = f.v;
    for (let i = 0; i < v.length; i += 3) {
      if (v[i] * nx + v[i + 1] * ny + v[i + 2] * nz - h > PLANE_EPS) { cuts = true; break; }
    }
    if (cuts) break;
  }
  if (!cuts) return null;
  const out: Face[] = [];
  const onPlane: number[] = [];
  for (const f of faces) {
    const v = f.v, nv = v.length / 3;
    let outside = false;
    for (let i = 0; i < v.length; i += 3) {
      const sq = v[i] * nx + v[i + 1] * ny + v[i + 2] * nz - h;
      if (sq > PLANE_EPS) outside = true;
      else if (sq >= -PLANE_EPS) onPlane.push(v[i], v[i + 1], v[i + 2]);
    }
    if (!outside) { out.push(f); continue; } // untouched face: no copy
    const kept: number[] = [];
    let sp = v[3 * nv - 3] * nx + v[3 * nv - 2] * ny + v[3 * nv - 1] * nz - h;
    let px = v[3 * nv - 3], py = v[3 * nv - 2], pz = v[3 * nv - 1];
    for (let i = 0; i < nv; i++) {
      const qx = v[3 * i], qy = v[3 * i + 1], qz = v[3 * i + 2];
      const sq = qx * nx + qy * ny + qz * nz - h;
      // edge p → q: emit the crossing point strictly between, then q if inside
      if ((sp > PLANE_EPS && sq < -PLANE_EPS) || (sp < -PLANE_EPS && sq > PLANE_EPS)) {
        const t = sp / (sp - sq);
        const x = px + t * (qx - px), y = py + t * (qy - py), z = pz + t * (qz - pz);
        kept.push(x, y, z);
        onPlane.push(x, y, z);
      }
      if (sq <= PLANE_EPS) kept.push(qx, qy, qz);
      px = qx; py = qy; pz = qz; sp = sq;
    }
    const clean = dedupeRing(kept);
    if (clean.length >= 9) out.push({ k: f.k, v: clean, nx: f.nx, ny: f.ny, nz: f.nz, h: f.h });
  }
  const ring = orderOnPlane(onPlane, nx, ny, nz);
  if (ring.length >= 9) out.push({ k, v: ring, nx, ny, nz, h });
  return out;
}

/** Drop consecutive (cyclic) duplicate vertices. */
function dedupeRing(v: number[]): number[] {
  const out: number[] = [];
  const n = v.length / 3;
  for (let i = 0; i < n; i++) {
    const x = v[3 * i], y = v[3 * i + 1], z = v[3 * i + 2];
    const m = out.length;
    if (m >= 3 && Math.abs(out[m - 3] - x) < MERGE_EPS && Math.abs(out[m - 2] - y) < MERGE_EPS && Math.abs(out[m - 1] - z) < MERGE_EPS) continue;
    out.push(x, y, z);
  }
  while (out.length >= 6) {
    const m = out.length;
    if (Math.abs(out[m - 3] - out[0]) < MERGE_EPS && Math.abs(out[m - 2] - out[1]) < MERGE_EPS && Math.abs(out[m - 1] - out[2]) < MERGE_EPS) out.length -= 3;
    else break;
  }
  return out;
}

/** Distinct points of the cut, ordered counter-clockwise around their centroid seen along +n. */
function orderOnPlane(p: number[], nx: number, ny: number, nz: number): number[] {
  const uniq: number[] = [];
  for (let i = 0; i < p.length; i += 3) {
    let dup = false;
    for (let j = 0; j < uniq.length; j += 3) {
      if (Math.abs(uniq[j] - p[i]) < MERGE_EPS && Math.abs(uniq[j + 1] - p[i + 1]) < MERGE_EPS && Math.abs(uniq[j + 2] - p[i + 2]) < MERGE_EPS) { dup = true; break; }
    }
    if (!dup) uniq.push(p[i], p[i + 1], p[i + 2]);
  }
  const n = uniq.length / 3;
  if (n < 3) return [];
  let cx = 0, cy = 0, cz = 0;
  for (let i = 0; i < n; i++) { cx += uniq[3 * i]; cy += uniq[3 * i + 1]; cz += uniq[3 * i + 2]; }
  cx /= n; cy /= n; cz /= n;
  // in-plane basis e1, e2 with e1 × e2 = n
  const ax = Math.abs(nx) < 0.9 ? 1 : 0, ay = ax ? 0 : 1;
  let e1x = ay * nz, e1y = -ax * nz, e1z = ax * ny - ay * nx; // a × n
  const l = Math.hypot(e1x, e1y, e1z);
  e1x /= l; e1y /= l; e1z /= l;
  const e2x = ny * e1z - nz * e1y, e2y = nz * e1x - nx * e1z, e2z = nx * e1y - ny * e1x; // n × e1
  const ang = new Float64Array(n);
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const dx = uniq[3 * i] - cx, dy = uniq[3 * i + 1] - cy, dz = uniq[3 * i + 2] - cz;
    ang[i] = Math.atan2(dx * e2x + dy * e2y + dz * e2z, dx * e1x + dy * e1y + dz * e1z);
    order[i] = i;
  }
  order.sort((a, b) => ang[a] - ang[b]);
  const out: number[] = [];
  for (const i of order) out.push(uniq[3 * i], uniq[3 * i + 1], uniq[3 * i + 2]);
  return out;
}

/**
 * Solid angle of a convex polygon seen from the origin: fan of triangles from vertex 0, each by the
 * Van Oosterom–Strackee formula (as pymatgen's `solid_angle`).
 */
function polygonSolidAngle(v: number[]): number {
  const n = v.length / 3;
  const x0 = v[0], y0 = v[1], z0 = v[2];
  const r0 = Math.hypot(x0, y0, z0);
  let total = 0;
  for (let i = 1; i < n - 1; i++) {
    const x1 = v[3 * i], y1 = v[3 * i + 1], z1 = v[3 * i + 2];
    const x2 = v[3 * i + 3], y2 = v[3 * i + 4], z2 = v[3 * i + 5];
    const r1 = Math.hypot(x1, y1, z1), r2 = Math.hypot(x2, y2, z2);
    const triple = Math.abs(x0 * (y1 * z2 - z1 * y2) - y0 * (x1 * z2 - z1 * x2) + z0 * (x1 * y2 - y1 * x2));
    const den = r0 * r1 * r2 + r2 * (x0 * x1 + y0 * y1 + z0 * z1) + r1 * (x0 * x2 + y0 * y2 + z0 * z2) + r0 * (x1 * x2 + y1 * y2 + z1 * z2);
    let a = Math.atan2(triple, den); // in [0, π]: atan with the quadrant fixed
    if (a < 0) a += Math.PI;
    total += 2 * a;
  }
  return total;
}

/** Area of a planar polygon (vector area magnitude). */
function polygonArea(v: number[]): number {
  const n = v.length / 3;
  let sx = 0, sy = 0, sz = 0;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    const ax = v[3 * i], ay = v[3 * i + 1], az = v[3 * i + 2];
    const bx = v[3 * j], by = v[3 * j + 1], bz = v[3 * j + 2];
    sx += ay * bz - az * by; sy += az * bx - ax * bz; sz += ax * by - ay * bx;
  }
  return 0.5 * Math.hypot(sx, sy, sz);
}

function maxVertexDistance(faces: Face[]): number {
  let m = 0;
  for (const f of faces) {
    const v = f.v;
    for (let i = 0; i < v.length; i += 3) {
      const d = v[i] * v[i] + v[i + 1] * v[i + 1] + v[i + 2] * v[i + 2];
      if (d > m) m = d;
    }
  }
  return Math.sqrt(m);
}

/**
 * Voronoi cell of one site of the periodic crystal (all images), computed exactly by clipping a cube
 * with the bisector planes of neighbours in order of distance until no unchecked neighbour is closer
 * than twice the farthest cell vertex. Matches pymatgen `VoronoiNN(tol=0).get_voronoi_polyhedra`
 * (faces, solid angles, areas, volume) for cells whose neighbours lie within its 13 Å cutoff.
 */
export function voronoiCellOf(finder: NeighbourFinder, site: number, options: VoronoiOptions = {}): VoronoiCell {
  const H = options.boxHalfWidth ?? 100;
  let radius: number;
  if (!finder.periodic) radius = 4 * H; // a cluster: every atom at once
  else {
    const perSite = Math.cbrt(Math.abs(latticeVolume(finder.lattice)) / finder.nsites);
    radius = options.initialCutoff ?? Math.max(4, 2.5 * perSite);
  }
  let faces = boxFaces(H);
  let maxV = H * Math.sqrt(3);
  // clusters always search every atom at once
  const pre = finder.periodic && options.precomputed && options.precomputed.cutoff >= radius ? options.precomputed : undefined;
  if (pre) radius = pre.cutoff;
  let list: NeighbourList = pre ? pre.list : finder.neighbours(site, radius);
  const lists: NeighbourList[] = [list];
  // faces name their neighbour by a global number: offsets[i] + position in lists[i]
  const offsets: number[] = [0];
  let face0 = 0;
  let k = 0;
  let done = false;
  while (!done) {
    const n = list.index.length;
    for (; k < n; k++) {
      const d = list.distance[k];
      if (d > 2 * maxV + PLANE_EPS) { done = true; break; }
      const ux = list.vec[3 * k] / d, uy = list.vec[3 * k + 1] / d, uz = list.vec[3 * k + 2] / d;
      const next = clip(faces, ux, uy, uz, d / 2, face0 + k);
      if (next) {
        faces = next;
        maxV = maxVertexDistance(faces);
      }
    }
    if (done || !finder.periodic || 2 * maxV <= radius) break;
    // the cell may still be cut by neighbours beyond the searched radius: search farther and go on
    const oldRadius = radius;
    // at most doubling: while the cell is still open towards some direction, maxV is a box corner
    radius = Math.min(2 * maxV + 1e-6, 2 * radius);
    face0 += n;
    list = finder.neighbours(site, radius);
    lists.push(list);
    offsets.push(face0);
    k = 0;
    // entries within the old radius were clipped already
    while (k < list.index.length && list.distance[k] <= oldRadius) k++;
  }

  const out: VoronoiFace[] = [];
  let volume = 0;
  for (const f of faces) {
    const area = polygonArea(f.v);
    const solidAngle = polygonSolidAngle(f.v);
    if (f.k < 0) {
      volume += (area * f.h) / 3;
      out.push({ index: -1, image: [0, 0, 0], distance: 2 * f.h, solidAngle, area, normal: [f.nx, f.ny, f.nz] });
      continue;
    }
    // find the list holding neighbour f.k
    let li = offsets.length - 1;
    while (offsets[li] > f.k) li--;
    const L = lists[li], j = f.k - offsets[li];
    const d = L.distance[j];
    volume += (area * d) / 6;
    out.push({
      index: L.index[j],
      image: [L.image[3 * j], L.image[3 * j + 1], L.image[3 * j + 2]],
      distance: d,
      solidAngle,
      area,
      normal: [f.nx, f.ny, f.nz],
    });
  }
  out.sort((a, b) => b.solidAngle - a.solidAngle || a.distance - b.distance || a.index - b.index);
  return { faces: out, volume };
}

/** Voronoi cell of site `site` of `s` (see voronoiCellOf); the structure's NeighbourFinder is cached. */
export function voronoiCell(s: Structure, site: number, options?: VoronoiOptions): VoronoiCell {
  return voronoiCellOf(neighbourFinder(s), site, options);
}
