// Site equivalence by symmetry (moyo orbits) against the environment heuristic it replaced, over
// every POSCAR of the FEFF Cu K set, and both against the sites FEFF computed (Lightshow ran one
// spectrum per symmetry-inequivalent Cu site).
//
//   node --import tsx scripts/compare-equivalence.ts [--symprec 1e-3,1e-2,1e-1] [--limit N]
//
// Per material and per symprec: are the Cu classes (and the classes of all sites) the same
// partition? If not, is moyo finer (the heuristic merged sites with identical distance shells that
// no symmetry relates), coarser (the heuristic split an orbit: a distance differing by > 1e-3 Å, i.e.
// symmetry found only within symprec), or neither? And: does each computed FEFF site stand for
// exactly one class (one-to-one), do two computed sites share a class (a multiplicity error)?
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as os from "node:os";
import { sharedDataDir } from "../lib/config";
import { SiteEquivalence, environmentClasses, equivalentSites } from "../lib/geometry/equivalence";
import { readPoscarFile } from "../lib/structure/poscar";

const { values } = parseArgs({ options: { symprec: { type: "string", default: "1e-3,1e-2,1e-1" }, limit: { type: "string" } } });
const symprecs = values.symprec!.split(",").map(Number);
const root = path.join(sharedDataDir(), "feff-cu-k-oxides");
let ids = fs.readdirSync(root).filter((d) => fs.existsSync(path.join(root, d, "POSCAR"))).sort();
if (values.limit) ids = ids.slice(0, Number(values.limit));

type Relation = "same" | "moyo-finer" | "moyo-coarser" | "crossing";
/** How partition a (moyo) relates to partition b (heuristic), over the sites both classify. */
function relation(a: SiteEquivalence, b: SiteEquivalence): Relation {
  const n = a.classOf.length;
  let aRefinesB = true, bRefinesA = true;
  // a refines b: every class of a lies inside one class of b
  const aToB = new Map<number, number>(), bToA = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const ca = a.classOf[i], cb = b.classOf[i];
    if (ca < 0) continue;
    if (aToB.has(ca) && aToB.get(ca) !== cb) aRefinesB = false;
    aToB.set(ca, cb);
    if (bToA.has(cb) && bToA.get(cb) !== ca) bRefinesA = false;
    bToA.set(cb, ca);
  }
  if (aRefinesB && bRefinesA) return "same";
  if (aRefinesB) return "moyo-finer";
  if (bRefinesA) return "moyo-coarser";
  return "crossing";
}

interface Tally { cu: Record<Relation, number>; all: Record<Relation, number>; cuMultDiffer: number; oneToOne: number; shared: number; missing: number; failed: number; ms: number; examples: Record<string, string[]> }
const empty = (): Tally => ({ cu: { same: 0, "moyo-finer": 0, "moyo-coarser": 0, crossing: 0 }, all: { same: 0, "moyo-finer": 0, "moyo-coarser": 0, crossing: 0 }, cuMultDiffer: 0, oneToOne: 0, shared: 0, missing: 0, failed: 0, ms: 0, examples: {} });
const tallies = new Map<number, Tally>(symprecs.map((p) => [p, empty()]));
const heur = { oneToOne: 0, shared: 0, missing: 0, ms: 0 };
let materials = 0, withSpectra = 0;
const spaceGroups = new Map<number, number>();

function fefSites(id: string): number[] {
  const out: number[] = [];
  for (const base of [path.join(root, id), path.join(root, id, "FEFF-XANES")]) {
    if (!fs.existsSync(base)) continue;
    for (const name of fs.readdirSync(base)) {
      const m = /^(\d+)_Cu$/.exec(name);
      if (m) out.push(Number(m[1]));
    }
  }
  return out;
}

function scoreComputed(eq: SiteEquivalence, computed: number[]): "one-to-one" | "shared" | "missing" {
  const classes = new Set(computed.map((i) => eq.classOf[i]));
  if (classes.size < computed.length) return "shared";
  return classes.size === eq.groups.length ? "one-to-one" : "missing";
}

const t0 = Date.now();
for (const id of ids) {
  const s = readPoscarFile(path.join(root, id, "POSCAR"));
  materials++;
  let t = performance.now();
  const envAll = environmentClasses(s);
  const envCu = environmentClasses(s, "Cu");
  heur.ms += performance.now() - t;
  const computed = fefSites(id);
  if (computed.length > 0) {
    withSpectra++;
    const r = scoreComputed(envCu, computed);
    if (r === "one-to-one") heur.oneToOne++;
    else if (r === "shared") heur.shared++;
    else heur.missing++;
  }
  for (const p of symprecs) {
    const tally = tallies.get(p)!;
    let symAll: SiteEquivalence, symCu: SiteEquivalence;
    t = performance.now();
    try {
      symAll = equivalentSites(s, undefined, { symprec: p });
      symCu = equivalentSites(s, "Cu", { symprec: p });
    } catch (err) {
      tally.failed++;
      (tally.examples.failed ??= []).push(`${id}: ${(err as Error).message}`);
      continue;
    }
    tally.ms += performance.now() - t;
    if (p === symprecs[0]) spaceGroups.set(symAll.spaceGroup!.number, (spaceGroups.get(symAll.spaceGroup!.number) ?? 0) + 1);
    const rc = relation(symCu, envCu), ra = relation(symAll, envAll);
    tally.cu[rc]++;
    tally.all[ra]++;
    if (rc !== "same") (tally.examples[`cu-${rc}`] ??= []).push(`${id} (${symAll.spaceGroup!.symbol}): moyo ${JSON.stringify(symCu.groups)} vs env ${JSON.stringify(envCu.groups)}`);
    let multDiffer = false;
    for (let i = 0; i < s.species.length; i++) if (symCu.multiplicity[i] !== envCu.multiplicity[i]) multDiffer = true;
    if (multDiffer) tally.cuMultDiffer++;
    if (computed.length > 0) {
      const r = scoreComputed(symCu, computed);
      if (r === "one-to-one") tally.oneToOne++;
      else if (r === "shared") { tally.shared++; (tally.examples.shared ??= []).push(`${id}: computed ${JSON.stringify(computed.sort((a, b) => a - b))}, moyo Cu classes ${JSON.stringify(symCu.groups)}`); }
      else tally.missing++;
    }
  }
}

const load = os.loadavg().map((x) => x.toFixed(2)).join(" ");
console.log(`FEFF Cu K set: ${materials} POSCARs, ${withSpectra} with computed Cu spectra; ${((Date.now() - t0) / 1000).toFixed(1)} s total; load average ${load}`);
console.log(`environment heuristic (6 Å, 1e-3 Å): ${heur.ms.toFixed(0)} ms; computed sites one-to-one with Cu classes ${heur.oneToOne}, two computed sites in one class ${heur.shared}, a class without a computed site ${heur.missing}`);
for (const [p, t] of tallies) {
  console.log(`\nmoyo symprec ${p} Å: ${t.ms.toFixed(0)} ms, ${t.failed} failed`);
  console.log(`  Cu classes vs heuristic: same ${t.cu.same}, moyo finer ${t.cu["moyo-finer"]}, moyo coarser ${t.cu["moyo-coarser"]}, crossing ${t.cu.crossing}; Cu multiplicities differ in ${t.cuMultDiffer}`);
  console.log(`  all-site classes vs heuristic: same ${t.all.same}, moyo finer ${t.all["moyo-finer"]}, moyo coarser ${t.all["moyo-coarser"]}, crossing ${t.all.crossing}`);
  console.log(`  computed FEFF sites: one-to-one ${t.oneToOne}, two computed sites in one class ${t.shared}, a class without a computed site ${t.missing}`);
  for (const [k, list] of Object.entries(t.examples)) console.log(`  ${k} (${list.length}), e.g.:\n    ${list.slice(0, 4).join("\n    ")}`);
}
console.log(`\nspace groups found at symprec ${symprecs[0]}: ${spaceGroups.size} distinct; most common ${[...spaceGroups].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([n, c]) => `${n}:${c}`).join(", ")}`);
