/**
 * Featurisation speed: all five descriptors (default options) for every absorbing Cu site of the
 * Cu K-edge set (sites from the `<idx>_Cu` folder names, POSCARs read with lib/structure), on one core.
 * Peer, same run: pymatgen (/usr/bin/python3) computing only the geometry — Voronoi faces
 * (VoronoiNN(tol=0, cutoff=13).get_voronoi_polyhedra) and the 8 Å neighbour shell
 * (Structure.get_neighbors) — on a seeded sample of the same sites; ratio printed per site.
 *   node --import tsx bench/featurize.ts [--sample 150] [--limit N]
 */
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { sharedDataDir } from "../lib/config";
import { DESCRIPTOR_NAMES, Featurizer } from "../lib/descriptors";
import { NeighbourFinder } from "../lib/geometry/neighbours";
import { voronoiCellOf } from "../lib/geometry/voronoi";
import { readPoscarFile } from "../lib/structure/poscar";
import type { Structure } from "../lib/structure/types";
import { createRng, shuffleInPlace } from "../lib/util/random";
import { cuSites } from "./cu-sites";

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

function main(): void {
  const root = path.join(sharedDataDir(), "feff-cu-k-oxides");
  const limit = arg("limit", Infinity);
  const sampleSize = arg("sample", 150);
  console.log(`featurize bench — ${os.cpus()[0].model}, node ${process.version}; machine shared with other jobs (noisy)`);

  let t0 = process.hrtime.bigint();
  const sites = cuSites(root).flatMap((m) => m.sites.map((site) => ({ material: m.material, poscar: m.poscar, site }))).slice(0, limit);
  const structures = new Map<string, Structure>();
  for (const s of sites) if (!structures.has(s.poscar)) structures.set(s.poscar, readPoscarFile(s.poscar));
  const tRead = ms(t0);
  const items = sites.map((s) => ({ structure: structures.get(s.poscar)!, site: s.site }));
  console.log(`read ${structures.size} POSCARs, ${items.length} Cu sites: ${tRead.toFixed(0)} ms (listing + parsing)`);

  const featurizer = new Featurizer({ descriptors: DESCRIPTOR_NAMES.map((name) => ({ name })), absorber: "Cu" });
  console.log(`descriptors: ${featurizer.blocks.map((b) => `${b.name} ${b.length}`).join(", ")} = ${featurizer.length} columns`);
  featurizer.featurizeBatch(items.slice(0, 200)); // warm-up (JIT)

  t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const result = featurizer.featurizeBatch(items);
  const tFeat = ms(t0);
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const n = result.rows.length;
  let nonFinite = 0;
  for (let i = 0; i < result.features.length; i++) if (!Number.isFinite(result.features[i])) nonFinite++;
  console.log(`featurised ${n}/${items.length} sites (${result.errors.length} skipped) in ${tFeat.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU: ${(n / (tFeat / 1000)).toFixed(0)} sites/s wall`);
  console.log(`  load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")} on ${os.cpus().length} cores (wall times stretch when it exceeds the core count)`);
  console.log(`  including file reading: ${((tFeat + tRead) / 1000).toFixed(2)} s, ${(n / ((tFeat + tRead) / 1000)).toFixed(0)} sites/s; non-finite values: ${nonFinite}`);
  for (const e of result.errors.slice(0, 5)) console.log(`  skipped item ${e.item}: ${e.message}`);

  // where the time goes: geometry alone, then each descriptor alone on precomputed environments
  t0 = process.hrtime.bigint();
  const envs = items.map((it) => featurizer.environment(it.structure, it.site));
  const tEnv = ms(t0);
  const parts = [`geometry (neighbours ${featurizer.neighbourCutoff.toFixed(1)} Å + Voronoi) ${tEnv.toFixed(0)} ms`];
  const scratch = new Float32Array(featurizer.length);
  for (const d of featurizer.descriptors) {
    t0 = process.hrtime.bigint();
    for (let i = 0; i < items.length; i++) d.compute(items[i].structure, items[i].site, scratch, 0, envs[i]);
    parts.push(`${d.name} ${ms(t0).toFixed(0)} ms`);
  }
  console.log(`  breakdown: ${parts.join(", ")}`);
  envs.length = 0;

  const mem = process.memoryUsage();
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (heap used now ${(mem.heapUsed / 2 ** 20).toFixed(0)} MB, feature matrix ${(result.features.byteLength / 2 ** 20).toFixed(0)} MB)`);

  // peer: pymatgen geometry on a seeded sample
  const sample = shuffleInPlace(sites.slice(), createRng(20261124)).slice(0, sampleSize);
  const oursSample = () => {
    const t = process.hrtime.bigint();
    for (const s of sample) {
      const st = structures.get(s.poscar)!;
      const finder = new NeighbourFinder(st);
      const list = finder.neighbours(s.site, 8); // the Voronoi cell starts from it, as in the Featurizer
      voronoiCellOf(finder, s.site, { precomputed: { list, cutoff: 8 } });
    }
    return ms(t) / sample.length;
  };
  const oursGeom = oursSample();
  const t1 = process.hrtime.bigint();
  for (const s of sample) featurizer.featurizeSite(structures.get(s.poscar)!, s.site);
  const oursAll = ms(t1) / sample.length;
  const py = `
import json, sys, time
from pymatgen.core import Structure
from pymatgen.analysis.local_env import VoronoiNN
sites = json.load(sys.stdin)
t0 = time.perf_counter(); structs = {p: Structure.from_file(p) for p in {s["poscar"] for s in sites}}; t_read = time.perf_counter() - t0
vnn = VoronoiNN(tol=0, cutoff=13, allow_pathological=False)
t0 = time.perf_counter()
nfaces = 0
for s in sites:
    st = structs[s["poscar"]]
    nfaces += len(vnn.get_voronoi_polyhedra(st, s["site"]))
    st.get_neighbors(st[s["site"]], 8.0)
print(json.dumps({"per_site_ms": (time.perf_counter() - t0) * 1000 / len(sites), "read_ms": t_read * 1000, "faces": nfaces}))
`;
  const r = spawnSync("/usr/bin/python3", ["-c", py], { input: JSON.stringify(sample), encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.log(`pymatgen peer unavailable (${(r.stderr || r.error?.message || "").trim().split("\n").pop()})`);
    return;
  }
  const peer = JSON.parse(r.stdout.trim().split("\n").pop()!);
  console.log(`peer on ${sample.length} sampled sites (per site): pymatgen Voronoi + 8 Å shell ${peer.per_site_ms.toFixed(2)} ms;` +
    ` ours geometry only ${oursGeom.toFixed(3)} ms (${(peer.per_site_ms / oursGeom).toFixed(0)}×), ours all five descriptors ${oursAll.toFixed(3)} ms (${(peer.per_site_ms / oursAll).toFixed(0)}×)`);
  console.log(`  projected all ${n} sites: pymatgen geometry ${((peer.per_site_ms * n) / 1000).toFixed(0)} s vs ours all descriptors ${(tFeat / 1000).toFixed(2)} s`);
}

main();
