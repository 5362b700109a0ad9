import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { spawnSync } from "node:child_process";
import { sharedDataDir } from "../lib/config";
import { InputError } from "../lib/util/errors";
import { parsePoscar } from "../lib/structure/poscar";
import { DEFAULT_MESHES, meshFromWindow, Normalisation } from "../lib/spectra/mesh";
import { decodeNpy, encodeNpy, readNpy, writeNpy } from "../lib/data/npy";
import { groupedSplit, makeSplits, randomSplit } from "../lib/data/splits";
import { collectFeffFolders, listFeffSiteDirs, readFeffRun } from "../lib/data/feff";
import { collectColumnSets } from "../lib/data/columns";
import { collectXasDocumentFile, spectrumFromXasDocument } from "../lib/data/xas-docs";
import { streamJsonValues } from "../lib/data/json-stream";
import { buildDataset, datasetRow, siteMultiplicities, Dataset } from "../lib/data/dataset";
import { formula } from "../lib/structure/validate";
import { loadDataset, saveDataset } from "../lib/data/store";
import { createRng } from "../lib/util/random";
import { makeMpDocuments, REAL_MP_DOC_PATH } from "./helpers/mp-server";
import { damagedCopy, tempDirFactory } from "./helpers/files";

const CU = path.join(sharedDataDir(), "feff-cu-k-oxides");
const LI = path.join(sharedDataDir(), "li3feo3.5-o-k");
const tmp = tempDirFactory("data");
const PY = "/usr/bin/python3";
const hasNumpy = fs.existsSync(PY) && spawnSync(PY, ["-c", "import numpy"]).status === 0;

test("listFeffSiteDirs finds <idx>_<El> run folders with or without a FEFF-XANES/ level, sorted by site", () => {
  const d = tmp("sitedirs");
  for (const rel of ["3_Cu", "notasite", "1_O", path.join("FEFF-XANES", "0_Cu"), path.join("FEFF-XANES", "12_Cu")]) {
    fs.mkdirSync(path.join(d, rel), { recursive: true });
  }
  fs.writeFileSync(path.join(d, "POSCAR"), "");
  const all = listFeffSiteDirs(d);
  assert.deepEqual(all.map((x) => `${x.site}_${x.element}`), ["0_Cu", "1_O", "3_Cu", "12_Cu"]);
  assert.equal(all[0].dir, path.join(d, "FEFF-XANES", "0_Cu"));
  assert.deepEqual(listFeffSiteDirs(d, "Cu").map((x) => x.site), [0, 3, 12]);
  assert.deepEqual(listFeffSiteDirs(path.join(d, "missing")), []);
});

test("npy round-trip keeps bytes, shape and dtype; bad files get clear errors", () => {
  const a = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 1e-7);
  const buf = encodeNpy(a, [3, 4]);
  assert.equal(buf.length % 64, 48); // header 64 + 48 data bytes
  const back = decodeNpy(buf);
  assert.deepEqual(back.shape, [3, 4]);
  assert.ok(back.data instanceof Float32Array);
  assert.deepEqual(Buffer.from(back.data.buffer), Buffer.from(a.buffer));
  const d = Float64Array.of(1 / 3, -0, Number.MIN_VALUE);
  assert.deepEqual(Buffer.from(decodeNpy(encodeNpy(d, [3])).data.buffer), Buffer.from(d.buffer));
  assert.throws(() => decodeNpy(Buffer.from("hello"), "x.npy"), (e: Error) => e instanceof InputError && /x\.npy/.test(e.message));
  assert.throws(() => decodeNpy(buf.subarray(0, buf.length - 4), "t.npy"), /t\.npy: expected 48 data bytes/);
  assert.throws(() => encodeNpy(a, [5, 5]), RangeError);
});

test("npy files open in NumPy with the same values", { skip: !hasNumpy && "no numpy at /usr/bin/python3" }, () => {
  const dir = tmp("npy");
  const a = Float32Array.from({ length: 6 }, (_, i) => i / 7);
  writeNpy(path.join(dir, "a.npy"), a, [2, 3]);
  writeNpy(path.join(dir, "e.npy"), Float64Array.of(1.5, 2.25), [2]);
  const r = spawnSync(PY, ["-c", `import numpy as np; a=np.load("${dir}/a.npy"); e=np.load("${dir}/e.npy"); print(a.dtype, a.shape, repr(float(a[1,2])), e.dtype, [float(x) for x in e]); np.save("${dir}/b.npy", (a*2).astype(np.float32))`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), `float32 (2, 3) ${Math.fround(5 / 7)} float64 [1.5, 2.25]`);
  const b = readNpy(path.join(dir, "b.npy"));
  assert.deepEqual(Array.from(b.data), Array.from(a).map((x) => Math.fround(x * 2)));
});

test("splits: seeded, disjoint, complete; grouped keeps each material on one side", () => {
  const groups = Array.from({ length: 500 }, (_, i) => `m${Math.floor(i / 3) + (i % 7 === 0 ? 1000 : 0)}`);
  const f = { train: 0.7, val: 0.1, test: 0.2 };
  const r1 = randomSplit(groups.length, f, 7);
  assert.deepEqual(r1, randomSplit(groups.length, f, 7));
  assert.notDeepEqual(r1, randomSplit(groups.length, f, 8));
  assert.equal(r1.train.length, 350);
  assert.equal(r1.val.length, 50);
  const all = [...r1.train, ...r1.val, ...r1.test].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 500 }, (_, i) => i));
  const g = groupedSplit(groups, f, 7);
  const all2 = [...g.train, ...g.val, ...g.test].sort((a, b) => a - b);
  assert.deepEqual(all2, all);
  const side = new Map<string, string>();
  for (const [name, idx] of Object.entries(g)) {
    for (const i of idx as number[]) {
      const prev = side.get(groups[i]);
      assert.ok(prev === undefined || prev === name, `material ${groups[i]} on ${prev} and ${name}`);
      side.set(groups[i], name);
    }
  }
  assert.ok(Math.abs(g.train.length - 350) <= 5, `grouped train ${g.train.length}`);
  assert.throws(() => makeSplits(groups, { train: 0.5, val: 0, test: 0.2 }, 1), RangeError);
});

function sameDataset(a: Dataset, b: Dataset): void {
  assert.deepEqual(Buffer.from(b.spectra.buffer, b.spectra.byteOffset, b.spectra.byteLength), Buffer.from(a.spectra.buffer, a.spectra.byteOffset, a.spectra.byteLength));
  assert.deepEqual(Buffer.from(b.energy.buffer, b.energy.byteOffset, b.energy.byteLength), Buffer.from(a.energy.buffer, a.energy.byteOffset, a.energy.byteLength));
  assert.deepEqual(b.meta, a.meta);
  assert.deepEqual(b.splits, a.splits);
  assert.deepEqual(b.config, JSON.parse(JSON.stringify(a.config)));
  assert.deepEqual([...b.structures.keys()], [...a.structures.keys()]);
  for (const [id, s] of a.structures) {
    const t = b.structures.get(id)!;
    assert.deepEqual(t.species, s.species);
    assert.deepEqual(Buffer.from(t.lattice.buffer), Buffer.from(Float64Array.from(s.lattice).buffer));
    assert.deepEqual(Buffer.from(t.frac.buffer), Buffer.from(Float64Array.from(s.frac).buffer));
  }
}

test("the whole Cu K FEFF set builds; every spectrum folder is kept or reported; it loads back bit-identically", async () => {
  // Count the spectra independently of the lib.
  let xmuFiles = 0;
  let emptyMaterials = 0;
  for (const m of fs.readdirSync(CU, { withFileTypes: true })) {
    if (!m.isDirectory()) continue;
    const n = fs.readdirSync(path.join(CU, m.name)).filter((s) => /^\d+_Cu$/.test(s) && fs.existsSync(path.join(CU, m.name, s, "xmu.dat"))).length;
    xmuFiles += n;
    if (n === 0) emptyMaterials++;
  }
  const ds = await buildDataset({
    name: "cu-k",
    sources: collectFeffFolders(CU),
    mesh: DEFAULT_MESHES["Cu-K"],
    filters: { elements: ["Cu"], minElements: 2, maxElements: 4 },
  });
  const q = ds.config.quality;
  const filtered = Object.values(q.filtered).reduce((a, b) => a + b, 0);
  const droppedSpectra = q.dropped.filter((d) => d.reason !== "no-spectrum").length;
  assert.equal(ds.meta.length + filtered + droppedSpectra, xmuFiles);
  assert.equal(q.droppedByReason["no-spectrum"] ?? 0, emptyMaterials);
  assert.ok(ds.meta.length > 4500, `kept ${ds.meta.length}`);
  assert.equal(ds.spectra.length, ds.meta.length * DEFAULT_MESHES["Cu-K"].points);
  // The mesh starts at 8983 eV, before every run's first energy (8983.2–8988.7 eV): all are kept, each
  // with its first value held over less than maxHold (6 eV), and counted.
  assert.equal(q.held!.start, ds.meta.length);
  assert.equal(q.held!.end, 0);
  assert.equal(ds.config.maxHold, 6);
  assert.ok(ds.meta.every((m) => m.element === "Cu" && m.nelements >= 2 && m.nelements <= 4 && m.site >= 0));
  // max normalisation: every row peaks at exactly 1
  for (let i = 0; i < ds.meta.length; i += 97) assert.equal(Math.max(...datasetRow(ds, i)), 1);
  // the absorbing index names a Cu site of the stored structure
  for (const m of ds.meta.slice(0, 200)) assert.equal(ds.structures.get(m.materialId)!.species[m.site], "Cu");
  const dir = path.join(tmp("cu"), "cu-k");
  saveDataset(ds, dir);
  sameDataset(ds, loadDataset(dir));
  const csv = fs.readFileSync(path.join(dir, "meta.csv"), "utf8").trimEnd().split("\n");
  assert.equal(csv.length, ds.meta.length + 1);
  assert.equal(csv[0], "materialId,formula,site,multiplicity,element,edge,spectrumType,nelements,elements,e0,source");
  assert.equal(ds.config.formatVersion, 2);
  // formula is the structure's reduced formula; multiplicity is the site's equivalence-class size,
  // and the computed sites of a material never stand for more Cu atoms than the cell holds
  const cuCount = new Map<string, number>(), covered = new Map<string, number>();
  for (const m of ds.meta) {
    const s = ds.structures.get(m.materialId)!;
    assert.equal(m.formula, formula(s, { reduced: true }));
    assert.ok(Number.isInteger(m.multiplicity) && m.multiplicity >= 1, `${m.materialId}/${m.site}: multiplicity ${m.multiplicity}`);
    cuCount.set(m.materialId, s.species.filter((sp) => sp === "Cu").length);
    covered.set(m.materialId, (covered.get(m.materialId) ?? 0) + m.multiplicity);
  }
  let complete = 0;
  for (const [id, n] of cuCount) {
    assert.ok(covered.get(id)! <= n, `${id}: computed sites weigh ${covered.get(id)} of ${n} Cu`);
    if (covered.get(id) === n) complete++;
  }
  // measured: 2,223 of 2,325 materials with spectra have every Cu class computed (95.6 %)
  assert.ok(complete / cuCount.size > 0.9, `complete materials ${complete}/${cuCount.size}`);
  // a version-1 folder (no multiplicity column) still loads, multiplicities derived on load
  const v1 = path.join(tmp("cu"), "cu-k-v1");
  fs.cpSync(dir, v1, { recursive: true });
  // (version 1 folders were written before the integrity hashes)
  const { integrity, ...cfg } = JSON.parse(fs.readFileSync(path.join(v1, "dataset.json"), "utf8"));
  assert.deepEqual(Object.keys(integrity).sort(), ["energy.npy", "meta.json", "spectra.npy", "splits.json", "structures.json"]);
  fs.writeFileSync(path.join(v1, "dataset.json"), JSON.stringify({ ...cfg, formatVersion: 1 }));
  fs.writeFileSync(path.join(v1, "meta.json"), JSON.stringify(ds.meta.map(({ multiplicity, ...rest }) => rest)));
  const old = loadDataset(v1);
  assert.equal(old.config.formatVersion, 1);
  assert.deepEqual(old.meta, ds.meta);
  fs.writeFileSync(path.join(v1, "dataset.json"), JSON.stringify({ ...cfg, formatVersion: 7 }));
  assert.throws(() => loadDataset(v1), /format version 7/);

  // A saved folder records each data file's SHA-256: one flipped low bit of one float (still a finite,
  // well-formed npy), an edited meta.json or a missing hash is refused, naming the file.
  const damaged = path.join(tmp("cu"), "cu-k-damaged");
  const copy = () => {
    fs.rmSync(damaged, { recursive: true, force: true });
    fs.cpSync(dir, damaged, { recursive: true });
  };
  copy();
  const npy = fs.readFileSync(path.join(damaged, "spectra.npy"));
  npy[npy.length - 4] ^= 1;
  fs.writeFileSync(path.join(damaged, "spectra.npy"), npy);
  assert.throws(() => loadDataset(damaged), (e: Error) => e instanceof InputError && /cu-k-damaged\/spectra\.npy: contents differ from what was saved \(sha256 mismatch\)/.test(e.message));
  copy();
  fs.appendFileSync(path.join(damaged, "meta.json"), " ");
  assert.throws(() => loadDataset(damaged), /meta\.json: contents differ/);
  copy();
  fs.writeFileSync(path.join(damaged, "dataset.json"), JSON.stringify({ ...cfg, integrity: { ...integrity, "splits.json": undefined } }));
  assert.throws(() => loadDataset(damaged), /dataset\.json: integrity has no sha256 for splits\.json/);
  copy();
  assert.equal(loadDataset(damaged).meta.length, ds.meta.length);
});

test("siteMultiplicities: class sizes of the element's sites, 0 elsewhere", () => {
  // rock salt NaCl conventional cell: 4 equivalent Na, 4 equivalent Cl
  const f = [0, 0, 0, 0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0.5];
  const s = {
    lattice: Float64Array.from([5.64, 0, 0, 0, 5.64, 0, 0, 0, 5.64]),
    species: ["Na", "Na", "Na", "Na", "Cl", "Cl", "Cl", "Cl"],
    frac: Float64Array.from([...f, ...f.map((v, k) => (k % 3 === 0 ? (v + 0.5) % 1 : v))]),
  };
  assert.deepEqual([...siteMultiplicities(s, "Na")], [4, 4, 4, 4, 0, 0, 0, 0]);
});

test("dataset files open in Python (numpy + json + pymatgen when present)", { skip: !hasNumpy && "no numpy" }, async () => {
  const ds = await buildDataset({ name: "py", sources: collectFeffFolders(CU, { maxMaterials: 20 }), mesh: DEFAULT_MESHES["Cu-K"] });
  const dir = path.join(tmp("py"), "ds");
  saveDataset(ds, dir);
  const script = `
import numpy as np, json, csv
d="${dir}"
s=np.load(d+"/spectra.npy"); e=np.load(d+"/energy.npy"); meta=json.load(open(d+"/meta.json"))
rows=list(csv.DictReader(open(d+"/meta.csv")))
sp=json.load(open(d+"/splits.json")); st=json.load(open(d+"/structures.json"))
assert s.shape==(len(meta),len(e)) and s.dtype==np.float32 and e.dtype==np.float64
assert [r["materialId"] for r in rows]==[m["materialId"] for m in meta]
try:
    from pymatgen.core import Structure
    ok=all(Structure.from_dict(v).composition.num_atoms>0 for v in st.values())
except ImportError:
    ok=True
print(s.shape[0], float(s[3,100]), len(sp["random"]["train"]), ok)
`;
  const r = spawnSync(PY, ["-c", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const [n, v, ntrain, ok] = r.stdout.trim().split(" ");
  assert.equal(Number(n), ds.meta.length);
  assert.equal(Number(v), datasetRow(ds, 3)[100]);
  assert.equal(Number(ntrain), ds.splits.random.train.length);
  assert.equal(ok, "True");
});

test("the Li3FeO3.5 O K-edge set builds on the edge-relative mesh; an absolute mesh reports energy-reference drops", async () => {
  const ds = await buildDataset({ name: "o-k", sources: collectColumnSets(LI), mesh: DEFAULT_MESHES["O-K-relative"], normalisation: "area" });
  assert.equal(ds.meta.length, 147);
  assert.equal(ds.structures.size, 3);
  const s0 = ds.structures.get("li3feo3.5-o-k:0K")!;
  assert.ok(ds.meta.every((m) => m.element === "O" && ds.structures.get(m.materialId)!.species[m.site] === "O"));
  assert.equal(ds.meta[0].site, s0.species.indexOf("O"));
  // grouped split: a snapshot is never on both sides
  const trainIds = new Set(ds.splits.grouped.train.map((i) => ds.meta[i].materialId));
  assert.ok(ds.splits.grouped.test.every((i) => !trainIds.has(ds.meta[i].materialId)));
  const abs = await buildDataset({ name: "o-k-abs", sources: collectColumnSets(LI), mesh: DEFAULT_MESHES["O-K"] });
  assert.equal(abs.meta.length, 0);
  assert.equal(abs.config.quality.droppedByReason["energy-reference"], 147);
});

/** A small FEFF tree with one problem per folder, built from copies of real files. */
function brokenFeffTree(): string {
  const root = tmp("feff");
  const src = path.join(CU, "mp-1005792");
  const poscar = fs.readFileSync(path.join(src, "POSCAR"), "utf8");
  const xmu = fs.readFileSync(path.join(src, "008_Cu", "xmu.dat"), "utf8");
  const species = parsePoscar(poscar).species;
  const oSite = species.indexOf("O");
  const pad = (n: number) => String(n).padStart(3, "0");
  const lines = xmu.split("\n");
  const dataStart = lines.findIndex((l) => l.trim() && !l.startsWith("#"));
  const put = (mat: string, site: string, text: string, pos = poscar) => {
    fs.mkdirSync(path.join(root, mat, site), { recursive: true });
    fs.writeFileSync(path.join(root, mat, "POSCAR"), pos);
    fs.writeFileSync(path.join(root, mat, site, "xmu.dat"), text);
  };
  put("a-good", "008_Cu", xmu);
  fs.mkdirSync(path.join(root, "b-lightshow", "FEFF-XANES", "008_Cu"), { recursive: true });
  fs.writeFileSync(path.join(root, "b-lightshow", "POSCAR"), poscar);
  fs.writeFileSync(path.join(root, "b-lightshow", "FEFF-XANES", "008_Cu", "xmu.dat"), xmu);
  const nan = lines.slice();
  nan[dataStart + 50] = nan[dataStart + 50].replace(/(\S+)(\s+\S+\s+\S+)$/, "NaN$2");
  put("c-nan", "008_Cu", nan.join("\n"));
  const swapped = lines.slice();
  [swapped[dataStart + 20], swapped[dataStart + 21]] = [swapped[dataStart + 21], swapped[dataStart + 20]];
  put("d-nonmono", "008_Cu", swapped.join("\n"));
  put("e-short", "008_Cu", lines.slice(0, dataStart + 5).join("\n"));
  put("f-window", "008_Cu", lines.slice(0, dataStart + 100).join("\n"));
  put("g-wrongsite", `${pad(oSite)}_Cu`, xmu);
  put("h-badposcar", "008_Cu", xmu, poscar.split("\n").slice(0, 6).join("\n"));
  put("i-junk", "008_Cu", "# header only\n");
  fs.mkdirSync(path.join(root, "j-failed-run"));
  fs.writeFileSync(path.join(root, "j-failed-run", "POSCAR"), poscar);
  return root;
}

test("quality report: every bad spectrum is dropped with its reason and file, none silently", async () => {
  const root = brokenFeffTree();
  const ds = await buildDataset({ name: "q", sources: collectFeffFolders(root), mesh: DEFAULT_MESHES["Cu-K"] });
  assert.deepEqual(ds.meta.map((m) => m.materialId), ["a-good", "b-lightshow"]);
  const byId = new Map(ds.config.quality.dropped.map((d) => [d.id.split("/")[0], d]));
  const expect: Record<string, string> = {
    "c-nan": "unreadable-spectrum", // NaN in the file is a parse error naming the line
    "d-nonmono": "non-monotonic",
    "e-short": "too-short",
    "f-window": "window-not-covered",
    "g-wrongsite": "wrong-absorber",
    "h-badposcar": "unreadable-structure",
    "i-junk": "unreadable-spectrum",
    "j-failed-run": "no-spectrum",
  };
  for (const [id, reason] of Object.entries(expect)) {
    const d = byId.get(id);
    assert.ok(d, `no report for ${id}`);
    assert.equal(d!.reason, reason, `${id}: ${d!.message}`);
    assert.ok(d!.message.includes(id) || d!.source.includes(id), `${id}: message names the file: ${d!.message}`);
  }
  assert.match(byId.get("c-nan")!.message, /xmu\.dat:\d+:/);
  assert.equal(ds.config.quality.seen, 10);
  // With clamping the short-window spectrum is kept (end value held), as recorded in the config.
  const clamped = await buildDataset({ name: "q2", sources: collectFeffFolders(root), mesh: DEFAULT_MESHES["Cu-K"], outOfWindow: "clamp" });
  assert.ok(clamped.meta.some((m) => m.materialId === "f-window"));
  assert.equal(clamped.config.outOfWindow, "clamp");
  // NaN intensities from a source that does not parse text (documents) are the "nan" reason.
  const doc = makeMpDocuments(1, 3)[0];
  doc.spectrum.y[10] = null;
  const bad = await buildDataset({ name: "q3", sources: [spectrumFromXasDocument(doc, "mem")], mesh: DEFAULT_MESHES["O-K"] });
  assert.equal(bad.config.quality.droppedByReason.nan, 1);
  // An unknown normalisation is refused before any source is read.
  await assert.rejects(
    buildDataset({ name: "q4", sources: collectFeffFolders(root), mesh: DEFAULT_MESHES["Cu-K"], normalisation: "maximum" as Normalisation }),
    /buildDataset: unknown normalisation "maximum"/,
  );
});

test("edge-relative Cu mesh uses FEFF's edge (omega − e) for each spectrum", async () => {
  const ds = await buildDataset({ name: "rel", sources: collectFeffFolders(CU, { maxMaterials: 30 }), mesh: DEFAULT_MESHES["Cu-K-relative"] });
  assert.ok(ds.meta.length > 30);
  for (const m of ds.meta) assert.ok(m.e0! > 8990 && m.e0! < 9010, `e0 ${m.e0}`);
  assert.equal(ds.config.quality.droppedByReason["window-not-covered"] ?? 0, 0);
});

async function drain(file: string) {
  const out = [];
  for await (const item of collectXasDocumentFile(file)) out.push(item);
  return out;
}

test("XAS document files: JSON array, JSON lines, gzip and API envelopes stream into spectra", async () => {
  const dir = tmp("docs");
  const docs = makeMpDocuments(12, 4);
  const real = JSON.parse(fs.readFileSync(REAL_MP_DOC_PATH, "utf8"));
  fs.writeFileSync(path.join(dir, "a.json"), JSON.stringify(docs, null, 2));
  fs.writeFileSync(path.join(dir, "b.jsonl"), docs.map((d) => JSON.stringify(d)).join("\n") + "\n");
  fs.writeFileSync(path.join(dir, "c.jsonl.gz"), zlib.gzipSync(docs.map((d) => JSON.stringify(d)).join("\n")));
  fs.writeFileSync(path.join(dir, "d.json"), JSON.stringify({ data: docs.slice(0, 5), meta: { total_doc: 5 } }));
  fs.writeFileSync(path.join(dir, "e.json"), JSON.stringify([real.spectrum, real.spectrum]));
  for (const f of ["a.json", "b.jsonl", "c.jsonl.gz"]) {
    const items = await drain(path.join(dir, f));
    assert.equal(items.length, 12, f);
    const ids = items.map((i) => ("spectrum" in i ? i.spectrum.materialId : "drop"));
    assert.deepEqual(ids, docs.map((d) => d.task_id));
    assert.ok(items.every((i) => "spectrum" in i && i.spectrum.site === -1 && i.spectrum.energy.length === 200));
  }
  assert.equal((await drain(path.join(dir, "d.json"))).length, 5);
  // A bare pymatgen XAS dict (site-resolved: absorbing_index 8 is an H site of BaH4O3)
  const e = await drain(path.join(dir, "e.json"));
  assert.ok("spectrum" in e[0] && e[0].spectrum.site === 8 && e[0].spectrum.element === "H");
  const hk = await buildDataset({ name: "h", sources: collectXasDocumentFile(path.join(dir, "e.json")), mesh: meshFromWindow(20, 100, 1, false) });
  assert.equal(hk.meta.length, 2, JSON.stringify(hk.config.quality)); // no ids: kept as two materials (file#1, file#2)
  // The same MP document twice: the second is a reported duplicate.
  fs.writeFileSync(path.join(dir, "f.json"), JSON.stringify([docs[0], docs[1], docs[0]]));
  const dup = await buildDataset({ name: "dup", sources: collectXasDocumentFile(path.join(dir, "f.json")), mesh: DEFAULT_MESHES["O-K"] });
  assert.equal(dup.meta.length, 2);
  assert.equal(dup.config.quality.droppedByReason.duplicate, 1);
});

test("the real MP document: truncated and corrupted copies give a spectrum, a reported drop or an InputError naming the file", async () => {
  const text = fs.readFileSync(REAL_MP_DOC_PATH, "utf8");
  const rng = createRng(77);
  let parsed = 0;
  let errors = 0;
  for (let r = 0; r < 120; r++) {
    const t = damagedCopy(text, r, rng, ["x", "\"", "}", "[", "-", "9", ","]);
    const src = `fuzz-doc-${r}.json`;
    async function* chunks() {
      for (let i = 0; i < t.length; i += 997) yield t.slice(i, i + 997);
    }
    try {
      for await (const v of streamJsonValues(chunks(), src)) {
        const item = spectrumFromXasDocument(v.value, `${src}:${v.line}`);
        if ("spectrum" in item) {
          assert.equal(item.spectrum.energy.length, item.spectrum.mu.length);
          assert.ok(item.spectrum.structure.species.length > 0);
        } else assert.ok(item.drop.message.includes(src), item.drop.message);
        parsed++;
      }
    } catch (err) {
      assert.ok(err instanceof InputError, `round ${r}: ${String(err)}`);
      assert.ok((err as Error).message.includes(src), (err as Error).message);
      errors++;
    }
  }
  assert.ok(errors > 50 && parsed > 0, `${errors} errors, ${parsed} parsed`);
  // A gzip file cut short is an InputError naming the file.
  const dir = tmp("gz");
  const gz = zlib.gzipSync(text);
  fs.writeFileSync(path.join(dir, "cut.json.gz"), gz.subarray(0, gz.length - 20));
  await assert.rejects(drain(path.join(dir, "cut.json.gz")), (e: Error) => e instanceof InputError && e.message.includes("cut.json.gz"));
});

test("fuzz: POSCAR copies parse to a finite structure or fail with an InputError naming the file", () => {
  const text = fs.readFileSync(path.join(CU, "mp-1021507", "POSCAR"), "utf8");
  const rng = createRng(5);
  for (let r = 0; r < 150; r++) {
    const t = damagedCopy(text, r, rng, ["x", "-", "NaN", " ", "\n", "1e400", "Q"]);
    const src = `fuzz-POSCAR-${r}`;
    try {
      const s = parsePoscar(t, src);
      assert.equal(s.frac.length, 3 * s.species.length);
      for (const v of s.frac) assert.ok(Number.isFinite(v));
      for (const v of s.lattice) assert.ok(Number.isFinite(v));
    } catch (err) {
      assert.ok(err instanceof InputError, `round ${r}: ${String(err)}`);
      assert.ok((err as Error).message.includes(src), (err as Error).message);
    }
  }
});

test("a single feff.inp + xmu.dat pair, and material folders without a POSCAR, use the feff.inp cluster", async () => {
  const dir = path.join(CU, "mp-1005792", "008_Cu");
  const s = readFeffRun(path.join(dir, "feff.inp"), path.join(dir, "xmu.dat"), { materialId: "mp-1005792" });
  assert.equal(s.element, "Cu");
  assert.equal(s.structure.species[s.site], "Cu");
  assert.equal(s.structure.periodic, false);
  assert.equal(s.energy.length, 173);
  const root = tmp("inp");
  fs.mkdirSync(path.join(root, "x", "008_Cu"), { recursive: true });
  for (const f of ["feff.inp", "xmu.dat"]) fs.copyFileSync(path.join(dir, f), path.join(root, "x", "008_Cu", f));
  const ds = await buildDataset({ name: "inp", sources: [[{ spectrum: s }], collectFeffFolders(root)], mesh: DEFAULT_MESHES["Cu-K"] });
  assert.equal(ds.meta.length, 2, JSON.stringify(ds.config.quality.dropped));
  assert.equal(ds.meta[1].site, s.site);
  const dir2 = path.join(tmp("inp-save"), "ds");
  saveDataset(ds, dir2);
  assert.equal(loadDataset(dir2).structures.get("mp-1005792")!.periodic, false, "cluster flag survives save/load");
  assert.equal(loadDataset(dir2).structures.get("x")!.periodic, false);
  // Two sites of one POSCAR-less folder come with two different clusters: a dataset keeps one
  // structure per material, so the second is reported (not mislabelled as a duplicate of site 0).
  const two = tmp("inp-two");
  for (const [src, site] of [[dir, "008_Cu"], [path.join(CU, "mp-1008807", "001_Cu"), "001_Cu"]]) {
    fs.mkdirSync(path.join(two, "y", site), { recursive: true });
    for (const f of ["feff.inp", "xmu.dat"]) fs.copyFileSync(path.join(src, f), path.join(two, "y", site, f));
  }
  const dsTwo = await buildDataset({ name: "inp-two", sources: collectFeffFolders(two), mesh: DEFAULT_MESHES["Cu-K"] });
  assert.equal(dsTwo.meta.length, 1);
  assert.deepEqual(dsTwo.config.quality.dropped.map((d) => d.reason), ["structure-mismatch"]);
  assert.match(dsTwo.config.quality.dropped[0].message, /008_Cu\/xmu\.dat: structure differs from the one kept for y/);
});

test("streamJsonValues: any chunking gives the same documents (escapes, nesting, braces in strings) and line numbers", async () => {
  const docs = [
    { a: "x\"}]{[\\", b: [1, [2, { c: "\\\\" }]], d: "line\nbreak \u00e9 \ud83d\ude00" },
    { e: [], f: {}, g: null, h: -1.5e-7 },
    [{ i: "]" }, "}"],
  ];
  const array = "[\n" + docs.map((d) => JSON.stringify(d, null, 2)).join(",\n") + "\n]\n";
  const lines = docs.map((d) => JSON.stringify(d)).join("\n") + "\n";
  for (const text of [array, lines]) {
    for (const size of [1, 2, 3, 7, 64, 1 << 20]) {
      async function* chunks() {
        for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
      }
      const out = [];
      for await (const v of streamJsonValues(chunks(), "s.json")) out.push(v);
      assert.deepEqual(out.map((v) => v.value), docs, `chunk size ${size}`);
      const starts = text === lines ? [1, 2, 3] : [2, 2 + JSON.stringify(docs[0], null, 2).split("\n").length, 0];
      if (text === lines) assert.deepEqual(out.map((v) => v.line), starts);
      else assert.deepEqual(out.slice(0, 2).map((v) => v.line), starts.slice(0, 2));
    }
  }
  async function* one(t: string) {
    yield t;
  }
  const drainText = async (t: string) => {
    for await (const _ of streamJsonValues(one(t), "bad.json"));
  };
  await assert.rejects(drainText('[{"a":1} {"b":2}]'), /bad\.json:1: expected "," or "\]"/);
  await assert.rejects(drainText('[{"a":1}]\n x'), /bad\.json:2: unexpected text after/);
  await assert.rejects(drainText('{"a": [1, 2,]}\n{"b":1}'), /bad\.json:1: invalid JSON document/);
  await assert.rejects(drainText('[{"a":1},\n{"b":'), /bad\.json: truncated JSON: the document starting at line 2/);
  await assert.rejects(drainText('[{"a":1}'), /top-level array never closes/);
  await assert.rejects(drainText("12"), /expected a JSON object/);
});

test("dataset store: what a killed save leaves (temp and old folders) is cleaned or restored on the next load or save, and reported", async () => {
  const { recoverDatasetFolder } = await import("../lib/data/store");
  const docs = makeMpDocuments(4, 40);
  const { collectXasDocuments } = await import("../lib/data/xas-docs");
  const v1 = await buildDataset({ name: "v1", sources: collectXasDocuments(docs.slice(0, 2)), mesh: DEFAULT_MESHES["O-K"] });
  const v2 = await buildDataset({ name: "v2", sources: collectXasDocuments(docs), mesh: DEFAULT_MESHES["O-K"] });
  const deadPid = spawnSync(process.execPath, ["-e", ""]).pid!;
  const root = tmp("store");
  const dir = path.join(root, "ds");
  const quiet = { log: () => undefined };
  const state = (label: string, build: () => void) => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(root);
    build();
    const logs: string[] = [];
    const ds = loadDataset(dir, { log: (m) => logs.push(m) });
    assert.deepEqual(fs.readdirSync(root), ["ds"], `${label}: no stale folder left`);
    assert.ok(logs.length > 0 && logs.every((l) => l.startsWith("dataset store: ") && l.includes(dir)), `${label}: reported: ${logs}`);
    return { name: ds.config.name, logs };
  };
  const saveAs = (ds: Dataset, to: string) => {
    saveDataset(ds, path.join(root, "scratch"), quiet);
    fs.renameSync(path.join(root, "scratch"), to);
  };
  const cut = (folder: string) => fs.rmSync(path.join(folder, "dataset.json"));
  // Killed while writing the temp folder: the old dataset stays, the half-written folder goes.
  let r = state("tmp incomplete", () => {
    saveAs(v1, dir);
    saveAs(v2, `${dir}.tmp-${deadPid}`);
    cut(`${dir}.tmp-${deadPid}`);
  });
  assert.equal(r.name, "v1");
  // Killed between the two renames, the new folder finished: the new write is completed.
  r = state("between renames", () => {
    saveAs(v1, `${dir}.old-${deadPid}`);
    saveAs(v2, `${dir}.tmp-${deadPid}`);
  });
  assert.equal(r.name, "v2");
  assert.ok(r.logs.some((l) => /restored from ds\.tmp-\d+ \(the finished write/.test(l)), r.logs.join("\n"));
  // Between the renames with a new folder that is incomplete (a truncated .npy): the old data comes back.
  r = state("old restored", () => {
    saveAs(v1, `${dir}.old-${deadPid}`);
    saveAs(v2, `${dir}.tmp-${deadPid}`);
    const f = path.join(`${dir}.tmp-${deadPid}`, "spectra.npy");
    fs.truncateSync(f, fs.statSync(f).size - 5);
  });
  assert.equal(r.name, "v1");
  assert.ok(r.logs.some((l) => /restored from ds\.old-\d+ \(the previous dataset/.test(l)));
  // Killed while removing the old folder: the dataset is complete, the remains go.
  r = state("old partly removed", () => {
    saveAs(v2, dir);
    saveAs(v1, `${dir}.old-${deadPid}`);
    cut(`${dir}.old-${deadPid}`);
  });
  assert.equal(r.name, "v2");
  // A writer that is still running (a live pid) is left alone, by load and by save.
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root);
  saveAs(v1, dir);
  fs.mkdirSync(`${dir}.tmp-${process.ppid}`);
  assert.deepEqual(recoverDatasetFolder(dir), []);
  saveDataset(v2, dir, quiet);
  assert.ok(fs.existsSync(`${dir}.tmp-${process.ppid}`));
  assert.equal(loadDataset(dir, quiet).config.name, "v2");
});

test("dataset store: a save killed with SIGKILL at a random moment leaves a loadable dataset (old or new), cleaned on load", async () => {
  const root = tmp("store-kill");
  const dir = path.join(root, "ds");
  const child = path.join(root, "saver.ts");
  // Saves alternately two datasets of different size in a loop until killed.
  fs.writeFileSync(
    child,
    `import { buildDataset } from ${JSON.stringify(path.join(__dirname, "..", "lib", "data", "dataset"))};
import { collectXasDocuments } from ${JSON.stringify(path.join(__dirname, "..", "lib", "data", "xas-docs"))};
import { saveDataset } from ${JSON.stringify(path.join(__dirname, "..", "lib", "data", "store"))};
import { DEFAULT_MESHES } from ${JSON.stringify(path.join(__dirname, "..", "lib", "spectra", "mesh"))};
import { makeMpDocuments } from ${JSON.stringify(path.join(__dirname, "helpers", "mp-server"))};
(async () => {
  const docs = makeMpDocuments(60, 41);
  const a = await buildDataset({ name: "a", sources: collectXasDocuments(docs.slice(0, 30)), mesh: DEFAULT_MESHES["O-K"] });
  const b = await buildDataset({ name: "b", sources: collectXasDocuments(docs), mesh: DEFAULT_MESHES["O-K"] });
  saveDataset(a, ${JSON.stringify(dir)}, { log: () => undefined });
  process.stdout.write("ready\\n");
  for (let i = 0; ; i++) saveDataset(i % 2 ? a : b, ${JSON.stringify(dir)}, { log: () => undefined });
})();
`,
  );
  const rng = createRng(7);
  for (let round = 0; round < 1; round++) {
    const { spawn } = await import("node:child_process");
    const p = spawn(process.execPath, ["--import", "tsx", child], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => p.stdout.once("data", () => resolve()));
    await new Promise((r) => setTimeout(r, 20 + rng() * 200));
    p.kill("SIGKILL");
    await new Promise((r) => p.once("exit", r));
    const ds = loadDataset(dir, { log: () => undefined });
    assert.ok(["a", "b"].includes(ds.config.name));
    assert.equal(ds.meta.length, ds.config.name === "a" ? 30 : 60);
    assert.deepEqual(fs.readdirSync(root).sort(), ["ds", "saver.ts"], `round ${round}: stale folders cleaned`);
  }
});
