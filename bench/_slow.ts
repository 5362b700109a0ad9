import * as fs from "node:fs";
import * as path from "node:path";
import { NeighbourFinder } from "../lib/geometry/neighbours";
import { voronoiCellOf } from "../lib/geometry/voronoi";
import { readPoscarFile } from "../lib/structure/poscar";
const root = "/work/shared/data/feff-cu-k-oxides";
const ss: any[] = [];
for (const id of fs.readdirSync(root).sort()) {
  const p = path.join(root, id, "POSCAR");
  if (!fs.existsSync(p)) continue;
  const s = readPoscarFile(p);
  const site = s.species.indexOf("Cu");
  if (site >= 0) ss.push({ id, s, site, f: new NeighbourFinder(s) });
}
for (let pass = 0; pass < 4; pass++) {
  const withN = pass >= 2;
  const res: any[] = [];
  const t0 = performance.now();
  for (const { id, s, site, f } of ss) {
    if (withN) f.neighbours(site, 8);
    const t = performance.now();
    const c = voronoiCellOf(f, site);
    res.push([performance.now() - t, id, s.species.length, c.faces.length]);
  }
  console.log("pass", pass, withN, process.memoryUsage().heapUsed/1e6|0, (performance.now() - t0).toFixed(0), "ms for", ss.length);
  res.sort((a, b) => b[0] - a[0]);
  console.log(res.slice(0, 8).map((r) => r.join(" ")).join("\n"));
}
