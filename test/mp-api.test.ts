import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { MP_PAGE_FILE, MpApiError, collectMpXas, redactSecret } from "../lib/data/mp-api";
import { collectXasDocuments } from "../lib/data/xas-docs";
import { writeFileAtomic } from "../lib/util/fs";
import { buildDataset } from "../lib/data/dataset";
import { DEFAULT_MESHES } from "../lib/spectra/mesh";
import { MpFault, MpRequestInfo, makeMpDocuments, startMpServer } from "./helpers/mp-server";
import { tempDirFactory } from "./helpers/files";

const KEY = "test-key-9f8e7d6c5b4a-SECRET";
const tmp = tempDirFactory("mp");

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath ?? (d as any).path, d.name));
}

test("writeFileAtomic replaces a file whole and leaves no temp file, also when the write fails", () => {
  const d = tmp("atomic");
  const f = path.join(d, "page.json");
  writeFileAtomic(f, "old");
  writeFileAtomic(f, "new contents");
  assert.equal(fs.readFileSync(f, "utf8"), "new contents");
  // Renaming onto a directory fails after the temp file was written: it must be cleaned up.
  fs.mkdirSync(path.join(d, "sub"));
  assert.throws(() => writeFileAtomic(path.join(d, "sub"), "x"));
  assert.deepEqual(fs.readdirSync(d).sort(), ["page.json", "sub"]);
});

function assertKeyNowhere(dir: string, logs: string[]): void {
  for (const f of filesUnder(dir)) assert.ok(!fs.readFileSync(f, "utf8").includes(KEY), `key found in ${f}`);
  for (const l of logs) assert.ok(!l.includes(KEY), `key in log: ${l}`);
}

const ids = (docs: any[]) => docs.map((d) => d.spectrum_id).sort();

async function collectWith(fault: ((r: MpRequestInfo) => MpFault | undefined) | undefined, extra: Record<string, unknown> = {}, nDocs = 23) {
  const docs = makeMpDocuments(nDocs, 5);
  const server = await startMpServer({ docs, apiKey: KEY, fault });
  const cacheDir = tmp("cache");
  const logs: string[] = [];
  try {
    const res = await collectMpXas(
      { absorbingElement: "O", edge: "K", spectrumType: "XANES" },
      { apiKey: KEY, baseUrl: server.url, cacheDir, pageSize: 5, backoffMs: 10, timeoutMs: 1500, log: (m) => logs.push(m), ...extra },
    );
    return { res, docs, server, cacheDir, logs };
  } finally {
    await server.close();
  }
}

test("collects every page exactly once and caches pages + manifest without the key", async () => {
  const { res, docs, server, cacheDir, logs } = await collectWith(undefined);
  assert.deepEqual(ids(res.documents), ids(docs));
  assert.equal(res.pagesFetched, 5);
  assert.equal(server.requests.length, 5);
  assert.ok(res.documents.every((d) => d.spectrum && Array.isArray((d.spectrum as any).x)), "spectrum field requested and served");
  const files = filesUnder(cacheDir).map((f) => path.basename(f)).sort();
  assert.ok(files.includes("manifest.json"));
  assert.equal(files.filter((f) => f.startsWith("page-")).length, 5);
  assert.equal(files.filter((f) => f.includes(".tmp-")).length, 0, "no temporary files left");
  assertKeyNowhere(cacheDir, logs);
  // A second run is served from the cache alone (the server is closed by now).
  const again = await collectMpXas({ absorbingElement: "O", edge: "K", spectrumType: "XANES" }, { apiKey: KEY, baseUrl: server.url, cacheDir: path.dirname(res.cacheDirs[0]), pageSize: 5, maxRetries: 0 });
  assert.equal(again.pagesFetched, 0);
  assert.deepEqual(ids(again.documents), ids(docs));
});

test("429 with Retry-After is honoured, 500s and a page failing twice are retried", async () => {
  const { res, docs, server, logs } = await collectWith((r) => {
    if (r.skip === 5 && r.attempt === 1) return { kind: "429", retryAfter: "1" };
    if (r.skip === 10 && r.attempt <= 2) return { kind: "500" };
    return undefined;
  });
  assert.deepEqual(ids(res.documents), ids(docs));
  const p5 = server.requests.filter((r) => r.skip === 5);
  assert.equal(p5.length, 2);
  assert.ok(p5[1].time - p5[0].time >= 950, `waited ${p5[1].time - p5[0].time} ms after Retry-After: 1`);
  assert.equal(server.requests.filter((r) => r.skip === 10).length, 3, "failed twice then succeeded");
  assert.ok(logs.some((l) => l.includes("HTTP 429")) && logs.some((l) => l.includes("HTTP 500")));
});

test("timeouts and truncated JSON bodies are retried", async () => {
  const { res, docs, server, logs } = await collectWith((r) => {
    if (r.skip === 0 && r.attempt === 1) return { kind: "timeout", stallMs: 4000 };
    if (r.skip === 15 && r.attempt === 1) return { kind: "truncate" };
    return undefined;
  });
  assert.deepEqual(ids(res.documents), ids(docs));
  assert.equal(server.requests.filter((r) => r.skip === 0).length, 2);
  assert.equal(server.requests.filter((r) => r.skip === 15).length, 2);
  assert.ok(logs.some((l) => l.includes("timeout")), logs.join("\n"));
  assert.ok(logs.some((l) => l.includes("truncated JSON")), logs.join("\n"));
});

test("gives up after maxRetries with a clear error", async () => {
  await assert.rejects(
    collectWith(() => ({ kind: "500" }), { maxRetries: 2 }),
    (err: Error) => err instanceof MpApiError && /giving up .* after 3 attempts \(last: HTTP 500\)/.test(err.message),
  );
});

test("401 fails at once with a clear message that does not contain the key", async () => {
  const docs = makeMpDocuments(3, 1);
  const server = await startMpServer({ docs, apiKey: "the-right-key" });
  const cacheDir = tmp("auth");
  try {
    await assert.rejects(
      collectMpXas({ absorbingElement: "O" }, { apiKey: KEY, baseUrl: server.url, cacheDir, backoffMs: 10 }),
      (err: Error) => {
        assert.ok(err instanceof MpApiError && err.status === 401);
        assert.match(err.message, /HTTP 401.*MP_API_KEY/);
        assert.ok(!err.message.includes(KEY) && !String(err.stack).includes(KEY));
        return true;
      },
    );
    assert.equal(server.requests.length, 1, "no retries on 401");
    assertKeyNowhere(cacheDir, []);
  } finally {
    await server.close();
  }
});

test("an error body echoing the key is redacted; the key is read from MP_API_KEY", async () => {
  const docs = makeMpDocuments(3, 1);
  const server = await startMpServer({ docs, apiKey: KEY, fault: () => ({ kind: "400-echo-key" }) });
  const saved = process.env.MP_API_KEY;
  process.env.MP_API_KEY = KEY;
  try {
    await assert.rejects(collectMpXas({}, { baseUrl: server.url, cacheDir: null }), (err: Error) => {
      assert.match(err.message, /HTTP 400/);
      assert.ok(err.message.includes("[REDACTED]") && !err.message.includes(KEY), err.message);
      return true;
    });
  } finally {
    if (saved === undefined) delete process.env.MP_API_KEY;
    else process.env.MP_API_KEY = saved;
    await server.close();
  }
  assert.equal(redactSecret(`a ${KEY} b ${KEY}`, KEY), "a [REDACTED] b [REDACTED]");
  await assert.rejects(collectMpXas({}, { apiKey: "", cacheDir: null }), /no Materials Project API key/);
});

test("chemsys patterns run as separate queries; documents are de-duplicated", async () => {
  const docs = makeMpDocuments(30, 9);
  const dup = { ...docs[0] };
  const server = await startMpServer({ docs: [...docs, dup], apiKey: KEY });
  try {
    const res = await collectMpXas(
      { absorbingElement: "O", chemsys: ["*-O", "*-*-O"] },
      { apiKey: KEY, baseUrl: server.url, cacheDir: tmp("chemsys"), pageSize: 4 },
    );
    assert.deepEqual(ids(res.documents), ids(docs));
    assert.equal(res.duplicatesSkipped, docs[0].nelements === 2 || docs[0].nelements === 3 ? 1 : 0);
    assert.equal(res.cacheDirs.length, 2);
    // The documents enter the dataset pipeline as site-averaged (site −1) O K spectra.
    const ds = await buildDataset({ name: "mp", sources: collectXasDocuments(res.documents), mesh: DEFAULT_MESHES["O-K"] });
    assert.equal(ds.meta.length, docs.length);
    assert.ok(ds.meta.every((m) => m.site === -1 && m.element === "O"));
  } finally {
    await server.close();
  }
});

function runChild(url: string, cacheDir: string, onLine?: (l: string) => void) {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "helpers", "mp-collect-child.ts"), cacheDir, "5"], {
    env: { ...process.env, MP_API_KEY: KEY, MP_API_ENDPOINT: url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (b) => {
    out += b;
    onLine?.(String(b));
  });
  child.stderr.on("data", (b) => (err += b));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, out, err })),
  );
  return { child, done };
}

test("a collector killed mid-run resumes from its cache: nothing lost, nothing duplicated", async () => {
  const docs = makeMpDocuments(60, 21);
  const expected = ids(docs.filter((d) => d.nelements === 2 || d.nelements === 3));
  let child: ReturnType<typeof runChild> | undefined;
  const server = await startMpServer({
    docs,
    apiKey: KEY,
    delayMs: 40,
    onPageServed: () => {
      if (server.pagesServed() === 4) child?.child.kill("SIGKILL");
    },
    fault: (r) => (r.n === 2 ? { kind: "500" } : undefined),
  });
  const cacheDir = tmp("kill");
  try {
    child = runChild(server.url, cacheDir);
    const first = await child.done;
    assert.equal(first.signal, "SIGKILL", `child should have been killed: ${first.err}`);
    // Only finished pages count: a SIGKILL during writeFileAtomic leaves page-….json.tmp-<pid>-<hex>.
    const pagesOnDisk = filesUnder(cacheDir).filter((f) => MP_PAGE_FILE.test(path.basename(f))).length;
    assert.ok(pagesOnDisk >= 2 && pagesOnDisk <= 4, `${pagesOnDisk} pages cached before the kill`);
    // Make the interrupted write certain: a temp file of the killed child (dead pid) and one of a live writer.
    const pageDir = path.dirname(filesUnder(cacheDir).find((f) => MP_PAGE_FILE.test(path.basename(f)))!);
    const staleTmp = path.join(pageDir, `page-000000099.json.tmp-${child.child.pid}-0badf00d`);
    const liveTmp = path.join(pageDir, `page-000000098.json.tmp-${process.pid === 1 ? 2 : process.ppid}-0badf00d`);
    fs.writeFileSync(staleTmp, "[{\"half\": ");
    fs.writeFileSync(liveTmp, "[");
    const requestsBefore = server.requests.length;
    child = undefined;
    const second = await runChild(server.url, cacheDir).done;
    assert.equal(second.code, 0, second.err);
    const result = JSON.parse(second.out.split("RESULT ")[1]);
    assert.equal(result.pagesFromCache, pagesOnDisk, "finished pages are not fetched again");
    assert.equal(result.status, "complete");
    assert.ok(!fs.existsSync(staleTmp), "the killed run's temp file is removed on resume");
    assert.ok(fs.existsSync(liveTmp), "a live writer's temp file is left alone");
    assert.ok(result.staleTempFilesRemoved >= 1);
    fs.rmSync(liveTmp);
    assert.deepEqual(filesUnder(cacheDir).filter((f) => f.includes(".tmp-")), [], "no temp files after the resumed run");
    assert.equal(server.requests.length - requestsBefore, result.pagesFetched);
    assert.equal(result.ids.length, new Set(result.ids).size, "no duplicates");
    assert.deepEqual([...result.ids].sort(), expected, "nothing lost");
    assertKeyNowhere(cacheDir, [second.out, second.err, first.out, first.err]);
  } finally {
    await server.close();
  }
});

test("a server that returns fewer documents than _limit (a capped page size) loses nothing", async () => {
  const docs = makeMpDocuments(17, 2);
  const server = await startMpServer({ docs, apiKey: KEY, maxPage: 3 });
  try {
    const res = await collectMpXas({}, { apiKey: KEY, baseUrl: server.url, cacheDir: tmp("cap"), pageSize: 1000 });
    assert.deepEqual(ids(res.documents), ids(docs));
    assert.equal(res.pagesFetched, 6);
  } finally {
    await server.close();
  }
});

test("CLI end to end: build-dataset --source mp collects from the API and saves a dataset without the key", async () => {
  const docs = makeMpDocuments(25, 13);
  const server = await startMpServer({ docs, apiKey: KEY, fault: (r) => (r.attempt === 1 && r.skip === 10 ? { kind: "500" } : undefined) });
  const work = tmp("cli");
  try {
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", path.join(__dirname, "..", "scripts", "build-dataset.ts"), "--source", "mp", "--mp-base-url", server.url, "--mp-page-size", "10", "--name", "mp-test"],
        { env: { ...process.env, MP_API_KEY: KEY, XANES_WORK_DIR: work }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let out = "";
      child.stdout.on("data", (b) => (out += b));
      child.stderr.on("data", (b) => (out += b));
      child.on("exit", (code) => resolve({ code, out }));
    });
    assert.equal(r.code, 0, r.out);
    const expected = docs.filter((d) => d.nelements >= 2 && d.nelements <= 4);
    assert.match(r.out, new RegExp(`mp-api: ${expected.length} documents`));
    const meta = JSON.parse(fs.readFileSync(path.join(work, "datasets", "mp-test", "meta.json"), "utf8"));
    assert.deepEqual(meta.map((m: any) => m.materialId).sort(), expected.map((d) => d.task_id).sort());
    assertKeyNowhere(work, [r.out]);
  } finally {
    await server.close();
  }
});
