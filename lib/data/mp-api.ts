import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { workDir } from "../config";
import { writeFileAtomic } from "../util/fs";
import { xasDocumentKey, MpXasDocument } from "./xas-docs";

/**
 * Materials Project XAS client (GET /materials/xas/), built for long, interruptible collections:
 * per-request timeout, retries with backoff on 429 (honouring Retry-After), 5xx, network errors,
 * timeouts and truncated bodies; a clear error on 401/403; an on-disk page cache written atomically so
 * a killed run resumes where it stopped; de-duplication by spectrum_id. The API key is read from
 * MP_API_KEY (or an option), sent only as the X-API-KEY header, and redacted from every message.
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
  /** Default: process.env.MP_API_KEY. */
  readonly apiKey?: string;
  /** Default: process.env.MP_API_ENDPOINT or https://api.materialsproject.org */
  readonly baseUrl?: string;
  /** Documents per request (_limit), 1..1000, default 100. */
  readonly pageSize?: number;
  /** Per-request timeout, default 60 s. */
  readonly timeoutMs?: number;
  /** Retries per page after the first attempt, default 6. */
  readonly maxRetries?: number;
  /** First backoff delay, doubled per retry with ±25% jitter, default 1 s; capped by maxBackoffMs (60 s). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Root of the page cache (a folder per query is made inside); null disables caching. Default workDir()/cache/mp-api. */
  readonly cacheDir?: string | null;
  /** Stop once at least this many documents are collected (quick runs). */
  readonly maxDocs?: number;
  /** (pages done, pages known in total) after every page, cached or fetched. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Retry and cache messages (already redacted). */
  readonly log?: (message: string) => void;
}

export class MpApiError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = "MpApiError";
  }
}

/** Replace every occurrence of `secret` in `text` (no-op for empty secrets). */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  return text.split(secret).join("[REDACTED]");
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

interface Manifest {
  readonly baseUrl: string;
  readonly params: [string, string][];
  readonly pageSize: number;
  totalDoc: number | null;
  /** skip → documents in that page file. */
  pages: Record<string, number>;
  complete: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(h);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}

interface Page {
  readonly data: MpXasDocument[];
  readonly totalDoc: number | null;
}

class PageFetcher {
  constructor(
    private readonly key: string,
    private readonly opts: MpClientOptions,
  ) {}

  private log(msg: string): void {
    this.opts.log?.(redactSecret(msg, this.key));
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.opts.maxBackoffMs ?? 60_000, (this.opts.backoffMs ?? 1000) * 2 ** attempt);
    return base * (0.75 + 0.5 * Math.random());
  }

  async get(url: string): Promise<Page> {
    const maxRetries = this.opts.maxRetries ?? 6;
    let last = "";
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      let wait: number | undefined;
      try {
        const res = await fetch(url, {
          headers: { "X-API-KEY": this.key, accept: "application/json" },
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000),
        });
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
          const text = await res.text();
          let parsed: any;
          try {
            parsed = JSON.parse(text);
          } catch (err) {
            parsed = undefined;
            last = `invalid or truncated JSON (${text.length} bytes)`;
          }
          if (parsed !== undefined) {
            if (parsed && Array.isArray(parsed.data)) {
              const total = parsed.meta?.total_doc;
              return { data: parsed.data, totalDoc: typeof total === "number" ? total : null };
            }
            last = `response without a "data" array`;
          }
        }
      } catch (err) {
        if (err instanceof MpApiError) throw new MpApiError(redactSecret(err.message, this.key), err.status);
        const e = err as Error;
        last = e.name === "TimeoutError" || e.name === "AbortError" ? `timeout after ${this.opts.timeoutMs ?? 60_000} ms` : `network error: ${e.message}`;
      }
      if (attempt === maxRetries) break;
      const delay = Math.min(wait ?? this.backoff(attempt), this.opts.maxBackoffMs ?? 60_000);
      this.log(`mp-api: ${last}; retry ${attempt + 1}/${maxRetries} in ${(delay / 1000).toFixed(2)} s (${url})`);
      await sleep(delay);
    }
    throw new MpApiError(redactSecret(`Materials Project API: giving up on ${url} after ${maxRetries + 1} attempts (last: ${last})`, this.key));
  }
}

export interface MpCollectResult {
  /** Unique documents in the order first seen. */
  readonly documents: MpXasDocument[];
  readonly pagesFetched: number;
  readonly pagesFromCache: number;
  readonly duplicatesSkipped: number;
  /** Cache folders used (one per chemsys pattern). */
  readonly cacheDirs: string[];
}

function pageFile(dir: string, skip: number): string {
  return path.join(dir, `page-${String(skip).padStart(9, "0")}.json`);
}

/**
 * Collect every document matching `query` (one query per chemsys pattern), from the cache where a page
 * is already there, else from the API. Safe to kill at any time and re-run: finished pages are kept.
 */
export async function collectMpXas(query: MpXasQuery, opts: MpClientOptions = {}): Promise<MpCollectResult> {
  const key = opts.apiKey ?? process.env.MP_API_KEY ?? "";
  if (!key) throw new MpApiError("no Materials Project API key: set MP_API_KEY or pass apiKey");
  const baseUrl = (opts.baseUrl ?? process.env.MP_API_ENDPOINT ?? "https://api.materialsproject.org").replace(/\/+$/, "");
  const pageSize = opts.pageSize ?? 100;
  if (!(pageSize >= 1 && pageSize <= 1000)) throw new RangeError(`pageSize must be 1..1000, got ${pageSize}`);
  const fetcher = new PageFetcher(key, opts);
  const patterns = query.chemsys === undefined ? [undefined] : typeof query.chemsys === "string" ? [query.chemsys] : [...query.chemsys];
  const cacheRoot = opts.cacheDir === undefined ? path.join(workDir(), "cache", "mp-api") : opts.cacheDir;
  const byKey = new Map<string, MpXasDocument>();
  const unkeyed: MpXasDocument[] = [];
  let pagesFetched = 0;
  let pagesFromCache = 0;
  let duplicates = 0;
  const cacheDirs: string[] = [];
  let done = 0;
  let totalPages = 0;
  const enough = () => opts.maxDocs !== undefined && byKey.size + unkeyed.length >= opts.maxDocs;

  for (const chemsys of patterns) {
    if (enough()) break;
    const params = mpXasParams(query, chemsys);
    const hash = crypto.createHash("sha256").update(JSON.stringify({ baseUrl, params, pageSize })).digest("hex").slice(0, 16);
    const dir = cacheRoot ? path.join(cacheRoot, hash) : undefined;
    let manifest: Manifest = { baseUrl, params, pageSize, totalDoc: null, pages: {}, complete: false };
    if (dir) {
      fs.mkdirSync(dir, { recursive: true });
      cacheDirs.push(dir);
      const mf = path.join(dir, "manifest.json");
      if (fs.existsSync(mf)) {
        try {
          manifest = JSON.parse(fs.readFileSync(mf, "utf8"));
        } catch {
          opts.log?.(`mp-api: unreadable ${mf}; pages on disk are re-checked`);
        }
      }
    }
    const addPage = (docs: MpXasDocument[]) => {
      for (const d of docs) {
        const k = xasDocumentKey(d);
        if (k === undefined) unkeyed.push(d);
        else if (byKey.has(k)) duplicates++;
        else byKey.set(k, d);
      }
    };
    let patternPages = manifest.totalDoc !== null ? Math.max(1, Math.ceil(manifest.totalDoc / pageSize)) : 1;
    totalPages += patternPages;
    // skip advances by the documents actually received, so a server that caps _limit loses nothing.
    for (let skip = 0; ; ) {
      if (enough()) break;
      let docs: MpXasDocument[] | undefined;
      const file = dir ? pageFile(dir, skip) : undefined;
      if (file && fs.existsSync(file)) {
        try {
          docs = JSON.parse(fs.readFileSync(file, "utf8"));
          pagesFromCache++;
        } catch {
          docs = undefined; // atomic writes make this unlikely; refetch if it happens
        }
      }
      if (!docs) {
        const qs = new URLSearchParams([...params, ["_skip", String(skip)], ["_limit", String(pageSize)]]);
        const page = await fetcher.get(`${baseUrl}/materials/xas/?${qs.toString()}`);
        docs = page.data;
        pagesFetched++;
        if (page.totalDoc !== null && page.totalDoc !== manifest.totalDoc) {
          manifest.totalDoc = page.totalDoc;
          const n = Math.max(1, Math.ceil(page.totalDoc / pageSize));
          totalPages += n - patternPages;
          patternPages = n;
        }
        if (file && dir) {
          writeFileAtomic(file, JSON.stringify(docs));
          manifest.pages[String(skip)] = docs.length;
          writeFileAtomic(path.join(dir, "manifest.json"), JSON.stringify(manifest, null, 1));
        }
      }
      addPage(docs);
      done++;
      opts.onProgress?.(done, Math.max(totalPages, done));
      const last = docs.length === 0 || (manifest.totalDoc !== null ? skip + docs.length >= manifest.totalDoc : docs.length < pageSize);
      skip += docs.length;
      if (last) {
        if (dir && !manifest.complete) {
          manifest.complete = true;
          writeFileAtomic(path.join(dir, "manifest.json"), JSON.stringify(manifest, null, 1));
        }
        break;
      }
    }
  }
  return {
    documents: [...byKey.values(), ...unkeyed],
    pagesFetched,
    pagesFromCache,
    duplicatesSkipped: duplicates,
    cacheDirs,
  };
}
