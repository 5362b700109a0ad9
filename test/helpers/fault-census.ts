/**
 * Fault census for issue 15: runs the Materials Project client and the dataset store through fault
 * scenarios against the local fake server (127.0.0.1, request budget, short timeouts) and counts the
 * outcomes per class: key leaks, unbounded runs, silently short collections, bad documents kept,
 * whole collections lost to one document, stale store folders. Any implementation with the same
 * exports can be measured (an older copy of the modules, for before/after):
 *
 *   node --import tsx test/helpers/fault-census.ts [mp-api.ts] [xas-docs.ts] [store.ts]
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { buildDataset } from "../../lib/data/dataset";
import { DEFAULT_MESHES } from "../../lib/spectra/mesh";
import { MpFault, MpRequestInfo, makeMpDocuments, startMpServer } from "./mp-server";

const lib = path.join(__dirname, "..", "..", "lib", "data");
const [apiPath = path.join(lib, "mp-api.ts"), docsPath = path.join(lib, "xas-docs.ts"), storePath = path.join(lib, "store.ts")] = process.argv.slice(2);

const KEY = "census-key-0123456789abcdef";
const BUDGET = 300; // requests per scenario: reaching it counts as an unbounded run

interface Scenario {
  name: string;
  docs: any[];
  fault?: (r: MpRequestInfo) => MpFault | undefined;
  key?: string;
  /** Documents a correct, complete collection holds (unique, valid). */
  expected: number;
  /** task_ids that must not reach the dataset. */
  bad?: string[];
  timeLimitMs?: number;
  /** A second origin the fault may redirect to; it records the keys it is sent. */
  other?: boolean;
}

function tamper(docs: any[], i: number, f: (d: any) => void): string {
  const d = JSON.parse(JSON.stringify(docs[i]));
  f(d);
  docs[i] = d;
  return d.task_id;
}

function scenarios(otherUrl: string): Scenario[] {
  const mk = (n: number, seed: number) => makeMpDocuments(n, seed);
  const list: Scenario[] = [];
  list.push({ name: "redirect to another origin", docs: mk(10, 1), fault: () => ({ kind: "redirect", location: otherUrl }), expected: 10, other: true });
  list.push({ name: "padded key, error body echoes it", docs: mk(10, 2), key: ` ${KEY}\n`, fault: () => ({ kind: "400-echo-key" }), expected: 10 });
  list.push({ name: "padded key, 500 then ok", docs: mk(10, 3), key: `\t${KEY} `, fault: (r) => (r.attempt === 1 ? { kind: "500" } : undefined), expected: 10 });
  list.push({ name: "key echoed inside a document", docs: mk(10, 4), fault: (r) => (r.skip === 5 ? { kind: "page", edit: (p) => ({ data: p.map((d) => ({ ...d, formula_pretty: `echo ${KEY}` })) }) } : undefined), expected: 10 });
  list.push({ name: "ignores _skip, no total_doc", docs: mk(30, 5), fault: () => ({ kind: "page", edit: (_p, all) => ({ data: all.slice(0, 5), total: null }) }), expected: 30 });
  list.push({ name: "ignores _skip, with total_doc", docs: mk(30, 6), fault: () => ({ kind: "page", edit: (_p, all) => ({ data: all.slice(0, 5) }) }), expected: 30 });
  list.push({ name: "never answers", docs: mk(10, 7), fault: () => ({ kind: "timeout", stallMs: 60_000 }), expected: 10, timeLimitMs: 2500 });
  list.push({ name: "one empty page mid-way (persistent)", docs: mk(25, 8), fault: (r) => (r.skip === 10 ? { kind: "page", edit: () => ({ data: [] }) } : undefined), expected: 25 });
  list.push({ name: "one empty page mid-way (transient)", docs: mk(25, 9), fault: (r) => (r.skip === 10 && r.attempt === 1 ? { kind: "page", edit: () => ({ data: [] }) } : undefined), expected: 25 });
  list.push({ name: "total_doc shrinks between pages", docs: mk(20, 10), fault: (r) => (r.skip >= 10 ? { kind: "page", edit: (p, all) => ({ data: p, total: all.length - 6 }) } : undefined), expected: 20 });
  list.push({ name: "short pages without total_doc", docs: mk(20, 11), fault: () => ({ kind: "page", edit: (p) => ({ data: p.slice(0, 3), total: null }) }), expected: 20 });
  list.push({ name: "transient short page", docs: mk(20, 12), fault: (r) => (r.skip === 5 && r.attempt === 1 ? { kind: "page", edit: (p) => ({ data: p.slice(0, 2) }) } : undefined), expected: 20 });
  {
    const docs = mk(10, 13);
    const bad = [tamper(docs, 2, (d) => (d.spectrum.absorbing_index = "11"))];
    list.push({ name: 'absorbing_index "11"', docs, expected: 9, bad });
  }
  {
    const docs = mk(10, 14);
    const bad = [tamper(docs, 3, (d) => (d.spectrum.structure.sites[1].abc = [...d.spectrum.structure.sites[0].abc]))];
    list.push({ name: "overlapping atoms", docs, expected: 9, bad });
  }
  {
    const docs = mk(10, 15);
    const bad = [tamper(docs, 4, (d) => (d.spectrum.structure.sites[0].species[0].element = "NaN"))];
    list.push({ name: 'species "NaN"', docs, expected: 9, bad });
  }
  {
    const docs = mk(8, 16).map(({ spectrum_id, task_id, ...rest }) => rest);
    list.push({ name: "documents without ids sent twice", docs: [...docs, docs[1], docs[5]], expected: 8 });
  }
  {
    const docs = mk(10, 17);
    list.push({
      name: "NaN literal in one document",
      docs,
      fault: (r) =>
        r.skip === 5
          ? { kind: "page", edit: (p, all) => {
              const page = JSON.parse(JSON.stringify(p));
              page[1].spectrum.y[0] = 123456789.5;
              return { text: JSON.stringify({ data: page, meta: { total_doc: all.length } }).replace("123456789.5", "NaN") };
            } }
          : undefined,
      expected: 9,
      bad: [docs[6].task_id],
    });
  }
  return list;
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath ?? (d as any).path, d.name));
}

async function main(): Promise<void> {
  const api = await import(apiPath);
  const xas = await import(docsPath);
  const store = await import(storePath);
  const seenByOther: unknown[] = [];
  const other = http.createServer((req, res) => {
    seenByOther.push(req.headers["x-api-key"]);
    res.end("{}");
  });
  await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
  const otherUrl = `http://127.0.0.1:${(other.address() as any).port}/materials/xas/`;
  const counts: Record<string, number> = { "key leak": 0, unbounded: 0, "silently short": 0, "bad document kept": 0, "duplicate kept": 0, "collection lost to one document": 0, "handled or reported": 0 };
  const rows: string[] = [];
  for (const sc of scenarios(otherUrl)) {
    seenByOther.length = 0;
    const server = await startMpServer({ docs: sc.docs, apiKey: KEY, fault: sc.fault, maxRequests: BUDGET });
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "census-"));
    const logs: string[] = [];
    let res: any;
    let err: any;
    const t0 = Date.now();
    try {
      res = await api.collectMpXas(
        { absorbingElement: "O", edge: "K", spectrumType: "XANES" },
        { apiKey: sc.key ?? KEY, baseUrl: server.url, cacheDir, pageSize: 5, backoffMs: 5, maxBackoffMs: 20, timeoutMs: 1000, maxRetries: 3, deadlineMs: 1500, log: (m: string) => logs.push(m) },
      );
    } catch (e) {
      err = e;
    }
    const ms = Date.now() - t0;
    const requests = server.requests.length;
    await server.close();
    const texts = [String(err?.message ?? ""), String(err?.stack ?? ""), ...logs, JSON.stringify(res?.documents ?? []), ...filesUnder(cacheDir).map((f) => fs.readFileSync(f, "utf8"))];
    const classes: string[] = [];
    if (texts.some((t) => t.includes(KEY)) || seenByOther.some((k) => String(k).includes(KEY))) classes.push("key leak");
    if (requests >= BUDGET || ms > (sc.timeLimitMs ?? 10_000)) classes.push("unbounded");
    if (res) {
      const reportedShort = res.status !== undefined && res.status !== "complete";
      if (res.documents.length < sc.expected && !reportedShort) classes.push("silently short");
      const ds = await buildDataset({ name: "c", sources: xas.collectXasDocuments(res.documents, "mp-api"), mesh: DEFAULT_MESHES["O-K"] });
      if (sc.bad?.some((id) => ds.meta.some((m: any) => m.materialId === id))) classes.push("bad document kept");
      if (new Set(res.documents.map((d: unknown) => JSON.stringify(d))).size < res.documents.length) classes.push("duplicate kept");
    } else if (sc.bad && !(err?.name === "MpIncompleteError") && /JSON/.test(String(err?.message))) classes.push("collection lost to one document");
    if (classes.length === 0) classes.push("handled or reported");
    for (const c of classes) counts[c]++;
    rows.push(`${sc.name.padEnd(40)} ${classes.join(", ").padEnd(34)} ${String(requests).padStart(4)} requests ${String(ms).padStart(5)} ms  ${res ? `${res.documents.length} docs${res.status ? ` (${res.status})` : ""}` : `error: ${String(err?.name)}`}`);
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
  await new Promise<void>((r) => other.close(() => r()));

  // Dataset store: the three states a killed save can leave, then one load and one save.
  const docs = makeMpDocuments(3, 20);
  const v1 = await buildDataset({ name: "v1", sources: xas.collectXasDocuments(docs.slice(0, 2)), mesh: DEFAULT_MESHES["O-K"] });
  const v2 = await buildDataset({ name: "v2", sources: xas.collectXasDocuments(docs), mesh: DEFAULT_MESHES["O-K"] });
  const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
  let stale = 0;
  let unrestored = 0;
  const quiet = { log: () => undefined };
  for (const state of ["tmp half-written", "between the renames", "old half-removed"]) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "census-store-"));
    const dir = path.join(root, "ds");
    const put = (ds: any, to: string, cut = false) => {
      store.saveDataset(ds, path.join(root, "x"), quiet);
      fs.renameSync(path.join(root, "x"), to);
      if (cut) fs.rmSync(path.join(to, "dataset.json"));
    };
    if (state === "tmp half-written") {
      put(v1, dir);
      put(v2, `${dir}.tmp-${dead}`, true);
    } else if (state === "between the renames") {
      put(v1, `${dir}.old-${dead}`);
    } else {
      put(v2, dir);
      put(v1, `${dir}.old-${dead}`, true);
    }
    let loaded = false;
    try {
      store.loadDataset(dir, quiet);
      loaded = true;
    } catch {
      /* counted below */
    }
    if (!loaded) unrestored++;
    store.saveDataset(v2, dir, quiet);
    stale += fs.readdirSync(root).filter((n) => n !== "ds").length;
    fs.rmSync(root, { recursive: true, force: true });
  }
  counts["stale store folders after the next load+save"] = stale;
  counts["killed saves whose data was not restored on load"] = unrestored;

  for (const r of rows) console.log(r);
  console.log("\ncounts:");
  for (const [k, v] of Object.entries(counts)) console.log(`  ${k}: ${v}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
