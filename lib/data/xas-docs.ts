import { structureFromPymatgen } from "../structure";
import type { Structure } from "../structure/types";
import type { SiteSpectrum } from "../spectra/types";
import { SourceItem } from "./sources";
import { errorMessage } from "../util/errors";
import { streamJsonFile } from "./json-stream";

/** The parts of a Materials Project XAS document (GET /materials/xas/) the pipeline reads. */
export interface MpXasDocument {
  readonly task_id?: string;
  readonly material_id?: string;
  readonly spectrum_id?: string;
  readonly formula_pretty?: string;
  readonly nelements?: number;
  readonly elements?: string[];
  readonly chemsys?: string;
  readonly edge?: string;
  readonly absorbing_element?: string;
  readonly spectrum_type?: string;
  readonly spectrum?: PymatgenXasDict;
  readonly [key: string]: unknown;
}

/** pymatgen `XAS.as_dict()`. */
export interface PymatgenXasDict {
  readonly x: number[];
  readonly y: number[];
  readonly structure: unknown;
  readonly absorbing_element?: string;
  readonly absorbing_index?: number | null;
  readonly edge?: string;
  readonly spectrum_type?: string;
  readonly [key: string]: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Stable key for de-duplication: spectrum_id when present, else task/material id + type/element/edge/site. */
export function xasDocumentKey(doc: unknown): string | undefined {
  if (!isObject(doc)) return undefined;
  if (typeof doc.spectrum_id === "string") return doc.spectrum_id;
  const sp = isObject(doc.spectrum) ? doc.spectrum : doc;
  const id = doc.task_id ?? doc.material_id ?? doc.mp_id;
  if (typeof id !== "string") return undefined;
  return [id, sp.spectrum_type ?? doc.spectrum_type, sp.absorbing_element ?? doc.absorbing_element, sp.edge ?? doc.edge, sp.absorbing_index ?? ""].join("-");
}

function toFloat64(v: unknown, what: string, where: string): Float64Array {
  if (!Array.isArray(v)) throw new Error(`${where}: ${what} is not an array`);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    // Non-numbers become NaN so the builder reports them as "nan" with the others.
    out[i] = typeof x === "number" ? x : NaN;
  }
  return out;
}

/**
 * One MP XAS document or one pymatgen XAS dict → a SiteSpectrum (or a reported drop).
 * MP serves site-averaged spectra (absorbing_index null) → site = −1.
 * `where` names the file/URL and position for messages.
 */
export function spectrumFromXasDocument(doc: unknown, where: string, fallbackId?: string): SourceItem {
  if (!isObject(doc)) {
    return { drop: { id: fallbackId ?? where, source: where, reason: "unreadable-spectrum", message: `${where}: document is not a JSON object` } };
  }
  const sp = isObject(doc.spectrum) ? doc.spectrum : "x" in doc ? doc : undefined;
  const idRaw = doc.task_id ?? doc.material_id ?? doc.mp_id ?? fallbackId;
  const materialId = typeof idRaw === "string" ? idRaw : where;
  if (!sp) {
    return { drop: { id: materialId, source: where, reason: "unreadable-spectrum", message: `${where}: no "spectrum" (ask the API for _fields=spectrum)` } };
  }
  const idxRaw = sp.absorbing_index;
  // null/absent = site-averaged; anything else must be a site index (a string "11" is not read as "averaged").
  if (idxRaw !== null && idxRaw !== undefined && !Number.isInteger(idxRaw)) {
    return { drop: { id: `${materialId}/?`, source: where, reason: "wrong-absorber", message: `${where}: absorbing_index ${JSON.stringify(idxRaw)} is not an integer site index or null` } };
  }
  const site = typeof idxRaw === "number" ? idxRaw : -1;
  const id = `${materialId}/${site}`;
  let energy: Float64Array;
  let mu: Float64Array;
  try {
    energy = toFloat64(sp.x, "spectrum.x", where);
    mu = toFloat64(sp.y, "spectrum.y", where);
    if (energy.length !== mu.length) throw new Error(`${where}: spectrum.x has ${energy.length} points, spectrum.y ${mu.length}`);
  } catch (err) {
    return { drop: { id, source: where, reason: "unreadable-spectrum", message: errorMessage(err) } };
  }
  const element = sp.absorbing_element ?? doc.absorbing_element;
  if (typeof element !== "string") {
    return { drop: { id, source: where, reason: "unreadable-spectrum", message: `${where}: no absorbing_element` } };
  }
  let structure: Structure;
  try {
    structure = structureFromPymatgen(sp.structure ?? doc.structure, `${where} (${materialId})`);
  } catch (err) {
    return { drop: { id, source: where, reason: "unreadable-structure", message: errorMessage(err) } };
  }
  const spectrum: SiteSpectrum = {
    materialId,
    site,
    element,
    edge: String(sp.edge ?? doc.edge ?? "K"),
    spectrumType: String(sp.spectrum_type ?? doc.spectrum_type ?? "XANES"),
    energy,
    mu,
    energyRelative: false,
    structure,
    source: where,
  };
  return { spectrum };
}

/**
 * Stream a file of MP XAS documents or pymatgen XAS dicts (JSON array, JSON lines or API page
 * envelopes `{"data": [...]}`; gzip detected by content) as source items.
 * A document that fails to parse as JSON ends the stream with an InputError naming file and line.
 */
export async function* collectXasDocumentFile(filePath: string): AsyncGenerator<SourceItem> {
  let n = 0;
  for await (const { value, line } of streamJsonFile(filePath)) {
    const docs = isObject(value) && Array.isArray(value.data) && !("spectrum" in value) && !("x" in value) ? value.data : [value];
    for (const doc of docs) {
      n++;
      yield spectrumFromXasDocument(doc, `${filePath}:${line}`, `${filePath}#${n}`);
    }
  }
}

/** The same for documents already in memory (e.g. from the API client). */
export function* collectXasDocuments(docs: Iterable<unknown>, source = "mp-api"): Generator<SourceItem> {
  let n = 0;
  for (const doc of docs) {
    n++;
    const key = xasDocumentKey(doc) ?? `#${n}`;
    yield spectrumFromXasDocument(doc, `${source}:${key}`, `${source}#${n}`);
  }
}
