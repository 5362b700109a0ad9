import * as fs from "node:fs";
import * as path from "node:path";
import { readPoscarFile } from "../lib/structure/poscar";
import { NeighbourFinder } from "../lib/geometry/neighbours";
import { voronoiCellOf } from "../lib/geometry/voronoi";
const ref = JSON.parse(fs.readFileSync("/work/shared/reference/neighbours-voronoi.json", "utf8"));
for (const c of ref.cases) {
  const p = path.join("/work/shared/data/feff-cu-k-oxides", c.source, c.source.includes("POSCAR") ? "" : "POSCAR");
  const s = readPoscarFile(p);
  const f = new NeighbourFinder(s);
  const t0 = performance.now();
  let cell = voronoiCellOf(f, c.site);
  for (let r = 0; r < 20; r++) cell = voronoiCellOf(f, c.site);
  const t1 = performance.now();
  const sum = cell.faces.reduce((a, x) => a + x.solidAngle, 0);
  const refBig = c.voronoi_faces.filter((x: any) => x.solid_angle > 1e-3);
  const used = new Set<number>();
  let miss = 0, maxSa = 0, maxA = 0;
  for (const r of refBig) {
    const j = cell.faces.findIndex((x, i) => !used.has(i) && x.index === r.index && Math.abs(x.distance - r.distance) < 1e-4 && Math.abs(x.solidAngle - r.solid_angle) < 1e-3);
    if (j < 0) { miss++; continue; }
    used.add(j);
    maxSa = Math.max(maxSa, Math.abs(cell.faces[j].solidAngle - r.solid_angle));
    maxA = Math.max(maxA, Math.abs(cell.faces[j].area - r.area));
  }
  console.log(c.source, c.site, cell.faces.length, c.voronoi_faces.length, refBig.length, "miss", miss, "dSa", maxSa.toExponential(1), "dA", maxA.toExponential(1), "sum-4pi", (sum - 4 * Math.PI).toExponential(1), "vol", cell.volume.toFixed(5), c.voronoi_volume, ((t1 - t0) / 21).toFixed(3) + "ms");
}
