import { NeighbourFinder } from "../lib/geometry/neighbours";
import { voronoiCellOf } from "../lib/geometry/voronoi";
import { readPoscarFile } from "../lib/structure/poscar";
for (const id of ["mp-1023127", "mp-1099236", "mp-25196", "mp-1147748"]) {
  const s = readPoscarFile(`/work/shared/data/feff-cu-k-oxides/${id}/POSCAR`);
  const f = new NeighbourFinder(s);
  const site = s.species.indexOf("Cu");
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    for (let k = 0; k < 20; k++) voronoiCellOf(f, site);
    console.log(id, ((performance.now() - t) / 20).toFixed(3), "ms");
  }
}
