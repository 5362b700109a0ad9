/**
 * XDI (XAS Data Interchange, v1.0; https://github.com/XraySpectroscopy/XAS-Data-Interchange) reader.
 *
 * A file is `# XDI/1.x` on line 1, `# Namespace.tag: value` header lines (`Column.N: name [units]`,
 * `Element.symbol`, `Element.edge`, `Mono.d_spacing`, ...), optionally `# ///` and free comments, a
 * `#----` line, then whitespace-separated numeric rows. Every failure is an InputError naming the
 * file and line. Numbers are read strictly (no hex such as `0x2318`, no NaN/Infinity words).
 *
 * mu is taken from named columns by a fixed rule, reported with the result (`rule`, `ruleReason`),
 * or from a user expression (`mu: "ln(i0/itrans)"`):
 *   1. i0 and itrans     → ln(i0/itrans)   transmission, from the raw channels
 *   2. mutrans           → mutrans         transmission mu written by the beamline
 *   3. ifluor and i0     → ifluor/i0       fluorescence
 *   4. mufluor           → mufluor
 *   5. normtrans / normfluor / norm / mu / xmu (first present)
 * Reference channels (irefer, murefer) are never chosen by the rule: they belong to the reference foil.
 * They are read as `reference` (ln(itrans/irefer), or murefer) for energy calibration.
 * Energy: the `energy` column in eV (units eV or none), keV (× 1000), or a monochromator angle
 * (units deg/degrees, or a column named `angle`) converted with E = hc / (2 d sin θ), d = Mono.d_spacing (Å).
 */
import * as fs from "node:fs";
import { InputError } from "../util/errors";
import { parseColumnExpression } from "./expression";
import { strictNumber } from "../util/numbers";

export interface XdiColumn {
  /** 1-based column number. */
  readonly index: number;
  /** Name as written (XDI names are lower case: energy, i0, itrans, ifluor, irefer, mutrans, ...). */
  readonly name: string;
  /** Units as written ("eV", "keV", "deg"), "" when absent; text after "||" (a PV name) is dropped. */
  readonly units: string;
}

export interface XdiFile {
  readonly source: string;
  /** "1.0", "1.1", ... from line 1. */
  readonly version: string;
  /** Header fields, keys lower-cased "namespace.tag" ("element.symbol", "mono.d_spacing"). */
  readonly header: ReadonlyMap<string, string>;
  readonly columns: readonly XdiColumn[];
  /** One array per data column (column-major), `rows` long each, in file order. */
  readonly data: readonly Float64Array[];
  readonly rows: number;
  /** 1-based line number of each data row, for errors. */
  readonly lines: Int32Array;
  /** Element.symbol and Element.edge when the header states them. */
  readonly element?: string;
  readonly edge?: string;
}

/** An absorption spectrum read from a measured file, with how it was obtained. */
export interface MeasuredSpectrum {
  /** Strictly increasing photon energies, eV. */
  readonly energy: Float64Array;
  readonly mu: Float64Array;
  /** File (and record) for reports and errors. */
  readonly source: string;
  /** The expression mu was computed with ("ln(i0/itrans)", "mutrans", "@y of record 2", ...). */
  readonly rule: string;
  /** Why: "transmission (i0, itrans)", "given by --mu", ... */
  readonly ruleReason: string;
  /** How the energies were obtained ("eV", "keV × 1000", "angle, d = 3.1355 Å", "reversed"...). */
  readonly energyNote: string;
  readonly element?: string;
  readonly edge?: string;
  /** 1-based file line of each point (same order as `energy`) when the format has lines. */
  readonly lines?: Int32Array;
  /** The reference channel recorded with the scan (same points as `energy`), for energy calibration. */
  readonly reference?: ReferenceChannel;
}

/** A reference sample's absorption measured in the same scan (XDI `irefer`/`murefer`; see lib/spectra/energy-calibration). */
export interface ReferenceChannel {
  readonly mu: Float64Array;
  /** "ln(itrans/irefer)" or "murefer". */
  readonly rule: string;
  /** XDI `Element.reference`: the reference's element, when stated. */
  readonly element?: string;
  /** What the header says the reference is (`Sample.reference`, e.g. "Cu metal foil"), when stated. */
  readonly description?: string;
  /** Why the channel cannot be used (e.g. a non-finite value at a line), when it cannot. */
  readonly unusable?: string;
}

/** hc in eV·Å (CODATA 2018), for monochromator angle → energy. */
const HC_EV_ANGSTROM = 12398.419843320026;

/** Parse XDI text; InputError naming `source:line` on anything malformed. */
export function parseXdi(text: string, source = "file.xdi"): XdiFile {
  const lines = text.split(/\r\n|\r|\n/);
  const m = /^#\s*XDI\/(\d+\.\d+)/i.exec(lines[0] ?? "");
  if (!m) throw new InputError(`${source}:1: not an XDI file (line 1 must start with "# XDI/1.0", found "${(lines[0] ?? "").slice(0, 40)}")`);
  const version = m[1];
  const header = new Map<string, string>();
  const colDecl = new Map<number, { name: string; units: string; line: number }>();
  const rows: number[][] = [];
  const lineNos: number[] = [];
  let inComments = false;
  let ncol = -1;
  for (let li = 1; li < lines.length; li++) {
    const lineNo = li + 1;
    const raw = lines[li];
    const line = raw.trim();
    if (line === "") continue;
    if (line[0] === "#") {
      if (rows.length > 0) continue; // comment lines between data rows: XDI allows none, tolerate
      const body = line.replace(/^#+\s*/, "");
      if (body.startsWith("///")) {
        inComments = true;
        continue;
      }
      if (/^-{2,}/.test(body)) {
        inComments = true; // after "#----" comes only the column-label line, then data
        continue;
      }
      if (inComments) continue;
      const f = /^([A-Za-z][\w]*)\.([\w]+)\s*:\s*(.*)$/.exec(body);
      if (!f) continue; // XDI 1.0 allows unparsed comment lines in some writers (e.g. "#XDI/1.1 GSE/1.0" extras)
      const key = `${f[1]}.${f[2]}`.toLowerCase();
      const value = f[3].trim();
      header.set(key, value);
      if (f[1].toLowerCase() === "column") {
        const idx = Number(f[2]);
        if (!Number.isInteger(idx) || idx < 1) throw new InputError(`${source}:${lineNo}: "Column.${f[2]}" is not a column number`);
        const spec = value.split("||")[0].trim().split(/\s+/);
        if (spec[0] === "") throw new InputError(`${source}:${lineNo}: Column.${idx} has no name`);
        colDecl.set(idx, { name: spec[0], units: spec.slice(1).join(" "), line: lineNo });
      }
      continue;
    }
    const parts = line.split(/\s+/);
    if (ncol < 0) ncol = parts.length;
    else if (parts.length !== ncol) throw new InputError(`${source}:${lineNo}: ${parts.length} values, but the first data row has ${ncol}`);
    const row = new Array<number>(ncol);
    for (let j = 0; j < ncol; j++) {
      const v = strictNumber(parts[j]);
      if (!Number.isFinite(v)) {
        const name = colDecl.get(j + 1)?.name ?? `column ${j + 1}`;
        throw new InputError(`${source}:${lineNo}: column ${j + 1} (${name}): "${parts[j].slice(0, 30)}" is not a decimal number`);
      }
      row[j] = v;
    }
    rows.push(row);
    lineNos.push(lineNo);
  }
  if (rows.length === 0) throw new InputError(`${source}: no data rows after the header`);
  if (colDecl.size === 0) throw new InputError(`${source}: no "# Column.N: name" header lines; cannot tell energy from mu`);
  for (const [idx, c] of colDecl) {
    if (idx > ncol) throw new InputError(`${source}:${c.line}: Column.${idx} (${c.name}) declared, but data rows have ${ncol} values`);
  }
  const columns: XdiColumn[] = [];
  for (let j = 1; j <= ncol; j++) {
    const c = colDecl.get(j);
    columns.push({ index: j, name: c?.name ?? `col${j}`, units: c?.units ?? "" });
  }
  const data = columns.map((_, j) => Float64Array.from(rows, (r) => r[j]));
  const element = header.get("element.symbol")?.trim() || undefined;
  const edge = header.get("element.edge")?.trim() || undefined;
  return { source, version, header, columns, data, rows: rows.length, lines: Int32Array.from(lineNos), element, edge };
}

/** The rule's choice of mu expression for these column names (lower-cased), or null. */
export function defaultMuRule(names: readonly string[]): { expression: string; reason: string } | null {
  const has = (n: string) => names.includes(n);
  if (has("i0") && has("itrans")) return { expression: "ln(i0/itrans)", reason: "transmission (columns i0, itrans)" };
  if (has("mutrans")) return { expression: "mutrans", reason: "transmission mu column (mutrans)" };
  if (has("ifluor") && has("i0")) return { expression: "ifluor/i0", reason: "fluorescence (columns ifluor, i0)" };
  if (has("mufluor")) return { expression: "mufluor", reason: "fluorescence mu column (mufluor)" };
  for (const n of ["normtrans", "normfluor", "norm", "mu", "xmu"]) if (has(n)) return { expression: n, reason: `mu column (${n})` };
  return null;
}

export interface XdiSpectrumOptions {
  /** Column expression for mu ("ln(i0/itrans)", "ifluor/i0", "mutrans"); default: the rule above. */
  mu?: string;
}

/**
 * Energy (eV) and mu of an XDI file. Decreasing scans are reversed; repeated or non-monotonic
 * energies, non-finite mu (e.g. ln of a negative ratio) are InputErrors naming the line.
 */
export function xdiSpectrum(x: XdiFile, opts: XdiSpectrumOptions = {}): MeasuredSpectrum {
  const names = x.columns.map((c) => c.name.toLowerCase());
  const ie = names.indexOf("energy") >= 0 ? names.indexOf("energy") : names.indexOf("angle");
  if (ie < 0) throw new InputError(`${x.source}: no "energy" (or "angle") column; columns are: ${names.join(", ")}`);
  const col = x.columns[ie];
  const units = col.units.toLowerCase();
  const raw = x.data[ie];
  const energy = new Float64Array(x.rows);
  let energyNote: string;
  if (names[ie] === "angle" || /^(deg|degrees|degree)$/.test(units)) {
    const dText = x.header.get("mono.d_spacing");
    const d = dText === undefined ? NaN : strictNumber(dText.split(/\s+/)[0]);
    if (!(d > 0)) throw new InputError(`${x.source}: energy is a monochromator angle (${col.name} ${col.units}) but "Mono.d_spacing" is ${dText === undefined ? "missing" : `"${dText}"`}`);
    for (let i = 0; i < x.rows; i++) energy[i] = HC_EV_ANGSTROM / (2 * d * Math.sin((raw[i] * Math.PI) / 180));
    energyNote = `angle (deg) → eV with Mono.d_spacing ${d} Å`;
  } else if (units === "kev") {
    for (let i = 0; i < x.rows; i++) energy[i] = raw[i] * 1000;
    energyNote = "keV × 1000";
  } else if (units === "ev" || units === "") {
    energy.set(raw);
    energyNote = "eV";
    // XDI's default unit is eV; values that small are keV or angles the header does not declare.
    if (raw[0] < 200 && raw[x.rows - 1] < 200) {
      throw new InputError(`${x.source}:${x.lines[0]}: energies ${raw[0]}–${raw[x.rows - 1]} read as eV are below any absorption edge used here; the header should give units keV or deg (Column.${col.index})`);
    }
  } else {
    throw new InputError(`${x.source}: energy column ${col.index} has units "${col.units}"; eV, keV or deg expected`);
  }
  let rule: string;
  let reason: string;
  if (opts.mu !== undefined) {
    rule = opts.mu;
    reason = "given by the user";
  } else {
    const r = defaultMuRule(names);
    if (!r) {
      throw new InputError(
        `${x.source}: no column rule gives mu (columns: ${names.join(", ")}); give an expression such as --mu "ln(i0/itrans)"`,
      );
    }
    rule = r.expression;
    reason = r.reason;
  }
  const expr = parseColumnExpression(rule, x.columns.map((c) => c.name), `${x.source}: mu expression`);
  const byName = new Map<string, Float64Array>();
  x.columns.forEach((c, j) => byName.set(c.name, x.data[j]));
  const mu = expr.evaluate(byName, x.rows);
  for (let i = 0; i < x.rows; i++) {
    if (!Number.isFinite(mu[i]) || !Number.isFinite(energy[i])) {
      throw new InputError(`${x.source}:${x.lines[i]}: mu = ${rule} is not finite here (${mu[i]}); check the columns (${expr.columns.join(", ")})`);
    }
  }
  return orderedSpectrum(energy, mu, x.lines, {
    source: x.source,
    rule,
    ruleReason: reason,
    energyNote,
    element: x.element,
    edge: x.edge,
    reference: referenceChannel(x, names),
  });
}

/**
 * The reference channel of an XDI file: ln(itrans/irefer) (the foil behind the sample), or a murefer
 * column. A non-finite value makes it `unusable` (with the line) rather than failing the sample's read.
 */
function referenceChannel(x: XdiFile, names: readonly string[]): ReferenceChannel | undefined {
  const rule = names.includes("murefer") ? "murefer" : names.includes("itrans") && names.includes("irefer") ? "ln(itrans/irefer)" : null;
  if (rule === null) return undefined;
  // The same evaluator as mu's rule, so both channels are read alike.
  const expr = parseColumnExpression(rule, x.columns.map((c) => c.name), `${x.source}: reference expression`);
  const mu = expr.evaluate(new Map(x.columns.map((c, j) => [c.name, x.data[j]])), x.rows);
  const bad = mu.findIndex((v) => !Number.isFinite(v));
  const unusable = bad >= 0 ? `not finite at ${x.source}:${x.lines[bad]}` : undefined;
  const element = x.header.get("element.reference")?.trim() || undefined;
  const description = x.header.get("sample.reference")?.trim() || undefined;
  return { mu, rule, element, description, unusable };
}

/**
 * Reverse a decreasing scan; refuse repeated or non-monotonic energies naming the line (or point).
 * Shared by the readers so every format applies the same check.
 */
export function orderedSpectrum(
  energy: Float64Array,
  mu: Float64Array,
  lines: Int32Array | undefined,
  meta: Omit<MeasuredSpectrum, "energy" | "mu" | "lines">,
): MeasuredSpectrum {
  const n = energy.length;
  let note = meta.energyNote;
  if (n > 1 && energy[n - 1] < energy[0]) {
    energy.reverse();
    mu.reverse();
    lines?.reverse();
    meta.reference?.mu.reverse();
    note += ", decreasing scan reversed";
  }
  const where = (i: number) => (lines ? `${meta.source}:${lines[i]}` : `${meta.source}: point ${i + 1}`);
  for (let i = 1; i < n; i++) {
    if (energy[i] === energy[i - 1]) throw new InputError(`${where(i)}: repeated energy ${energy[i]} eV`);
    if (!(energy[i] > energy[i - 1])) throw new InputError(`${where(i)}: energies are not monotonic (${energy[i - 1]} then ${energy[i]} eV)`);
  }
  return { ...meta, energy, mu, lines, energyNote: note };
}

/** Read an XDI file and its mu (see `xdiSpectrum`). */
export function readXdiFile(path: string, opts: XdiSpectrumOptions = {}): MeasuredSpectrum {
  let text: string;
  try {
    text = fs.readFileSync(path, "latin1");
  } catch (e) {
    throw new InputError(`${path}: cannot read (${(e as Error).message})`);
  }
  return xdiSpectrum(parseXdi(text, path), opts);
}

/**
 * Refuse a spectrum whose header names another absorber or edge than the model's. A header that
 * states neither passes (many two-column files do not); the mesh-coverage check still applies.
 */
export function checkElementEdge(s: Pick<MeasuredSpectrum, "source" | "element" | "edge">, element: string, edge: string): void {
  if (s.element !== undefined && s.element.toLowerCase() !== element.toLowerCase()) {
    throw new InputError(`${s.source}: spectrum of ${s.element}${s.edge ? ` ${s.edge}` : ""}, but the model predicts ${element} ${edge}`);
  }
  if (s.edge !== undefined && s.edge.toLowerCase() !== edge.toLowerCase()) {
    throw new InputError(`${s.source}: ${s.element ?? ""} ${s.edge} edge, but the model predicts the ${element} ${edge} edge`);
  }
}
