/**
 * A local stand-in for GET /materials/xas/ that serves schema-true documents and injects faults.
 * Binds 127.0.0.1 only, refuses requests past `maxRequests`, and closes itself after `lifetimeMs`.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { AddressInfo } from "node:net";
import { sharedDataDir } from "../../lib/config";
import { createRng } from "../../lib/util/random";

export const REAL_MP_DOC_PATH = path.join(sharedDataDir(), "mp-api", "xasdoc_nonpos_mp_626735.json");

const CATIONS = ["Li", "Na", "Mg", "Al", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Zr", "Nb", "Sn", "La", "Ba"];

/**
 * `n` O K-edge XANES documents in the real MP schema, derived from the real document: ids, species
 * (binary M–O and ternary M–N–O variants of the same cell), energies and intensities vary per document.
 * absorbing_index is null as the live endpoint serves site-averaged spectra.
 */
export function makeMpDocuments(n: number, seed = 1): any[] {
  const real = JSON.parse(fs.readFileSync(REAL_MP_DOC_PATH, "utf8"));
  const rng = createRng(seed);
  const docs: any[] = [];
  for (let i = 0; i < n; i++) {
    const doc = JSON.parse(JSON.stringify(real));
    const id = `mp-${100000 + i * 7}`;
    const m1 = CATIONS[Math.floor(rng() * CATIONS.length)];
    let m2 = CATIONS[Math.floor(rng() * CATIONS.length)];
    if (m2 === m1) m2 = "O"; // some binaries
    const map: Record<string, string> = { Ba: m1, H: m2, O: "O" };
    const st = doc.spectrum.structure;
    for (const site of st.sites) {
      const el = map[site.species[0].element];
      site.species[0].element = el;
      site.label = el;
    }
    const comp: Record<string, number> = {};
    for (const site of st.sites) comp[site.species[0].element] = (comp[site.species[0].element] ?? 0) + 1;
    const elements = Object.keys(comp).sort();
    const x: number[] = [];
    const y: number[] = [];
    const e0 = 530 + 6 * rng();
    const start = 518 + 4 * rng();
    for (let k = 0; k < 200; k++) {
      const e = start + k * 0.25;
      x.push(e);
      y.push(0.05 + 1 / (1 + Math.exp(-(e - e0) / 0.7)) + 0.3 * Math.exp(-(((e - e0 - 8 - 4 * rng()) / 2) ** 2)));
    }
    Object.assign(doc, {
      task_id: id,
      spectrum_id: `${id}-XANES-O-K`,
      elements,
      nelements: elements.length,
      chemsys: elements.join("-"),
      composition: comp,
      formula_pretty: elements.map((e) => `${e}${comp[e] > 1 ? comp[e] : ""}`).join(""),
      absorbing_element: "O",
      edge: "K",
      spectrum_type: "XANES",
    });
    Object.assign(doc.spectrum, { x, y, absorbing_element: "O", edge: "K", spectrum_type: "XANES", absorbing_index: null });
    docs.push(doc);
  }
  return docs;
}

/** A fault to inject for one request. */
export type MpFault =
  | { kind: "429"; retryAfter?: string }
  | { kind: "500" }
  | { kind: "timeout"; stallMs: number }
  | { kind: "truncate" }
  | { kind: "401" }
  | { kind: "400-echo-key" }
  /** HTTP `status` with a Location header (an absolute URL, or a path on this server). */
  | { kind: "redirect"; status?: number; location: string }
  /**
   * A page that cannot be right: `edit` gets the page the server would send, every matching
   * document, and the request; it returns what to send instead (data, total_doc — null drops it —
   * or the whole body as text, e.g. with a NaN literal).
   */
  | { kind: "page"; edit: (page: any[], all: any[], req: MpRequestInfo) => { data?: any[]; total?: number | null; text?: string } };

export interface MpRequestInfo {
  /** 1-based count of all requests. */
  readonly n: number;
  readonly skip: number;
  readonly limit: number;
  /** 1-based count of requests for this skip. */
  readonly attempt: number;
  readonly time: number;
}

export interface MpServerOptions {
  readonly docs: readonly any[];
  readonly apiKey: string;
  readonly fault?: (req: MpRequestInfo) => MpFault | undefined;
  /** Delay before every answer (to make a client slow enough to kill mid-run). */
  readonly delayMs?: number;
  readonly maxRequests?: number;
  readonly lifetimeMs?: number;
  /** Serve at most this many documents per page whatever _limit asks (as servers capping _limit do). */
  readonly maxPage?: number;
  /** Called when a full, successful page has been sent. */
  readonly onPageServed?: (skip: number, count: number) => void;
}

export interface MpServer {
  readonly url: string;
  readonly requests: MpRequestInfo[];
  readonly pagesServed: () => number;
  close(): Promise<void>;
}

function matchesChemsys(elements: string[], pattern: string): boolean {
  const parts = pattern.split("-");
  if (parts.length !== elements.length) return false;
  return parts.filter((p) => p !== "*").every((p) => elements.includes(p));
}

export function startMpServer(opts: MpServerOptions): Promise<MpServer> {
  const requests: MpRequestInfo[] = [];
  const attempts = new Map<number, number>();
  let served = 0;
  const maxRequests = opts.maxRequests ?? 1000;
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const skip = Number(url.searchParams.get("_skip") ?? 0);
    const limit = Math.min(Number(url.searchParams.get("_limit") ?? 100), opts.maxPage ?? Infinity);
    const attempt = (attempts.get(skip) ?? 0) + 1;
    attempts.set(skip, attempt);
    const info: MpRequestInfo = { n: requests.length + 1, skip, limit, attempt, time: Date.now() };
    requests.push(info);
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(body);
    };
    if (requests.length > maxRequests) return send(503, JSON.stringify({ detail: "request budget of the test server exhausted" }));
    if (url.pathname !== "/materials/xas/") return send(404, JSON.stringify({ detail: "not found" }));
    const key = req.headers["x-api-key"];
    setTimeout(() => {
      const fault = opts.fault?.(info);
      if (fault?.kind === "401" || key !== opts.apiKey) return send(401, JSON.stringify({ detail: `invalid API key ${String(key)}` }));
      if (fault?.kind === "400-echo-key") return send(400, JSON.stringify({ detail: `bad request from key ${String(key)}` }));
      if (fault?.kind === "429") return send(429, JSON.stringify({ detail: "rate limited" }), fault.retryAfter !== undefined ? { "retry-after": fault.retryAfter } : {});
      if (fault?.kind === "500") return send(500, JSON.stringify({ detail: "internal error" }));
      if (fault?.kind === "redirect") return send(fault.status ?? 302, "", { location: fault.location });
      let docs = opts.docs as any[];
      const filter = (k: string, get: (d: any) => unknown) => {
        const v = url.searchParams.get(k);
        if (v !== null) docs = docs.filter((d) => get(d) === v);
      };
      filter("absorbing_element", (d) => d.absorbing_element);
      filter("edge", (d) => d.edge);
      filter("spectrum_type", (d) => d.spectrum_type);
      const cs = url.searchParams.get("chemsys");
      if (cs) docs = docs.filter((d) => matchesChemsys(d.elements, cs));
      const fields = url.searchParams.get("_fields")?.split(",");
      const page = docs.slice(skip, skip + limit).map((d) => (fields ? Object.fromEntries(Object.entries(d).filter(([k]) => fields.includes(k))) : d));
      let body = JSON.stringify({ data: page, errors: [], meta: { total_doc: docs.length, max_limit: 1000 } });
      if (fault?.kind === "page") {
        const e = fault.edit(page, docs, info);
        const total = e.total === undefined ? docs.length : e.total;
        body = e.text ?? JSON.stringify({ data: e.data ?? page, errors: [], meta: total === null ? { max_limit: 1000 } : { total_doc: total, max_limit: 1000 } });
      }
      if (fault?.kind === "timeout") {
        res.writeHead(200, { "content-type": "application/json" });
        res.write(body.slice(0, 10));
        setTimeout(() => res.end(body.slice(10)), fault.stallMs);
        return;
      }
      if (fault?.kind === "truncate") return send(200, body.slice(0, Math.floor(body.length / 2)));
      send(200, body);
      served++;
      opts.onPageServed?.(skip, page.length);
    }, opts.delayMs ?? 0);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const close = () =>
    new Promise<void>((resolve) => {
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  const timer = setTimeout(() => void close(), opts.lifetimeMs ?? 60_000);
  timer.unref();
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, requests, pagesServed: () => served, close });
    });
  });
}
