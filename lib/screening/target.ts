import * as fs from "node:fs";
import { InputError } from "../util/errors";
import { strictNumber } from "../util/numbers";
import { MeasuredSpectrum, checkElementEdge, parseXdi, xdiSpectrum } from "../spectra/xdi";
import { calibrateToReference, type ReferenceCalibration } from "../spectra/energy-calibration";
import { athenaRecord, athenaSpectrum, athenaText, averageAthenaRecords, latin1, looksLikeAthena, parseAthena } from "../spectra/athena";

/** A measured (or reference) spectrum to match, on its own energy axis. */
export interface TargetSpectrum {
  /** Strictly increasing energies, eV. */
  readonly energy: Float64Array;
  readonly intensity: Float64Array;
  /** File path (or dataset id) for reports and errors. */
  readonly source: string;
  /** "site": one absorbing site's spectrum; "material": a multiplicity-weighted average over the
   * absorbing sites of a cell (MP's XAS documents, most experiments). */
  readonly kind: "site" | "material";
}

export interface ParseTargetOptions {
  /**
   * 0-based column holding the intensity; energy is always column 0. Required when rows have more
   * than two columns (the error lists them): a file is never read from a guessed column.
   */
  intensityColumn?: number;
  kind?: "site" | "material";
  /** Fewest data rows accepted. Default 5. */
  minPoints?: number;
}

/** Split a data row on its delimiter: semicolon, else tab, else comma, else whitespace. */
function splitRow(line: string): string[] {
  const re = line.includes(";") ? /\s*;\s*/ : line.includes("\t") ? /\s*\t\s*/ : line.includes(",") ? /\s*,\s*/ : /\s+/;
  return line.split(re).filter((p) => p.length > 0);
}

/**
 * A strict decimal number (no hex such as "0x2318", no "Infinity"), accepting a decimal comma when the
 * field has no dot ("8979,5" in ;-separated files); "nan"/"inf" words give NaN/±Infinity so the
 * caller can name them.
 */
function parseField(f: string): number {
  const t = f.trim();
  if (/^[+-]?nan$/i.test(t)) return NaN;
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  const v = strictNumber(t);
  if (!Number.isNaN(v) || !/^[+-]?\d+,\d+([eE][+-]?\d+)?$/.test(t)) return v;
  return strictNumber(t.replace(",", "."));
}

/**
 * Parse a two-column text spectrum: energy (eV) and intensity, one point per line.
 * Accepted: `#`, `%`, `!` and `//` comment lines and trailing `#` comments; blank lines; whitespace, tab,
 * comma or semicolon delimiters (a semicolon file may use decimal commas); one non-numeric header
 * line before the first data row ("energy,mu"); extra columns (pick one with `intensityColumn`);
 * energies in decreasing order (reversed). Rejected with an InputError naming the source and line:
 * empty files, rows with one column, non-numeric fields, NaN/Inf, repeated or non-monotonic energies.
 */
export function parseTargetText(text: string, source = "target", opts: ParseTargetOptions = {}): TargetSpectrum {
  const col = opts.intensityColumn ?? 1;
  let header: string[] | undefined;
  if (!Number.isInteger(col) || col < 1) throw new InputError(`${source}: intensity column must be an integer ≥ 1, got ${col}`);
  const minPoints = opts.minPoints ?? 5;
  const energy: number[] = [];
  const intensity: number[] = [];
  const lineOf: number[] = [];
  let headerSeen = false;
  const lines = text.split(/\r\n|\r|\n/);
  for (let li = 0; li < lines.length; li++) {
    const lineNo = li + 1;
    let line = lines[li].trim();
    if (line === "" || line[0] === "#" || line[0] === "%" || line[0] === "!" || line.startsWith("//")) continue;
    const hash = line.indexOf("#");
    if (hash > 0) line = line.slice(0, hash).trim();
    const parts = splitRow(line);
    const nums = parts.map(parseField);
    const bad = nums.findIndex((v) => Number.isNaN(v));
    const isNanWord = (s: string) => /^[+-]?nan$/i.test(s.trim());
    if (bad >= 0 && energy.length === 0 && !headerSeen && parts.every((p) => Number.isNaN(parseField(p)) && !isNanWord(p))) {
      headerSeen = true; // column titles such as "energy  mu"
      header = parts;
      continue;
    }
    if (parts.length < 2) {
      throw new InputError(`${source}:${lineNo}: expected two columns (energy, intensity), found one: "${line.slice(0, 60)}"`);
    }
    if (opts.intensityColumn === undefined && parts.length > 2 && energy.length === 0) {
      const names = parts.map((p, j) => `${j + 1}: ${header?.[j] ?? `"${p}"`}`).join(", ");
      throw new InputError(`${source}:${lineNo}: ${parts.length} numeric columns (${names}); say which one is the spectrum (--column N, or --mu "ln(i0/itrans)" for XDI files)`);
    }
    if (parts.length <= col) {
      throw new InputError(`${source}:${lineNo}: intensity column ${col + 1} requested but the row has ${parts.length} columns`);
    }
    for (const k of [0, col]) {
      const v = nums[k];
      if (Number.isNaN(v)) {
        throw new InputError(
          isNanWord(parts[k])
            ? `${source}:${lineNo}: NaN in column ${k + 1}`
            : `${source}:${lineNo}: non-numeric value "${parts[k].slice(0, 30)}" in column ${k + 1}`,
        );
      }
      if (!Number.isFinite(v)) throw new InputError(`${source}:${lineNo}: infinite value in column ${k + 1}`);
    }
    energy.push(nums[0]);
    intensity.push(nums[col]);
    lineOf.push(lineNo);
  }
  if (energy.length === 0) throw new InputError(`${source}: no data rows (empty file or only comments)`);
  if (energy.length < minPoints) throw new InputError(`${source}: only ${energy.length} data rows; at least ${minPoints} are needed`);
  // Decreasing files (some beamline exports) are reversed; anything else must be strictly increasing.
  const decreasing = energy[energy.length - 1] < energy[0];
  if (decreasing) {
    energy.reverse();
    intensity.reverse();
    lineOf.reverse();
  }
  for (let i = 1; i < energy.length; i++) {
    if (!(energy[i] > energy[i - 1])) {
      const what = energy[i] === energy[i - 1] ? "repeated energy" : "energies are not monotonic";
      throw new InputError(`${source}:${lineOf[i]}: ${what} (${energy[i - 1]} then ${energy[i]} eV)`);
    }
  }
  return { energy: Float64Array.from(energy), intensity: Float64Array.from(intensity), source, kind: opts.kind ?? "site" };
}

/** Read a target spectrum file (see `parseTargetText`); errors name the path and line. */
export function readTargetFile(path: string, opts: ParseTargetOptions = {}): TargetSpectrum {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(`${path}: cannot read target spectrum (${(e as Error).message})`);
  }
  return parseTargetText(text, path, opts);
}

export interface MeasuredTargetOptions {
  /** XDI: column expression for mu ("ln(i0/itrans)"); default: the XDI rule (lib/spectra/xdi). */
  mu?: string;
  /** Athena: record label or 0-based index; several (comma-separated) are averaged after an alignment check. */
  record?: string;
  /** Plain columns: 1-based intensity column (energy is column 1); required with more than two columns. */
  column?: number;
  /** Model's absorber and edge: an XDI/Athena header naming another is refused. */
  element?: string;
  edge?: string;
  /**
   * Shift the energies so the reference foil's E0 is the tabulated edge energy, when the file has a
   * reference channel stated to be a foil of the element (lib/spectra/energy-calibration). Default true.
   */
  referenceCalibration?: boolean;
}

/** A measured target as read, with what its reference channel did to the energies (null: not tried). */
export type MeasuredTarget = MeasuredSpectrum & { readonly referenceCalibration: ReferenceCalibration | null };

/**
 * Read a measured spectrum from an XDI file, an Athena project (gzip or plain) or a plain column file,
 * recognised by content. Every failure is an InputError naming the file (and line or record).
 */
export function readMeasuredTarget(path: string, opts: MeasuredTargetOptions = {}): MeasuredTarget {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new InputError(`${path}: cannot read target spectrum (${(e as Error).message})`);
  }
  return parseMeasuredTarget(bytes, path, opts);
}

/**
 * `readMeasuredTarget` on a file's bytes (the browser page's entry: a picked File's contents).
 * `source` names the file in messages. A gzipped Athena project needs node:zlib here; the page
 * decompresses it first (DecompressionStream) and passes the plain bytes.
 */
export function parseMeasuredTarget(bytes: Uint8Array, source: string, opts: MeasuredTargetOptions = {}): MeasuredTarget {
  const path = source;
  let spec: MeasuredSpectrum;
  const head = latin1(bytes.subarray(0, 64));
  if (looksLikeAthena(bytes)) {
    const p = parseAthena(athenaText(bytes, path), path);
    const picks = opts.record?.split(",").map((s) => s.trim()).filter((s) => s !== "");
    if (!picks || picks.length === 0) {
      const mu = p.records.filter((r) => r.kind === "mu");
      if (mu.length !== 1) {
        throw new InputError(`${path}: Athena project with ${p.records.length} records; choose one with --record LABEL|INDEX (or several, comma-separated, to average): ${p.records.map((r) => `${r.index}: "${r.label}"`).join("; ")}`);
      }
      spec = athenaSpectrum(p, mu[0]);
    } else if (picks.length === 1) spec = athenaSpectrum(p, athenaRecord(p, picks[0]));
    else spec = averageAthenaRecords(p, picks.map((k) => athenaRecord(p, k)));
  } else if (/^#\s*XDI\//i.test(head)) {
    spec = xdiSpectrum(parseXdi(latin1(bytes), path), { mu: opts.mu });
  } else {
    if (bytes.subarray(0, 4096).includes(0)) throw new InputError(`${path}: binary file, not a spectrum (expected XDI, an Athena project or text columns)`);
    if (opts.mu !== undefined) throw new InputError(`${path}: --mu applies to XDI files; this is a plain column file (use --column N)`);
    const t = parseTargetText(new TextDecoder().decode(bytes), path, { intensityColumn: opts.column === undefined ? undefined : opts.column - 1 });
    spec = { energy: t.energy, mu: t.intensity, source: path, rule: `column ${(opts.column ?? 2)}`, ruleReason: opts.column ? "given by --column" : "the only intensity column", energyNote: "eV (plain columns)" };
  }
  if (opts.element && opts.edge) checkElementEdge(spec, opts.element, opts.edge);
  if (opts.referenceCalibration === false) return { ...spec, referenceCalibration: null };
  const { spectrum, calibration } = calibrateToReference(spec);
  return { ...spectrum, referenceCalibration: calibration };
}
