import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { MP_PAGE_FILE, MpApiError, MpIncompleteError, collectMpXas, redactSecret } from "../lib/data/mp-api";
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
    const res = await collectMpXas({}, { apiKey: KEY, baseUrl: server.url, cacheDir: tmp("cap"), pageSize: 1000, backoffMs: 10 });
    assert.deepEqual(ids(res.documents), ids(docs));
    assert.equal(res.pagesFetched, 6);
  } finally {
    await server.close();
  }
});

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "..", "scripts", "build-dataset.ts"), ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (out += b));
    child.on("exit", (code) => resolve({ code, out, ms: Date.now() - t0 }));
  });
}

test("CLI end to end: build-dataset --source mp collects from the API and saves a dataset without the key", async () => {
  const docs = makeMpDocuments(25, 13);
  // One invalid document in the query's scope: it is skipped and listed in the dataset's quality report.
  const inScope = (d: any) => d.nelements >= 2 && d.nelements <= 4;
  const badAt = docs.findIndex(inScope);
  docs[badAt] = { ...docs[badAt], spectrum: { ...docs[badAt].spectrum, absorbing_index: "11" } };
  const server = await startMpServer({ docs, apiKey: KEY, fault: (r) => (r.attempt === 1 && r.skip === 10 ? { kind: "500" } : undefined) });
  const work = tmp("cli");
  try {
    // The key as a pasted .env line: padded with whitespace.
    const r = await runCli(["--source", "mp", "--mp-base-url", server.url, "--mp-page-size", "10", "--name", "mp-test", "--timeout", "60"], { MP_API_KEY: ` ${KEY}\n`, XANES_WORK_DIR: work });
    assert.equal(r.code, 0, r.out);
    const expected = docs.filter((d, i) => inScope(d) && i !== badAt);
    assert.match(r.out, new RegExp(`mp-api: ${expected.length} documents, complete \\(.*1 invalid documents skipped\\)`));
    const ds = JSON.parse(fs.readFileSync(path.join(work, "datasets", "mp-test", "dataset.json"), "utf8"));
    assert.ok(JSON.stringify(ds.quality).includes(`absorbing_index \\"11\\"`), "the rejected document is in the quality report");
    const meta = JSON.parse(fs.readFileSync(path.join(work, "datasets", "mp-test", "meta.json"), "utf8"));
    assert.deepEqual(meta.map((m: any) => m.materialId).sort(), expected.map((d) => d.task_id).sort());
    assertKeyNowhere(work, [r.out]);
  } finally {
    await server.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Trust boundaries (issue 15): the key, completeness, bounded loops, per-document validation.

const Q = { absorbingElement: "O", edge: "K", spectrumType: "XANES" } as const;
const FAST = { backoffMs: 5, maxBackoffMs: 50, timeoutMs: 1500, pageSize: 5 } as const;

/** Every spelling of `key` a leak could take. */
function keyForms(key: string): string[] {
  const k = key.trim();
  return [k, encodeURIComponent(k), Buffer.from(k).toString("base64")];
}

function assertNoKey(key: string, dirs: string[], texts: string[]): number {
  let checked = 0;
  for (const dir of dirs) {
    for (const f of filesUnder(dir)) {
      const body = fs.readFileSync(f, "latin1");
      for (const form of keyForms(key)) assert.ok(!body.includes(form), `key (${form === key.trim() ? "plain" : "encoded"}) found in ${f}`);
      checked++;
    }
  }
  for (const t of texts) for (const form of keyForms(key)) assert.ok(!t.includes(form), `key in output: ${t.slice(0, 200)}`);
  return checked;
}

test("the key: trimmed and checked once; a malformed key is refused without being echoed", async () => {
  const { normaliseApiKey } = await import("../lib/data/mp-api");
  assert.equal(normaliseApiKey(`  ${KEY}\r\n`), KEY);
  for (const bad of ["", "   ", "short", "has space inside key", "key\"with-quote-1234", "ключ-ключ-ключ"]) {
    assert.throws(() => normaliseApiKey(bad), (e: Error) => e instanceof MpApiError && (bad.trim() === "" || !e.message.includes(bad.trim())));
  }
  // Endpoints: https anywhere, http only on loopback, never credentials or a query in the URL.
  const { mpBaseUrl } = await import("../lib/data/mp-api");
  assert.equal(mpBaseUrl("https://api.materialsproject.org/"), "https://api.materialsproject.org");
  assert.equal(mpBaseUrl("http://127.0.0.1:8080/x/"), "http://127.0.0.1:8080/x");
  assert.throws(() => mpBaseUrl("http://api.materialsproject.org"), /only sent over https/);
  assert.throws(() => mpBaseUrl(`https://u:${KEY}@example.org`, KEY), (e: Error) => /credentials/.test(e.message) && !e.message.includes(KEY));
  assert.throws(() => mpBaseUrl(`https://example.org/?api_key=${KEY}`, KEY), (e: Error) => /query/.test(e.message) && !e.message.includes(KEY));
});

test("the key never leaves for another origin: redirects are refused, not retried, whatever the target", async () => {
  const seen: (string | undefined)[] = [];
  const http = await import("node:http");
  const other = http.createServer((req, res) => {
    seen.push(req.headers["x-api-key"] as string | undefined);
    res.end("{}");
  });
  await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
  const otherUrl = `http://127.0.0.1:${(other.address() as any).port}/materials/xas/`;
  try {
    for (const location of [otherUrl, "/materials/xas/?moved=1"]) {
      const { server } = await collectWith(() => ({ kind: "redirect", location }), FAST).catch((err: Error) => {
        assert.ok(err instanceof MpApiError && /HTTP 302 redirecting to http:\/\/127\.0\.0\.1:\d+: redirects are not followed/.test(err.message), err.message);
        assert.ok(!err.message.includes(KEY));
        return { server: undefined };
      });
      assert.equal(server, undefined, "a redirect must fail the collection");
    }
    assert.deepEqual(seen, [], "the other origin was never contacted");
  } finally {
    await new Promise<void>((r) => other.close(() => r()));
  }
});

test("several key shapes, padded or not, appear in no file, log, error or dataset a collection writes, even when the server echoes them", async () => {
  const shapes = ["0123456789abcdefABCDEF0123456789", "  mp-key_with.dots~and+slash/=  ", "\tPADDEDkey1234567890\n"];
  const work = tmp("keyshapes");
  let checked = 0;
  for (const [n, shape] of shapes.entries()) {
    const key = shape.trim();
    const docs = makeMpDocuments(12, 30 + n);
    const server = await startMpServer({
      docs,
      apiKey: key,
      fault: (r) => {
        if (r.skip === 0 && r.attempt === 1) return { kind: "500" };
        // A hostile server: the key inside a document, in plain and \u-escaped form.
        if (r.skip === 5) return { kind: "page", edit: (page) => ({ data: page.map((d, i) => ({ ...d, formula_pretty: i === 0 ? `x${key}y` : d.formula_pretty, [`note-${key}`]: 1 })) }) };
        if (r.skip === 10) return { kind: "page", edit: (page, all) => ({ text: JSON.stringify({ data: page, meta: { total_doc: all.length, echo: "K" } }).replace('"K"', JSON.stringify(key).replace(/[a-z]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)) }) };
        return undefined;
      },
    });
    const logs: string[] = [];
    try {
      const cacheDir = path.join(work, `cache-${n}`);
      const res = await collectMpXas(Q, { ...FAST, apiKey: shape, baseUrl: server.url, cacheDir, log: (m) => logs.push(m) });
      assert.equal(res.status, "complete");
      assert.equal(res.documents.length, 12);
      assert.ok(logs.some((l) => /contained the API key/.test(l)), logs.join("\n"));
      assert.ok(res.documents.some((d) => d.formula_pretty === "x[REDACTED]y"));
      const ds = await buildDataset({ name: `k${n}`, sources: collectXasDocuments(res.documents), mesh: DEFAULT_MESHES["O-K"] });
      const { saveDataset } = await import("../lib/data/store");
      saveDataset(ds, path.join(work, `dataset-${n}`));
      // Errors carry the key nowhere either (401 with a padded wrong key, 400 echoing it).
      const errs: string[] = [];
      await collectMpXas(Q, { ...FAST, apiKey: ` ${key}x `, baseUrl: server.url, cacheDir: null }).catch((e: Error) => errs.push(e.message, String(e.stack)));
      const echo = await startMpServer({ docs, apiKey: key, fault: () => ({ kind: "400-echo-key" }) });
      await collectMpXas(Q, { ...FAST, apiKey: shape, baseUrl: echo.url, cacheDir: null }).catch((e: Error) => errs.push(e.message, String(e.stack)));
      await echo.close();
      assert.equal(errs.length, 4);
      assert.ok(errs.some((e) => e.includes("[REDACTED]")));
      checked += assertNoKey(key, [work], [...logs, ...errs]);
    } finally {
      await server.close();
    }
  }
  assert.ok(checked >= 3 * 10, `${checked} files checked`);
});

test("a server that ignores _skip and sends no total_doc costs a bounded number of requests and an incomplete, resumable collection", async () => {
  const docs = makeMpDocuments(30, 4);
  const server = await startMpServer({ docs, apiKey: KEY, fault: () => ({ kind: "page", edit: (_p, all) => ({ data: all.slice(0, 5), total: null }) }) });
  const cacheDir = tmp("noskip");
  try {
    await assert.rejects(collectMpXas(Q, { ...FAST, apiKey: KEY, baseUrl: server.url, cacheDir, pageChecks: 2 }), (err: Error) => {
      assert.ok(err instanceof MpIncompleteError, String(err));
      assert.match(err.message, /0 of \? documents received; the answer has no meta\.total_doc/);
      assert.equal(err.result.status, "incomplete");
      return true;
    });
    assert.equal(server.requests.length, 3, "first request + 2 re-checks");
    const manifest = JSON.parse(fs.readFileSync(path.join(filesUnder(cacheDir).find((f) => f.endsWith("manifest.json"))!), "utf8"));
    assert.equal(manifest.complete, false);
    assert.match(manifest.missing, /total_doc/);
  } finally {
    await server.close();
  }
  // With total_doc but still ignoring _skip: the second page only repeats the first.
  const s2 = await startMpServer({ docs, apiKey: KEY, fault: () => ({ kind: "page", edit: (_p, all) => ({ data: all.slice(0, 5) }) }) });
  try {
    const res = await collectMpXas(Q, { ...FAST, apiKey: KEY, baseUrl: s2.url, cacheDir: tmp("noskip2"), allowIncomplete: true });
    assert.equal(res.status, "incomplete");
    assert.equal(res.documents.length, 5);
    assert.match(res.missing[0], /5 of 30 documents received; the page repeats documents 0\.\.4 already received/);
    assert.equal(s2.requests.length, 1 + 3);
  } finally {
    await s2.close();
  }
});

test("an empty page before the total is retried; if it persists the manifest says incomplete and a healthy server later completes it", async () => {
  const docs = makeMpDocuments(25, 5);
  let broken = true;
  const server = await startMpServer({ docs, apiKey: KEY, fault: (r) => (broken && r.skip === 10 ? { kind: "page", edit: () => ({ data: [] }) } : undefined) });
  const cacheDir = tmp("empty");
  try {
    const first = await collectMpXas(Q, { ...FAST, apiKey: KEY, baseUrl: server.url, cacheDir, allowIncomplete: true });
    assert.equal(first.status, "incomplete");
    assert.equal(first.documents.length, 10);
    assert.match(first.missing[0], /10 of 25 documents received; empty page at 10 of 25 documents, still after 2 re-fetch/);
    const mf = path.join(first.cacheDirs[0], "manifest.json");
    assert.equal(JSON.parse(fs.readFileSync(mf, "utf8")).complete, false, "the manifest never says complete for a short collection");
    // Without allowIncomplete the same state is an error naming what is missing.
    await assert.rejects(collectMpXas(Q, { ...FAST, apiKey: KEY, baseUrl: server.url, cacheDir, pageChecks: 0 }), /incomplete[^]*10 of 25 documents/);
    broken = false;
    const before = server.requests.length;
    const second = await collectMpXas(Q, { ...FAST, apiKey: KEY, baseUrl: server.url, cacheDir });
    assert.equal(second.status, "complete");
    assert.deepEqual(ids(second.documents), ids(docs));
    assert.equal(second.pagesFromCache, 2);
    assert.equal(server.requests.length - before, 3, "only the missing pages are fetched");
    assert.equal(JSON.parse(fs.readFileSync(mf, "utf8")).complete, true);
  } finally {
    await server.close();
  }
});

test("a version-1 cache that wrongly says complete after an empty page is re-checked and completed", async () => {
  const docs = makeMpDocuments(12, 6);
  const server = await startMpServer({ docs, apiKey: KEY });
  const cacheDir = tmp("v1");
  try {
    const full = await collectMpXas(Q, { ...FAST, apiKey: KEY, baseUrl: server.url, cacheDir });
    const dir = full.cacheDirs[0];
    // Rewrite it as the old client left it: bare arrays, an empty page at 5, complete: true.
    fs.writeFileSync(path.join(dir, "page-000000000.json"), JSON.stringify(docs.slice(0, 5)));
    fs.writeFileSync(path.join(dir, "page-000000005.json"), "[]");
    fs.rmSync(path.join(dir, "page-000000010.json"));
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ totalDoc: 12, pages: { 0: 5, 5: 0 }, complete: true }));
    const before = server.requests.length;
    const res = await collectMpXas(Q, { ...FAST, apiKey: KEY, baseUrl: server.url, cacheDir });
    assert.equal(res.status, "complete");
    assert.deepEqual(ids(res.documents), ids(docs));
    assert.equal(server.requests.length - before, 2);
  } finally {
    await server.close();
  }
});

test("a total_doc that changes between pages, and transient short or empty pages, are retried then reported", async () => {
  const docs = makeMpDocuments(20, 7);
  // Shrinks for good from the third page on: reported.
  const s1 = await startMpServer({ docs, apiKey: KEY, fault: (r) => (r.skip >= 10 ? { kind: "page", edit: (p, all) => ({ data: p, total: all.length - 6 }) } : undefined) });
  try {
    const res = await collectMpXas(Q, { ...FAST, apiKey: KEY, baseUrl: s1.url, cacheDir: tmp("shrink"), allowIncomplete: true });
    assert.equal(res.status, "incomplete");
    assert.match(res.missing[0], /10 of 20 documents received; total_doc changed from 20 to 14/);
  } finally {
    await s1.close();
  }
  // Transient: a short page and an empty page once each, a changed total once: the collection completes.
  const s2 = await startMpServer({
    docs,
    apiKey: KEY,
    fault: (r) =>
      r.attempt > 1 ? undefined
      : r.skip === 5 ? { kind: "page", edit: (p) => ({ data: p.slice(0, 2) }) }
      : r.skip === 10 ? { kind: "page", edit: () => ({ data: [] }) }
      : r.skip === 15 ? { kind: "page", edit: (p, all) => ({ data: p, total: all.length + 3 }) }
      : undefined,
  });
  const logs: string[] = [];
  try {
    const res = await collectMpXas(Q, { ...FAST, apiKey: KEY, baseUrl: s2.url, cacheDir: tmp("transient"), log: (m) => logs.push(m) });
    assert.equal(res.status, "complete");
    assert.deepEqual(ids(res.documents), ids(docs));
    assert.equal(res.retries, 3);
    assert.ok(logs.some((l) => /short page \(2 documents at 5 of 20\)/.test(l)) && logs.some((l) => /empty page/.test(l)) && logs.some((l) => /total_doc changed from 20 to 23/.test(l)), logs.join("\n"));
  } finally {
    await s2.close();
  }
});

test("documents are validated one by one: each bad one is skipped with its reason, the rest are kept", async () => {
  const docs = makeMpDocuments(14, 8);
  const bad = (i: number, f: (d: any) => void) => {
    const d = JSON.parse(JSON.stringify(docs[i]));
    f(d);
    docs[i] = d;
  };
  const nsites = docs[0].spectrum.structure.sites.length;
  bad(1, (d) => (d.spectrum.absorbing_index = "11"));
  bad(2, (d) => (d.spectrum.absorbing_index = nsites + 3));
  bad(3, (d) => (d.spectrum.absorbing_index = d.spectrum.structure.sites.findIndex((s: any) => s.species[0].element !== "O")));
  bad(4, (d) => (d.spectrum.absorbing_index = 1.5));
  bad(5, (d) => d.spectrum.y.pop());
  bad(6, (d) => (d.spectrum.y[7] = null));
  bad(7, (d) => (d.spectrum.structure.sites[1].abc = [...d.spectrum.structure.sites[0].abc]));
  bad(8, (d) => (d.spectrum.x[3] = "531.0"));
  // Document 9 gets a NaN literal in the page text (Python's json writer emits it): only it is lost.
  const server = await startMpServer({
    docs,
    apiKey: KEY,
    fault: (r) =>
      r.skip === 5
        ? { kind: "page", edit: (p, all) => {
            const page = JSON.parse(JSON.stringify(p));
            page[4].spectrum.y[0] = 123456789.5;
            return { text: JSON.stringify({ data: page, meta: { total_doc: all.length } }).replace("123456789.5", "NaN") };
          } }
        : undefined,
  });
  try {
    const res = await collectMpXas(Q, { ...FAST, apiKey: KEY, baseUrl: server.url, cacheDir: tmp("validate") });
    assert.equal(res.status, "complete", "a complete collection, with documents rejected");
    const why = new Map(res.rejected.map((r) => [r.id.split("-XANES")[0], `${r.reason}: ${r.message}`]));
    const idOf = (i: number) => docs[i].task_id;
    assert.match(why.get(idOf(1))!, /wrong-absorber: .*absorbing_index "11" is not an integer/);
    assert.match(why.get(idOf(2))!, /wrong-absorber: .*outside the structure/);
    assert.match(why.get(idOf(3))!, /wrong-absorber: .*not O/);
    assert.match(why.get(idOf(4))!, /wrong-absorber: .*1\.5/);
    assert.match(why.get(idOf(5))!, /unreadable-spectrum: .*spectrum\.x has 200 points, spectrum\.y 199/);
    assert.match(why.get(idOf(6))!, /nan: .*spectrum\.y\[7\] = null is not a finite number/);
    assert.match(why.get(idOf(7))!, /unreadable-structure: .*same position|overlaps/);
    assert.match(why.get(idOf(8))!, /nan: .*x\[3\] = 531\.0/);
    assert.match(why.get(idOf(9))!, /nan: .*y\[0\] = NaN/);
    const nanDoc = res.rejected.find((r) => r.reason === "nan" && /= NaN/.test(r.message));
    assert.ok(nanDoc, `the NaN-literal document is rejected alone: ${JSON.stringify(res.rejected.map((r) => r.message))}`);
    assert.equal(res.rejected.length, 9);
    assert.equal(res.documents.length, 14 - 9);
    assert.ok(res.rejected.every((r) => r.source.startsWith("mp-api:query:_skip=")));
  } finally {
    await server.close();
  }
});

test("identity: documents without spectrum_id/task_id are de-duplicated by content; different ones are all kept", async () => {
  const docs = makeMpDocuments(6, 9).map((d) => {
    const { spectrum_id, task_id, ...rest } = d;
    return rest;
  });
  const server = await startMpServer({ docs: [...docs, docs[2], docs[4]], apiKey: KEY });
  try {
    const res = await collectMpXas(Q, { ...FAST, apiKey: KEY, baseUrl: server.url, cacheDir: tmp("ident"), pageSize: 3 });
    assert.equal(res.status, "complete");
    assert.equal(res.documents.length, 6);
    assert.equal(res.duplicatesSkipped, 2);
    const { mpDocumentId } = await import("../lib/data/mp-api");
    assert.match(mpDocumentId(docs[0]), /^sha256:[0-9a-f]{24}$/);
    assert.equal(mpDocumentId({ b: 1, a: [1, 2] }), mpDocumentId({ a: [1, 2], b: 1 }), "key order does not change identity");
    assert.notEqual(mpDocumentId({ a: 1 }), mpDocumentId({ a: 2 }));
  } finally {
    await server.close();
  }
});

test("Retry-After: seconds or an HTTP date; negative, fractional or free text ignored; waits capped", async () => {
  const { retryAfterMs } = await import("../lib/data/mp-api");
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  assert.equal(retryAfterMs("3", now), 3000);
  assert.equal(retryAfterMs(" 0 ", now), 0);
  assert.equal(retryAfterMs("Wed, 21 Oct 2015 07:28:05 GMT", now), 5000);
  assert.equal(retryAfterMs("Wed, 21 Oct 2015 07:27:00 GMT", now), 0, "a date in the past: retry now");
  for (const h of ["-5", "1.5", "-0", "5s", "abc", "2015-10-21", "", "1e3"]) assert.equal(retryAfterMs(h, now), undefined, h);
  const { res, server } = await collectWith((r) => (r.skip === 0 && r.attempt <= 2 ? { kind: "429", retryAfter: r.attempt === 1 ? "-5" : "99999" } : undefined), { maxBackoffMs: 200 });
  assert.equal(res.status, "complete");
  const p0 = server.requests.filter((r) => r.skip === 0);
  assert.equal(p0.length, 3);
  assert.ok(p0[2].time - p0[0].time < 2000, `waits bounded: ${p0[2].time - p0[0].time} ms`);
});

test("an overall deadline bounds a server that never answers; maxDocs stops early and says so", async () => {
  const docs = makeMpDocuments(10, 10);
  const server = await startMpServer({ docs, apiKey: KEY, fault: () => ({ kind: "timeout", stallMs: 30_000 }) });
  try {
    const t0 = Date.now();
    await assert.rejects(collectMpXas({ ...Q, chemsys: ["*-O", "*-*-O"] }, { ...FAST, apiKey: KEY, baseUrl: server.url, cacheDir: null, timeoutMs: 60_000, deadlineMs: 600 }), (err: Error) => {
      assert.ok(err instanceof MpIncompleteError);
      assert.match(err.message, /overall deadline of 0\.6 s reached/);
      assert.match(err.message, /chemsys \*-\*-O: not started/);
      return true;
    });
    assert.ok(Date.now() - t0 < 3000, `${Date.now() - t0} ms`);
  } finally {
    await server.close();
  }
  const s2 = await startMpServer({ docs: makeMpDocuments(20, 11), apiKey: KEY });
  try {
    const res = await collectMpXas(Q, { ...FAST, apiKey: KEY, baseUrl: s2.url, cacheDir: tmp("max"), maxDocs: 7 });
    assert.equal(res.status, "max-docs");
    assert.equal(res.documents.length, 10);
    assert.deepEqual(res.missing, []);
    assert.equal(res.queries[0].complete, false);
  } finally {
    await s2.close();
  }
});

test("CLI: --timeout bounds a collection against a server that never answers; exit 1 saying what is missing", async () => {
  const server = await startMpServer({ docs: makeMpDocuments(5, 14), apiKey: KEY, fault: () => ({ kind: "timeout", stallMs: 30_000 }) });
  const work = tmp("cli-timeout");
  try {
    const r = await runCli(["--source", "mp", "--mp-base-url", server.url, "--timeout", "1", "--name", "never"], { MP_API_KEY: KEY, XANES_WORK_DIR: work });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /MpIncompleteError: .*incomplete[^]*overall deadline of 1\.0 s reached/);
    assert.ok(!fs.existsSync(path.join(work, "datasets", "never")), "no dataset from an incomplete collection");
    assert.ok(r.ms < 20_000, `${r.ms} ms`);
    const bad = await runCli(["--source", "mp", "--timeout", "soon"], { MP_API_KEY: KEY, XANES_WORK_DIR: work });
    assert.equal(bad.code, 1);
    assert.match(bad.out, /--timeout: "soon" is not a number/);
    assertKeyNowhere(work, [r.out, bad.out]);
  } finally {
    await server.close();
  }
});
