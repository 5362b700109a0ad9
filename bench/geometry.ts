/**
 * Neighbours (8 Å) + Voronoi cell for every Cu site of the FEFF Cu K-edge set, in sites/s; then the
 * same for a seeded sample of ~100 sites in pymatgen (Structure.get_neighbors + VoronoiNN(tol=0,
 * cutoff=13).get_voronoi_polyhedra) when /usr/bin/python3 has it, and the ratio.
 * Run: node --import tsx bench/geometry.ts [sampleSize]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { sharedDataDir } from "../lib/config";
import { NeighbourFinder } from "../lib/geometry/neighbours";
import { voronoiCellOf } from "../lib/geometry/voronoi";
import { readPoscarFile } from "../lib/structure/poscar";
import { Structure } from "../lib/structure/types";
import { createRng, shuffleInPlace } from "../lib/util/random";
import { cuSites } from "./cu-sites";

const CUTOFF = 8;

function main() {
  const root = path.join(sharedDataDir(), "feff-cu-k-oxides");
  if (!fs.existsSync(root)) {
    console.log(`SKIP: ${root} not found`);
    return;
  }
  const sampleSize = Number(process.argv[2] ?? 100);
  const materials = cuSites(root);
  const t0 = performance.now();
  const structures: Structure[] = materials.map((m) => readPoscarFile(m.poscar));
  const tRead = performance.now() - t0;
  const nSites = materials.reduce((a, m) => a + m.sites.length, 0);
  const nAtoms = structures.reduce((a, s) => a + s.species.length, 0);
  console.log(`${materials.length} structures (${nAtoms} atoms), ${nSites} Cu sites; POSCAR parsing ${tRead.toFixed(0)} ms`);

  // two passes over every site: the first includes JIT warm-up; Voronoi reuses the 8 Å neighbour list
  for (const pass of ["cold", "warm"]) {
    let nNeigh = 0, nFaces = 0, tNeigh = 0, tVor = 0;
    const tAll = performance.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < structures.length; i++) {
      const f = new NeighbourFinder(structures[i]);
      for (const site of materials[i].sites) {
        const a = performance.now();
        const list = f.neighbours(site, CUTOFF);
        const b = performance.now();
        nFaces += voronoiCellOf(f, site, { precomputed: { list, cutoff: CUTOFF } }).faces.length;
        tVor += performance.now() - b;
        tNeigh += b - a;
        nNeigh += list.index.length;
      }
    }
    const total = performance.now() - tAll;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(`ours (${pass}), all ${nSites} sites: ${total.toFixed(0)} ms wall = ${(total / nSites * 1000).toFixed(1)} µs/site = ${(nSites / total * 1000).toFixed(0)} sites/s; CPU ${(cpuMs / nSites * 1000).toFixed(1)} µs/site`);
    console.log(`  neighbours(${CUTOFF} Å) ${(tNeigh / nSites * 1000).toFixed(1)} µs/site (mean ${(nNeigh / nSites).toFixed(0)} neighbours), Voronoi ${(tVor / nSites * 1000).toFixed(1)} µs/site (mean ${(nFaces / nSites).toFixed(1)} faces)`);
  }

  // the same seeded sample for both codes; per site: a fresh structure-level object (no reuse), neighbours + Voronoi
  const all = materials.flatMap((m, i) => m.sites.map((site) => ({ i, site })));
  const sample = shuffleInPlace(all.slice(), createRng(42)).slice(0, sampleSize);
  const ts = performance.now();
  for (const { i, site } of sample) {
    const f = new NeighbourFinder(structures[i]);
    const list = f.neighbours(site, CUTOFF);
    voronoiCellOf(f, site, { precomputed: { list, cutoff: CUTOFF } });
  }
  const oursSample = (performance.now() - ts) / sample.length;
  console.log(`ours, sample of ${sample.length} sites (finder rebuilt per site): ${(oursSample * 1000).toFixed(1)} µs/site`);

  const py = "/usr/bin/python3";
  const script = `
import json, sys, time, warnings
warnings.simplefilter("ignore")
from pymatgen.core import Structure
from pymatgen.analysis.local_env import VoronoiNN
jobs = json.load(sys.stdin)
cache = {}
for p, _ in jobs:
    if p not in cache: cache[p] = Structure.from_file(p)
vnn = VoronoiNN(tol=0, cutoff=13, allow_pathological=False)
t0 = time.perf_counter()
for p, site in jobs:
    s = cache[p]
    s.get_neighbors(s[site], ${CUTOFF}.0)
    vnn.get_voronoi_polyhedra(s, site)
print(json.dumps({"seconds": time.perf_counter() - t0}))
`;
  const check = spawnSync(py, ["-c", "import pymatgen.analysis.local_env"], { encoding: "utf8" });
  if (check.status !== 0) {
    console.log(`pymatgen not available in ${py}: no comparison`);
    return;
  }
  const jobs = sample.map(({ i, site }) => [materials[i].poscar, site]);
  const r = spawnSync(py, ["-c", script], { input: JSON.stringify(jobs), encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.log(`pymatgen run failed: ${r.stderr.slice(-500)}`);
    return;
  }
  const pySec = JSON.parse(r.stdout.trim().split("\n").pop()!).seconds as number;
  const pyPerSite = (pySec * 1000) / sample.length;
  console.log(`pymatgen, same ${sample.length} sites: ${(pyPerSite * 1000).toFixed(0)} µs/site = ${(1000 / pyPerSite).toFixed(1)} sites/s`);
  console.log(`ratio pymatgen / ours (same sample): ${(pyPerSite / oursSample).toFixed(0)}×`);
  console.log("(2 shared cores with other jobs running: timings are noisy)");
}

main();
