/**
 * Athena / Demeter project files (`.prj`, gzip-compressed or plain text; Ravel & Newville,
 * J. Synchrotron Rad. 12, 537 (2005)). The format is Perl source: a `# Athena project file` header,
 * then per record `$old_group = '…';`, `@args = ('key', value, …);` (label, bkg_z, fft_edge, bkg_e0,
 * bkg_eshift, is_xmu, is_chi, is_kev, …), `@x = (…);` (energy), `@y = (…);` (mu for is_xmu records),
 * optional `@i0`, `@signal`, `@stddev`, and a `[record]` line; then `@journal` and `1;`.
 *
 * Energies are reported as Athena shows them: x (× 1000 when is_kev) + bkg_eshift (the user's
 * calibration shift). Only mu(E) records (is_xmu) give a spectrum; chi(k) and other records are listed
 * and refused by name. Several records can be averaged after a check that their edges are aligned.
 */
import * as fs from "node:fs";
import * as zlib from "node:zlib";
import { InputError } from "../util/errors";
import { strictNumber } from "../util/numbers";
import { findE0 } from "./normalize";
import { MeasuredSpectrum, orderedSpectrum } from "./xdi";

/** A Perl value of @args: string, number, or a nested list ([…] or (…)). */
export type PerlValue = string | number | PerlValue[];

export interface AthenaRecord {
  /** 0-based position in the file. */
  readonly index: number;
  /** `label` of @args (falls back to the group name). */
  readonly label: string;
  readonly group: string;
  /** @args as key → value. */
  readonly args: ReadonlyMap<string, PerlValue>;
  /** Arrays of the record (x, y, i0, signal, stddev, …), as numbers. */
  readonly arrays: ReadonlyMap<string, Float64Array>;
  /** 1-based line of `$old_group` in the (decompressed) text. */
  readonly line: number;
  readonly kind: "mu" | "chi" | "other";
  readonly element?: string;
  readonly edge?: string;
  readonly e0?: number;
}

export interface AthenaProject {
  readonly source: string;
  /** The header's first line ("Athena project file -- Demeter version 0.9.20"). */
  readonly version: string;
  readonly records: readonly AthenaRecord[];
}

/**
 * Decompress if gzip (magic 1f 8b), decode as latin-1 (Perl writes bytes; labels may carry any).
 * The browser has no node:zlib: the page gunzips with DecompressionStream and passes plain bytes.
 */
export function athenaText(bytes: Uint8Array, source: string): string {
  let b = bytes;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      b = zlib.gunzipSync(b);
    } catch (e) {
      throw new InputError(`${source}: gzip-compressed but cannot be decompressed (${(e as Error).message})`);
    }
  }
  return latin1(b);
}

/**
 * Bytes as latin-1 text (one char per byte), without Node's Buffer so the browser page can read
 * projects too (TextDecoder's "latin1" is windows-1252, which remaps 0x80–0x9f).
 */
export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/** True when the bytes look like an Athena project (gzip or the header line). */
export function looksLikeAthena(bytes: Uint8Array): boolean {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return true;
  return /^#\s*Athena project file/.test(latin1(bytes.subarray(0, 64)));
}

/** Tokenise and read one Perl list literal starting at text[pos] === "(" or "[". */
class PerlListReader {
  pos: number;
  constructor(private readonly text: string, pos: number, private readonly where: () => string) {
    this.pos = pos;
  }
  private skip(): void {
    const t = this.text;
    while (this.pos < t.length && /\s/.test(t[this.pos])) this.pos++;
  }
  list(): PerlValue[] {
    const t = this.text;
    const open = t[this.pos];
    const close = open === "(" ? ")" : open === "[" ? "]" : open === "{" ? "}" : "";
    if (!close) throw new InputError(`${this.where()}: expected a list, found "${t.slice(this.pos, this.pos + 20)}"`);
    this.pos++;
    const out: PerlValue[] = [];
    for (;;) {
      this.skip();
      if (this.pos >= t.length) throw new InputError(`${this.where()}: unterminated list`);
      const c = t[this.pos];
      if (c === close) {
        this.pos++;
        return out;
      }
      if (c === "," || (c === "=" && t[this.pos + 1] === ">")) {
        this.pos += c === "," ? 1 : 2;
        continue;
      }
      out.push(this.value());
    }
  }
  private value(): PerlValue {
    const t = this.text;
    const c = t[this.pos];
    if (c === "(" || c === "[" || c === "{") return this.list();
    if (c === "'" || c === '"') {
      let s = "";
      this.pos++;
      while (this.pos < t.length && t[this.pos] !== c) {
        if (t[this.pos] === "\\" && this.pos + 1 < t.length) this.pos++;
        s += t[this.pos++];
      }
      if (this.pos >= t.length) throw new InputError(`${this.where()}: unterminated string`);
      this.pos++;
      return s;
    }
    const m = /^[^\s,()[\]{}]+/.exec(t.slice(this.pos, this.pos + 200));
    if (!m) throw new InputError(`${this.where()}: unexpected "${c}"`);
    this.pos += m[0].length;
    const v = strictNumber(m[0]);
    return Number.isNaN(v) ? m[0] : v;
  }
}

function lineAt(text: string, pos: number): number {
  let n = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < pos; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

function flag(args: ReadonlyMap<string, PerlValue>, key: string): boolean {
  const v = args.get(key);
  return v !== undefined && v !== "" && Number(v) !== 0 && !Number.isNaN(Number(v));
}

/** Parse an Athena project's text (see `athenaText` for the bytes). */
export function parseAthena(text: string, source = "project.prj"): AthenaProject {
  const first = text.slice(0, 200).split(/\r?\n/)[0];
  if (!/^#\s*Athena project file/.test(first)) {
    throw new InputError(`${source}:1: not an Athena project file (line 1 must start with "# Athena project file", found "${first.slice(0, 40)}")`);
  }
  const records: AthenaRecord[] = [];
  const re = /^\$old_group\s*=\s*'([^']*)'\s*;/gm;
  const starts: { pos: number; group: string }[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push({ pos: m.index, group: m[1] });
  for (let r = 0; r < starts.length; r++) {
    const { pos, group } = starts[r];
    const end = r + 1 < starts.length ? starts[r + 1].pos : text.length;
    const line = lineAt(text, pos);
    const args = new Map<string, PerlValue>();
    const arrays = new Map<string, Float64Array>();
    const arr = /^@(\w+)\s*=\s*/gm;
    arr.lastIndex = pos;
    for (let a = arr.exec(text); a !== null && a.index < end; a = arr.exec(text)) {
      const at = a.index;
      const name = a[1];
      if (name === "journal") break;
      const where = () => `${source}:${lineAt(text, at)} (record ${r + 1} "${group}", @${name})`;
      const reader = new PerlListReader(text, a.index + a[0].length, where);
      const list = reader.list();
      arr.lastIndex = reader.pos;
      if (name === "args") {
        if (list.length % 2 !== 0) throw new InputError(`${where()}: odd number of key/value items (${list.length})`);
        for (let i = 0; i < list.length; i += 2) args.set(String(list[i]), list[i + 1]);
        continue;
      }
      const values = new Float64Array(list.length);
      for (let i = 0; i < list.length; i++) {
        const v = list[i];
        const num = typeof v === "number" ? v : typeof v === "string" ? strictNumber(v.trim()) : NaN;
        if (!Number.isFinite(num)) throw new InputError(`${where()}: item ${i + 1} "${String(v).slice(0, 30)}" is not a number`);
        values[i] = num;
      }
      arrays.set(name, values);
    }
    const label = String(args.get("label") ?? group);
    const kind = flag(args, "is_xmu") ? "mu" : flag(args, "is_chi") ? "chi" : "other";
    const z = args.get("bkg_z");
    const edge = args.get("fft_edge");
    const e0 = Number(args.get("bkg_e0"));
    records.push({
      index: r,
      label,
      group,
      args,
      arrays,
      line,
      kind,
      element: typeof z === "string" && z !== "" ? z : undefined,
      edge: typeof edge === "string" && edge !== "" ? edge.toUpperCase() : undefined,
      e0: Number.isFinite(e0) && e0 > 0 ? e0 : undefined,
    });
  }
  if (records.length === 0) throw new InputError(`${source}: Athena project with no records ($old_group lines)`);
  return { source, version: first.replace(/^#\s*/, ""), records };
}

/** Read a `.prj` file (gzip or plain). */
export function readAthenaFile(path: string): AthenaProject {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new InputError(`${path}: cannot read (${(e as Error).message})`);
  }
  return parseAthena(athenaText(bytes, path), path);
}

/** Find a record by 0-based index or exact label; the error lists what exists. */
export function athenaRecord(p: AthenaProject, pick: number | string): AthenaRecord {
  const list = () => p.records.map((r) => `${r.index}: "${r.label}" (${r.kind})`).join("; ");
  if (typeof pick === "number" || /^\d+$/.test(pick)) {
    const i = Number(pick);
    const r = p.records[i];
    if (!r) throw new InputError(`${p.source}: no record ${i}; records are ${list()}`);
    return r;
  }
  const found = p.records.filter((r) => r.label === pick);
  if (found.length === 0) throw new InputError(`${p.source}: no record labelled "${pick}"; records are ${list()}`);
  if (found.length > 1) throw new InputError(`${p.source}: ${found.length} records are labelled "${pick}"; pick one by index: ${list()}`);
  return found[0];
}

/** Energy (eV, as Athena shows it) and mu of one mu(E) record. */
export function athenaSpectrum(p: AthenaProject, record: AthenaRecord): MeasuredSpectrum {
  const where = `${p.source}:${record.line} (record ${record.index} "${record.label}")`;
  if (record.kind !== "mu") throw new InputError(`${where}: a ${record.kind === "chi" ? "chi(k)" : "non-mu(E)"} record, not an absorption spectrum`);
  const x = record.arrays.get("x");
  const y = record.arrays.get("y");
  if (!x || !y) throw new InputError(`${where}: no @x/@y arrays`);
  if (x.length !== y.length) throw new InputError(`${where}: @x has ${x.length} values but @y has ${y.length}`);
  const kev = flag(record.args, "is_kev");
  const shift = Number(record.args.get("bkg_eshift") ?? 0) || 0;
  const energy = Float64Array.from(x, (v) => (kev ? v * 1000 : v) + shift);
  const notes = [kev ? "keV × 1000" : "eV"];
  if (shift !== 0) notes.push(`+ Athena's calibration shift bkg_eshift ${shift} eV`);
  return orderedSpectrum(energy, Float64Array.from(y), undefined, {
    source: `${p.source} [${record.index}: ${record.label}]`,
    rule: "@y (mu(E) as Athena stored it)",
    ruleReason: "Athena mu(E) record",
    energyNote: notes.join(" "),
    element: record.element,
    edge: record.edge,
  });
}

export interface AverageOptions {
  /** Largest spread of the records' E0 (max − min, from the derivative), eV. Default 0.5. */
  maxE0Spread?: number;
}

/**
 * Average several mu(E) records (a merge of repeated scans) on the first record's energies within the
 * range all records cover. Refuses records whose edges are not aligned (E0 spread > maxE0Spread), or
 * of different elements or edges: averaging misaligned scans broadens every feature.
 */
export function averageAthenaRecords(p: AthenaProject, records: readonly AthenaRecord[], opts: AverageOptions = {}): MeasuredSpectrum & { e0s: number[] } {
  if (records.length === 0) throw new InputError(`${p.source}: no records to average`);
  const specs = records.map((r) => athenaSpectrum(p, r));
  const e0s = specs.map((s) => findE0(s.energy, s.mu).e0);
  const spread = Math.max(...e0s) - Math.min(...e0s);
  const tol = opts.maxE0Spread ?? 0.5;
  const names = records.map((r) => `"${r.label}"`).join(", ");
  if (spread > tol) {
    throw new InputError(`${p.source}: records ${names} are not aligned: E0 ${e0s.map((e) => e.toFixed(2)).join(", ")} eV (spread ${spread.toFixed(2)} > ${tol} eV); align them (Athena: calibrate/align) before averaging`);
  }
  const ids = new Set(specs.map((s) => `${s.element ?? "?"} ${s.edge ?? "?"}`));
  if (ids.size > 1) throw new InputError(`${p.source}: records ${names} are of different elements/edges (${[...ids].join(", ")})`);
  const lo = Math.max(...specs.map((s) => s.energy[0]));
  const hi = Math.min(...specs.map((s) => s.energy[s.energy.length - 1]));
  const base = specs[0].energy.filter((e) => e >= lo && e <= hi);
  const mu = new Float64Array(base.length);
  for (const s of specs) {
    let j = 0;
    for (let i = 0; i < base.length; i++) {
      while (j < s.energy.length - 2 && s.energy[j + 1] < base[i]) j++;
      const t = (base[i] - s.energy[j]) / (s.energy[j + 1] - s.energy[j]);
      mu[i] += (s.mu[j] + Math.min(1, Math.max(0, t)) * (s.mu[j + 1] - s.mu[j])) / specs.length;
    }
  }
  return {
    energy: base,
    mu,
    source: `${p.source} [average of ${names}]`,
    rule: `mean of @y over ${records.length} records`,
    ruleReason: `average of aligned scans (E0 spread ${spread.toFixed(2)} eV)`,
    energyNote: specs[0].energyNote,
    element: specs[0].element,
    edge: specs[0].edge,
    e0s,
  };
}
