import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { workDir } from "../config";
import { removeStaleTempFiles, writeFileAtomic } from "../util/fs";
import { errorMessage } from "../util/errors";
import { validateStructure } from "../structure/validate";
import { parseJsonText } from "./json-stream";
import type { DroppedSpectrum } from "./sources";
import { spectrumFromXasDocument, xasDocumentKey, MpXasDocument } from "./xas-docs";

/**
 * Materials Project XAS client (GET /materials/xas/), built for long, interruptible collections that
 * never end silently short:
 * - the API key is trimmed and checked once, sent only as X-API-KEY to the configured origin (https,
 *   or http on loopback), never along a redirect (redirects are refused: the client does not follow
 *   them at all), and redacted from every message, log line, cached page and returned document;
 * - per-request timeout, an overall deadline, retries with backoff on 429 (Retry-After: seconds or
 *   an HTTP date; anything else ignored; capped), 5xx, network errors and truncated bodies;
 * - a page that cannot be right (no total_doc, a total that changes, empty or more than asked before
 *   the total, only documents already received) is fetched again, then reported; a short page is
 *   fetched again once and accepted when the server repeats it (a server capping _limit);
 * - complete only when the documents received reach the server's total_doc (or `maxDocs` was reached,
 *   reported as such); otherwise `MpIncompleteError` (or, with `allowIncomplete`, a result saying what
 *   is missing). The page cache is written atomically, so a killed run resumes where it stopped;
 * - documents are checked one by one (spectrum x/y same length and finite, absorbing index an integer
 *   site of the absorbing element or null, structure valid); a bad one is listed in `rejected`;
 * - identity is spectrum_id, else task_id (+ type/element/edge/site), else a hash of the content.
 */

export interface MpXasQuery {
  readonly absorbingElement?: string;
  /** K, L2, L3, L2,3 */
  readonly edge?: string;
  /** XANES, EXAFS, XAFS */
  readonly spectrumType?: string;
  /** One wildcard pattern per request ("*-O", "*-*-O"); several patterns run as several queries. */
  readonly chemsys?: string | readonly string[];
  readonly formula?: string;
  readonly elements?: readonly string[];
  readonly excludeElements?: readonly string[];
  readonly taskIds?: readonly string[];
  readonly spectrumIds?: readonly string[];
  /** Fields to return; default includes the spectrum and its structure. */
  readonly fields?: readonly string[];
}

/** The binary, ternary and quaternary oxide patterns of the study. */
export const OXIDE_CHEMSYS_PATTERNS = ["*-O", "*-*-O", "*-*-*-O"] as const;

export const DEFAULT_MP_XAS_FIELDS = [
  "task_id",
  "spectrum_id",
  "formula_pretty",
  "chemsys",
  "elements",
  "nelements",
  "absorbing_element",
  "edge",
  "spectrum_type",
  "spectrum",
] as const;

export interface MpClientOptions {
  /** Default: process.env.MP_API_KEY. Surrounding whitespace is removed. */
  readonly apiKey?: string;
  /** Default: process.env.MP_API_ENDPOINT or https://api.materialsproject.org (http only for loopback hosts). */
  readonly baseUrl?: string;
  /** Documents per request (_limit), 1..1000, default 100. */
  readonly pageSize?: number;
  /** Per-request timeout, default 60 s. */
  readonly timeoutMs?: number;
  /** Whole collection, default 4 h: past it the collection stops as incomplete (and resumable). */
  readonly deadlineMs?: number;
  /** Retries per request after the first attempt, default 6. */
  readonly maxRetries?: number;
  /** Re-fetches of a page that cannot be right before the collection stops as incomplete, default 2. */
  readonly pageChecks?: number;
  /** First backoff delay, doubled per retry with ±25% jitter, default 1 s; capped by maxBackoffMs (60 s). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Root of the page cache (a folder per query is made inside); null disables caching. Default workDir()/cache/mp-api. */
  readonly cacheDir?: string | null;
  /** Stop once at least this many documents are collected (quick runs); reported as status "max-docs". */
  readonly maxDocs?: number;
  /** Return an incomplete collection (status "incomplete", `missing` says why) instead of throwing MpIncompleteError. */
  readonly allowIncomplete?: boolean;
  /** (pages done, pages known in total) after every page, cached or fetched. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Retry, cache and validation messages (already redacted). */
  readonly log?: (message: string) => void;
}

export class MpApiError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = "MpApiError";
  }
}

/** A collection that could not finish: `result` holds what was collected and `result.missing` what was not. */
export class MpIncompleteError extends MpApiError {
  constructor(message: string, readonly result: MpCollectResult) {
    super(message);
    this.name = "MpIncompleteError";
  }
}

/** Retries exhausted or the deadline passed: the collection stops as incomplete rather than failing outright. */
class MpGiveUp extends MpApiError {}

const KEY_PATTERN = /^[A-Za-z0-9._~+/=-]{8,256}$/;

/**
 * The key as sent: trimmed (a pasted `.env` line keeps its newline), then checked to be 8–256 characters
 * that need no escaping in a header, a URL or JSON (so redaction finds it in every form). The message
 * of a bad key never contains it.
 */
export function normaliseApiKey(raw: string | undefined): string {
  const key = (raw ?? "").trim();
  if (!key) throw new MpApiError("no Materials Project API key: set MP_API_KEY or pass apiKey");
  if (!KEY_PATTERN.test(key)) {
    throw new MpApiError(`the Materials Project API key is malformed (${key.length} characters; expected 8–256 letters, digits or ._~+/=- with no space inside); check MP_API_KEY`);
  }
  return key;
}

/** Replace every occurrence of `secret` (trimmed) in `text`; no-op for empty secrets. */
export function redactSecret(text: string, secret: string | undefined): string {
  const s = secret?.trim();
  if (!s) return text;
  let out = text.split(s).join("[REDACTED]");
  const enc = encodeURIComponent(s);
  if (enc !== s) out = out.split(enc).join("[REDACTED]");
  return out;
}

/** Redact `secret` from every string (and key) inside a parsed JSON value, in place; returns the number of hits. */
function redactDeep(v: unknown, secret: string): { value: unknown; hits: number } {
  let hits = 0;
  const walk = (x: unknown): unknown => {
    if (typeof x === "string") {
      if (!x.includes(secret)) return x;
      hits++;
      return redactSecret(x, secret);
    }
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) if (typeof x[i] === "string" || (typeof x[i] === "object" && x[i] !== null)) x[i] = walk(x[i]);
      return x;
    }
    if (typeof x === "object" && x !== null) {
      const o = x as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const val = walk(o[k]);
        if (k.includes(secret)) {
          hits++;
          delete o[k];
          o[redactSecret(k, secret)] = val;
        } else o[k] = val;
      }
      return o;
    }
    return x;
  };
  const value = walk(v);
  return { value, hits };
}

const isLoopback = (host: string) => host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);

/** The endpoint as used: an https URL (http only for loopback) without credentials, query or fragment; no trailing slash. */
export function mpBaseUrl(raw: string | undefined, key?: string): string {
  const text = raw ?? "https://api.materialsproject.org";
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new MpApiError(redactSecret(`Materials Project endpoint "${text}" is not a URL (MP_API_ENDPOINT or baseUrl)`, key));
  }
  if (u.protocol !== "https:" && !(u.protocol === "http:" && isLoopback(u.hostname))) {
    throw new MpApiError(`Materials Project endpoint ${u.origin}: the key is only sent over https (plain http only to 127.0.0.1/localhost)`);
  }
  if (u.username || u.password || u.search || u.hash) {
    throw new MpApiError(`Materials Project endpoint ${u.origin}: must not carry credentials, a query or a fragment (the key goes in the X-API-KEY header)`);
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, "")}`;
}

/** Query string parameters of a query (without paging), sorted so the cache key is stable. */
export function mpXasParams(q: MpXasQuery, chemsys?: string): [string, string][] {
  const p: [string, string][] = [];
  if (q.absorbingElement) p.push(["absorbing_element", q.absorbingElement]);
  if (q.edge) p.push(["edge", q.edge]);
  if (q.spectrumType) p.push(["spectrum_type", q.spectrumType]);
  if (chemsys) p.push(["chemsys", chemsys]);
  if (q.formula) p.push(["formula", q.formula]);
  if (q.elements?.length) p.push(["elements", q.elements.join(",")]);
  if (q.excludeElements?.length) p.push(["exclude_elements", q.excludeElements.join(",")]);
  if (q.taskIds?.length) p.push(["task_ids", q.taskIds.join(",")]);
  if (q.spectrumIds?.length) p.push(["spectrum_ids", q.spectrumIds.join(",")]);
  p.push(["_fields", (q.fields ?? DEFAULT_MP_XAS_FIELDS).join(",")]);
  return p.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Cache manifest of one query (version 2). `complete` is informative: a resumed run re-derives it from the pages. */
interface Manifest {
  version: 2;
  readonly baseUrl: string;
  readonly params: [string, string][];
  readonly pageSize: number;
  totalDoc: number | null;
  /** skip → documents in that page file. */
  pages: Record<string, number>;
  complete: boolean;
  /** Why the last run stopped short, when it did. */
  missing?: string;
}

/** AbortSignal.any (Node ≥ 20.3; missing from this TypeScript DOM lib). */
const anySignal = (signals: AbortSignal[]): AbortSignal => (AbortSignal as unknown as { any(s: AbortSignal[]): AbortSignal }).any(signals);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

const IMF_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * Retry-After in ms: delay-seconds (digits only) or an IMF-fixdate (RFC 9110); anything else (a
 * negative or fractional number, a free-form date) is ignored so the caller backs off on its own.
 */
export function retryAfterMs(h: string | null, now = Date.now()): number | undefined {
  const v = h?.trim();
  if (!v) return undefined;
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000;
  if (IMF_DATE.test(v)) {
    const t = Date.parse(v);
    return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
  }
  return undefined;
}

interface Page {
  readonly data: unknown[];
  readonly totalDoc: number | null;
  /** The answer as cached: the server's text, or its re-serialisation when the key had to be redacted. */
  readonly text: string;
}

/** A page's documents and total from its cached or received text (an API envelope, or a bare array from version-1 caches). */
function readPageText(text: string): { data: unknown[]; totalDoc: number | null } | undefined {
  const parsed = parseJsonText(text) as { data?: unknown; meta?: { total_doc?: unknown } } | unknown[] | null;
  if (Array.isArray(parsed)) return { data: parsed, totalDoc: null };
  if (!parsed || typeof parsed !== "object" || !Array.isArray(parsed.data)) return undefined;
  const t = parsed.meta?.total_doc;
  return { data: parsed.data, totalDoc: Number.isSafeInteger(t) && (t as number) >= 0 ? (t as number) : null };
}

class PageFetcher {
  private readonly deadline: AbortSignal;
  retries = 0;

  constructor(
    private readonly key: string,
    private readonly opts: MpClientOptions,
    readonly deadlineAt: number,
  ) {
    this.deadline = AbortSignal.timeout(Math.max(0, deadlineAt - Date.now()));
  }

  log(msg: string): void {
    this.opts.log?.(redactSecret(msg, this.key));
  }

  backoff(attempt: number): number {
    const base = Math.min(this.opts.maxBackoffMs ?? 60_000, (this.opts.backoffMs ?? 1000) * 2 ** attempt);
    return base * (0.75 + 0.5 * Math.random());
  }

  /** Sleep, but never past the deadline (then MpGiveUp). */
  async pause(ms: number, what: string): Promise<void> {
    const left = this.deadlineAt - Date.now();
    if (ms >= left) {
      await sleep(left);
      throw new MpGiveUp(`overall deadline of ${((this.opts.deadlineMs ?? DEFAULT_DEADLINE_MS) / 1000).toFixed(1)} s reached (${what})`);
    }
    await sleep(ms);
  }

  async get(url: string): Promise<Page> {
    const maxRetries = this.opts.maxRetries ?? 6;
    const timeoutMs = this.opts.timeoutMs ?? 60_000;
    let last = "";
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (attempt > 0) this.retries++;
      let wait: number | undefined;
      try {
        const res = await fetch(url, {
          headers: { "X-API-KEY": this.key, accept: "application/json" },
          // Never follow: a redirect would carry the key to wherever the server points.
          redirect: "manual",
          signal: anySignal([AbortSignal.timeout(timeoutMs), this.deadline]),
        });
        if (res.status >= 300 && res.status < 400) {
          await res.body?.cancel().catch(() => undefined);
          const loc = res.headers.get("location");
          let target = "no Location";
          try {
            target = loc ? new URL(loc, url).origin : target;
          } catch {
            target = "an unreadable Location";
          }
          throw new MpApiError(
            `Materials Project API answered HTTP ${res.status} redirecting to ${target}: redirects are not followed, so the API key is only ever sent to ${new URL(url).origin}; set MP_API_ENDPOINT to the final address (${url})`,
            res.status,
          );
        }
        if (res.status === 401 || res.status === 403) {
          await res.body?.cancel().catch(() => undefined);
          throw new MpApiError(
            `Materials Project API refused the request (HTTP ${res.status}): the API key is missing, invalid or not allowed; set MP_API_KEY to a valid key (${url})`,
            res.status,
          );
        }
        if (res.status === 429 || res.status >= 500) {
          wait = res.status === 429 ? retryAfterMs(res.headers.get("retry-after")) : undefined;
          await res.body?.cancel().catch(() => undefined);
          last = `HTTP ${res.status}`;
        } else if (!res.ok) {
          const body = (await res.text().catch(() => "")).slice(0, 300);
          throw new MpApiError(`Materials Project API error HTTP ${res.status} for ${url}: ${body}`, res.status);
        } else {
          let text = await res.text();
          let page: ReturnType<typeof readPageText>;
          try {
            page = readPageText(text);
            if (!page) last = `response without a "data" array`;
          } catch {
            page = undefined;
            last = `invalid or truncated JSON (${text.length} bytes)`;
          }
          if (page) {
            // A server echoing the key into its answer must not get it into the cache, the dataset or a log.
            const red = redactDeep(page.data, this.key);
            if (red.hits > 0) {
              this.log(`mp-api: the answer to ${url} contained the API key ${red.hits} time(s); redacted before use and caching`);
              text = JSON.stringify({ data: red.value, meta: { total_doc: page.totalDoc } });
            }
            return { data: red.value as unknown[], totalDoc: page.totalDoc, text };
          }
        }
      } catch (err) {
        if (err instanceof MpApiError) throw new MpApiError(redactSecret(err.message, this.key), err.status);
        if (this.deadline.aborted) throw new MpGiveUp(`overall deadline of ${((this.opts.deadlineMs ?? DEFAULT_DEADLINE_MS) / 1000).toFixed(1)} s reached (${url})`);
        const e = err as Error;
        last = e.name === "TimeoutError" || e.name === "AbortError" ? `timeout after ${timeoutMs} ms` : `network error: ${e.message}`;
      }
      if (attempt === maxRetries) break;
      const delay = Math.min(wait ?? this.backoff(attempt), this.opts.maxBackoffMs ?? 60_000);
      this.log(`mp-api: ${last}; retry ${attempt + 1}/${maxRetries} in ${(delay / 1000).toFixed(2)} s (${url})`);
      await this.pause(delay, url);
    }
    throw new MpGiveUp(redactSecret(`Materials Project API: giving up on ${url} after ${maxRetries + 1} attempts (last: ${last})`, this.key));
  }
}

const DEFAULT_DEADLINE_MS = 4 * 3600_000;

/** How one query (one chemsys pattern) ended. */
export interface MpQueryStatus {
  readonly chemsys?: string;
  readonly cacheDir?: string;
  /** The server's count (meta.total_doc), null when never received. */
  readonly totalDoc: number | null;
  /** Documents received (server positions walked), valid or not, duplicates included. */
  readonly received: number;
  readonly complete: boolean;
  /** Why it is not complete (absent when complete or stopped by maxDocs). */
  readonly missing?: string;
}

export interface MpCollectResult {
  /** Unique valid documents in the order first seen. */
  readonly documents: MpXasDocument[];
  /** "complete": every query reached its total_doc; "max-docs": stopped at maxDocs; "incomplete": see `missing`. */
  readonly status: "complete" | "max-docs" | "incomplete";
  readonly queries: MpQueryStatus[];
  /** One line per query that did not finish, naming what is missing and why. */
  readonly missing: string[];
  /** Documents skipped because they fail validation, each with its reason. */
  readonly rejected: DroppedSpectrum[];
  readonly pagesFetched: number;
  readonly pagesFromCache: number;
  /** Requests repeated (HTTP retries and page re-checks). */
  readonly retries: number;
  readonly duplicatesSkipped: number;
  /** Cache folders used (one per chemsys pattern). */
  readonly cacheDirs: string[];
  /** Temp files of killed earlier runs removed from the cache folders. */
  readonly staleTempFilesRemoved: number;
}

function pageFile(dir: string, skip: number): string {
  return path.join(dir, `page-${String(skip).padStart(9, "0")}.json`);
}

/** Page files of a cache folder (exact names: temp files of interrupted writes are not pages). */
export const MP_PAGE_FILE = /^page-\d{9}\.json$/;

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
  }
  return typeof v === "number" && !Number.isFinite(v) ? `"${v}"` : JSON.stringify(v) ?? "null";
}

/** Identity of a document: spectrum_id, else task_id-based key (xasDocumentKey), else a hash of its content. */
export function mpDocumentId(doc: unknown): string {
  return xasDocumentKey(doc) ?? `sha256:${crypto.createHash("sha256").update(canonicalJson(doc)).digest("hex").slice(0, 24)}`;
}

/**
 * Check one document for the dataset pipeline: undefined when it is usable, else why not (reason as in
 * dataset quality reports). With `needSpectrum` false (custom `fields` without "spectrum") only the shape
 * of the document is checked.
 */
export function validateMpDocument(doc: unknown, where: string, needSpectrum = true): DroppedSpectrum | undefined {
  const id = mpDocumentId(doc);
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    return { id, source: where, reason: "unreadable-spectrum", message: `${where}: document is not a JSON object` };
  }
  if (!needSpectrum) return undefined;
  const sp = (doc as { spectrum?: unknown }).spectrum;
  const idx = (sp as { absorbing_index?: unknown } | undefined)?.absorbing_index;
  if (typeof idx === "number" && idx < 0) {
    return { id, source: where, reason: "wrong-absorber", message: `${where}: absorbing_index ${idx} is negative (null means site-averaged)` };
  }
  const item = spectrumFromXasDocument(doc, where, id);
  if ("drop" in item) return { ...item.drop, id };
  const s = item.spectrum;
  if (s.energy.length < 2) return { id, source: where, reason: "too-short", message: `${where}: spectrum has ${s.energy.length} points` };
  for (let i = 0; i < s.energy.length; i++) {
    if (!Number.isFinite(s.energy[i]) || !Number.isFinite(s.mu[i])) {
      const xy = sp as { x?: unknown[]; y?: unknown[] } | undefined;
      const bad = Number.isFinite(s.energy[i]) ? `y[${i}] = ${String(xy?.y?.[i])}` : `x[${i}] = ${String(xy?.x?.[i])}`;
      return { id, source: where, reason: "nan", message: `${where}: spectrum.${bad} is not a finite number` };
    }
  }
  const n = s.structure.species.length;
  if (s.site >= 0 && (s.site >= n || s.structure.species[s.site] !== s.element)) {
    const what = s.site >= n ? `outside the structure (${n} sites)` : `a ${s.structure.species[s.site]} site, not ${s.element}`;
    return { id, source: where, reason: "wrong-absorber", message: `${where}: absorbing_index ${s.site} is ${what}` };
  }
  try {
    validateStructure(s.structure);
  } catch (err) {
    return { id, source: where, reason: "unreadable-structure", message: errorMessage(err) };
  }
  return undefined;
}

/**
 * Collect every document matching `query` (one query per chemsys pattern), from the cache where a page
 * is already there, else from the API. Safe to kill at any time and re-run: finished pages are kept.
 * Throws MpIncompleteError when a query cannot be completed (unless `allowIncomplete`), MpApiError at
 * once for a refused key, a redirect or another 4xx.
 */
export async function collectMpXas(query: MpXasQuery, opts: MpClientOptions = {}): Promise<MpCollectResult> {
  const key = normaliseApiKey(opts.apiKey ?? process.env.MP_API_KEY);
  const baseUrl = mpBaseUrl(opts.baseUrl ?? process.env.MP_API_ENDPOINT, key);
  const pageSize = opts.pageSize ?? 100;
  if (!(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 1000)) throw new RangeError(`pageSize must be an integer 1..1000, got ${pageSize}`);
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  if (!(deadlineMs > 0)) throw new RangeError(`deadlineMs must be positive, got ${deadlineMs}`);
  const pageChecks = opts.pageChecks ?? 2;
  const fetcher = new PageFetcher(key, opts, Date.now() + deadlineMs);
  const log = (m: string) => fetcher.log(m);
  const needSpectrum = (query.fields ?? DEFAULT_MP_XAS_FIELDS).includes("spectrum");
  const patterns = query.chemsys === undefined ? [undefined] : typeof query.chemsys === "string" ? [query.chemsys] : [...query.chemsys];
  const cacheRoot = opts.cacheDir === undefined ? path.join(workDir(), "cache", "mp-api") : opts.cacheDir;
  const byKey = new Map<string, MpXasDocument>();
  const rejected: DroppedSpectrum[] = [];
  const queries: MpQueryStatus[] = [];
  let pagesFetched = 0;
  let pagesFromCache = 0;
  let duplicates = 0;
  let staleRemoved = 0;
  const cacheDirs: string[] = [];
  let done = 0;
  let totalPages = 0;
  let stopAll: string | undefined; // deadline or a server that keeps failing: later queries are not started
  const enough = () => opts.maxDocs !== undefined && byKey.size >= opts.maxDocs;

  for (const chemsys of patterns) {
    const label = chemsys ? `chemsys ${chemsys}` : "query";
    if (stopAll) {
      queries.push({ chemsys, totalDoc: null, received: 0, complete: false, missing: `${label}: not started (${stopAll})` });
      continue;
    }
    if (enough()) {
      queries.push({ chemsys, totalDoc: null, received: 0, complete: false });
      continue;
    }
    const params = mpXasParams(query, chemsys);
    const hash = crypto.createHash("sha256").update(JSON.stringify({ baseUrl, params, pageSize })).digest("hex").slice(0, 16);
    const dir = cacheRoot ? path.join(cacheRoot, hash) : undefined;
    let manifest: Manifest = { version: 2, baseUrl, params, pageSize, totalDoc: null, pages: {}, complete: false };
    const mf = dir ? path.join(dir, "manifest.json") : undefined;
    if (dir && mf) {
      fs.mkdirSync(dir, { recursive: true });
      cacheDirs.push(dir);
      const stale = removeStaleTempFiles(dir);
      if (stale.length) log(`mp-api: removed ${stale.length} temp file(s) of an interrupted run in ${dir}`);
      staleRemoved += stale.length;
      if (fs.existsSync(mf)) {
        try {
          const m = JSON.parse(fs.readFileSync(mf, "utf8")) as Partial<Manifest>;
          // Only the server's count is carried over; `complete` is re-derived from the pages on disk.
          const t = m.totalDoc;
          manifest.totalDoc = Number.isSafeInteger(t) && (t as number) >= 0 ? (t as number) : null;
          manifest.pages = m.pages && typeof m.pages === "object" ? m.pages : {};
        } catch {
          log(`mp-api: unreadable ${mf}; pages on disk are re-checked`);
        }
      }
    }
    const saveManifest = () => {
      if (mf) writeFileAtomic(mf, JSON.stringify(manifest, null, 1));
    };
    const seen = new Map<string, number>(); // identity → first position received in this query
    let total = manifest.totalDoc;
    let cap = pageSize; // documents per page the server actually serves
    let shortPages = 0;
    let pages = 0;
    let skip = 0;
    let missing: string | undefined;
    let patternPages = total !== null ? Math.max(1, Math.ceil(total / pageSize)) : 1;
    totalPages += patternPages;

    const problemOf = (p: { data: unknown[]; totalDoc: number | null }, prevShort?: unknown[]): string | "short" | undefined => {
      const n = p.data.length;
      if (p.totalDoc === null) return "the answer has no meta.total_doc, so completeness cannot be checked";
      if (total !== null && p.totalDoc !== total) {
        return `total_doc changed from ${total} to ${p.totalDoc}${dir ? ` (if the server's data changed since the cached pages were fetched, delete ${dir} to collect afresh)` : ""}`;
      }
      if (n === 0 && skip < p.totalDoc) return `empty page at ${skip} of ${p.totalDoc} documents`;
      if (n > pageSize) return `${n} documents for _limit=${pageSize}`;
      if (skip + n > p.totalDoc) return `documents ${skip}..${skip + n} past total_doc ${p.totalDoc}`;
      // A page that repeats a run of earlier positions in order (a server ignoring or mis-applying _skip);
      // scattered server-side duplicates are normal and only counted. A one-document page cannot be told
      // apart: the page ceiling bounds that case.
      if (n > 1) {
        const first = seen.get(mpDocumentId(p.data[0]));
        if (first !== undefined && p.data.every((d, i) => seen.get(mpDocumentId(d)) === first + i)) {
          return `the page repeats documents ${first}..${first + n - 1} already received (does the server ignore _skip?)`;
        }
      }
      if (n < Math.min(cap, p.totalDoc - skip)) {
        // A server capping _limit answers the same again: accept it then, and expect that size.
        const same = prevShort && prevShort.length === n && prevShort.every((d, i) => mpDocumentId(d) === mpDocumentId(p.data[i]));
        return same ? undefined : "short";
      }
      return undefined;
    };

    try {
      for (;;) {
        if (enough()) break;
        if (total !== null && skip >= total) break;
        if (total !== null && pages >= Math.ceil(total / cap) + shortPages) {
          missing = `page ceiling reached (${pages} pages for total_doc ${total} at ≤ ${cap} per page) at ${skip} of ${total} documents`;
          break;
        }
        const file = dir ? pageFile(dir, skip) : undefined;
        let data: unknown[] | undefined;
        let pageTotal: number | null = null;
        if (file && fs.existsSync(file)) {
          try {
            const c = readPageText(fs.readFileSync(file, "utf8"));
            // An empty cached page (a version-1 cache could hold one) is never trusted: fetch it again.
            if (c && c.data.length > 0) {
              data = c.data;
              pageTotal = c.totalDoc ?? manifest.totalDoc;
            }
          } catch {
            data = undefined; // atomic writes make this unlikely; fetch it again
          }
          if (data && pageTotal === null) data = undefined; // the total is unknown: ask the server
          if (data && total !== null && pageTotal !== total) {
            missing = `the cached page at ${skip} says total_doc ${pageTotal}, earlier pages ${total}: the server's data changed since; delete ${dir} to collect afresh`;
            break;
          }
          if (data) {
            total = pageTotal;
            pagesFromCache++;
          }
        }
        if (!data) {
          const qs = new URLSearchParams([...params, ["_skip", String(skip)], ["_limit", String(pageSize)]]);
          const url = `${baseUrl}/materials/xas/?${qs.toString()}`;
          let page: Page | undefined;
          let prevShort: unknown[] | undefined;
          for (let check = 0; ; check++) {
            const p = await fetcher.get(url);
            const problem = problemOf(p, prevShort);
            if (problem === undefined) {
              page = p;
              break;
            }
            if (problem === "short") prevShort = p.data;
            const what = problem === "short" ? `short page (${p.data.length} documents at ${skip} of ${p.totalDoc})` : problem;
            if (check >= pageChecks) {
              missing = `${what}, still after ${pageChecks} re-fetch(es) (${url})`;
              break;
            }
            fetcher.retries++;
            log(`mp-api: ${what}; fetching the page again (${check + 1}/${pageChecks})`);
            await fetcher.pause(fetcher.backoff(check), url);
          }
          if (!page) break;
          data = page.data;
          pagesFetched++;
          if (data.length < Math.min(cap, page.totalDoc! - skip)) {
            log(`mp-api: the server serves ${data.length} documents per page (asked ${pageSize}); continuing with that`);
            cap = data.length;
            shortPages++;
          }
          if (total === null) {
            total = page.totalDoc!;
            const n = Math.max(1, Math.ceil(total / pageSize));
            totalPages += n - patternPages;
            patternPages = n;
          }
          manifest.totalDoc = total;
          if (file) {
            writeFileAtomic(file, page.text);
            manifest.pages[String(skip)] = data.length;
            saveManifest();
          }
        }
        data.forEach((d, i) => {
          const id = mpDocumentId(d);
          const firstTime = !seen.has(id);
          if (firstTime) seen.set(id, skip + i);
          const bad = validateMpDocument(d, `mp-api:${label}:_skip=${skip}+${i}`, needSpectrum);
          if (bad) {
            if (firstTime) rejected.push(bad);
            return;
          }
          if (byKey.has(id)) duplicates++;
          else byKey.set(id, d as MpXasDocument);
        });
        pages++;
        skip += data.length;
        done++;
        opts.onProgress?.(done, Math.max(totalPages, done));
      }
    } catch (err) {
      if (!(err instanceof MpGiveUp)) throw err;
      missing = err.message;
      stopAll = err.message;
    }
    const complete = missing === undefined && total !== null && skip === total;
    if (missing === undefined && !complete && !enough()) missing = `stopped at ${skip} of ${total ?? "?"} documents`;
    const q: MpQueryStatus = {
      chemsys,
      cacheDir: dir,
      totalDoc: total,
      received: skip,
      complete,
      missing: missing === undefined ? undefined : `${label}: ${skip} of ${total ?? "?"} documents received; ${missing}`,
    };
    queries.push(q);
    if (q.missing) log(`mp-api: incomplete: ${q.missing}`);
    if (dir) {
      manifest.totalDoc = total;
      manifest.complete = complete;
      manifest.missing = q.missing;
      if (!q.missing) delete manifest.missing;
      saveManifest();
    }
  }
  const missing = queries.flatMap((q) => (q.missing ? [q.missing] : []));
  const status = missing.length > 0 ? "incomplete" : queries.every((q) => q.complete) ? "complete" : "max-docs";
  if (status === "max-docs") log(`mp-api: stopped at the configured maximum of ${opts.maxDocs} documents (not the whole collection)`);
  if (rejected.length) log(`mp-api: ${rejected.length} document(s) skipped as invalid (listed in the result's "rejected")`);
  const result: MpCollectResult = {
    documents: [...byKey.values()],
    status,
    queries,
    missing,
    rejected,
    pagesFetched,
    pagesFromCache,
    retries: fetcher.retries,
    duplicatesSkipped: duplicates,
    cacheDirs,
    staleTempFilesRemoved: staleRemoved,
  };
  if (status === "incomplete" && !opts.allowIncomplete) {
    const msg = `Materials Project collection incomplete (${byKey.size} documents kept; the cache keeps every page received, re-run to resume):\n  ${missing.join("\n  ")}`;
    throw new MpIncompleteError(redactSecret(msg, key), result);
  }
  return result;
}
