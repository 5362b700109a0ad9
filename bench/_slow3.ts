import * as fs from "node:fs";
import * as path from "node:path";
import { NeighbourFinder } from "../lib/geometry/neighbours";
import { voronoiCellOf } from "../lib/geometry/voronoi";
import { readPoscarFile } from "../lib/structure/poscar";
const root = "/work/shared/data/feff-cu-k-oxides";
const res: any[] = [];
for (const id of fs.readdirSync(root).sort()) {
  const p = path.join(root, id, "POSCAR");
  if (!fs.existsSync(p)) continue;
  const sites = fs.readdirSync(path.join(root, id)).map((n) => /^(\d+)_Cu$/.exec(n)).filter(Boolean).map((m) => Number(m![1]));
  const s = readPoscarFile(p);
  const f = new NeighbourFinder(s);
  for (const site of sites) {
    voronoiCellOf(f, site);
    const t = performance.now();
    const c = voronoiCellOf(f, site);
    res.push([performance.now() - t, id, site, s.species.length, c.faces.length]);
  }
}
res.sort((a, b) => b[0] - a[0]);
console.log(res.slice(0, 12).map((r) => r.join(" ")).join("\n"));
console.log("total", res.reduce((a, r) => a + r[0], 0).toFixed(0), "ms", res.length);
