import * as fs from "node:fs";
import { InputError } from "../util/errors";

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
  /** 0-based column holding the intensity; energy is always column 0. Default 1. */
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

/** Number(field) accepting a decimal comma when the field has no dot ("8979,5" in ;-separated files). */
function parseField(f: string): number {
  const t = f.trim();
  if (t === "") return NaN;
  const v = Number(t);
  if (!Number.isNaN(v) || !/^[+-]?\d+,\d+([eE][+-]?\d+)?$/.test(t)) return v;
  return Number(t.replace(",", "."));
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
      continue;
    }
    if (parts.length < 2) {
      throw new InputError(`${source}:${lineNo}: expected two columns (energy, intensity), found one: "${line.slice(0, 60)}"`);
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
