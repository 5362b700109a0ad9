import { InputError } from "../util/errors";

/** Columns of a FEFF `xmu.dat` that the pipeline uses. */
export interface XmuData {
  /** Absolute photon energy, eV (column `omega`). */
  readonly omega: Float64Array;
  /** Energy relative to FEFF's edge, eV (column `e`). */
  readonly e: Float64Array;
  /** Absorption (column `mu`). */
  readonly mu: Float64Array;
  /** FEFF's edge energy, eV: omega − e (constant within a file). */
  readonly edgeEnergy: number;
  /**
   * The header value on `#  xsedge+ 50, used to normalize mu` (FEFF divided mu by it); absent when the
   * file has no such line. OmniXAS multiplies mu back by it (× 1000 / a0²) to get absolute intensities.
   */
  readonly xsedge50?: number;
}

const XSEDGE50 = /xsedge\+\s*50,\s*used to normalize mu\s+(\S+)/;

/** Whitespace-split fields of each non-blank, non-`#` line, with its 1-based line number. */
function* dataLines(text: string): Generator<{ lineNo: number; line: string; parts: string[] }> {
  let lineNo = 0;
  let start = 0;
  const n = text.length;
  while (start <= n) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = n;
    lineNo++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) continue;
    yield { lineNo, line, parts: line.split(/\s+/) };
  }
}

/**
 * Parse a FEFF `xmu.dat`: `#` header lines, then rows `omega e k mu mu0 chi`.
 * Every row must have ≥ 4 finite numbers; errors name the file and line.
 * Monotonicity and length are checked by the dataset builder (a reported drop, not a parse error).
 */
export function parseXmuDat(text: string, source = "xmu.dat"): XmuData {
  const omega: number[] = [];
  const e: number[] = [];
  const mu: number[] = [];
  let ncol = -1;
  for (const { lineNo, line, parts } of dataLines(text)) {
    // A row with a missing or extra field would shift mu into the wrong column: demand the same count as row 1.
    if (parts.length < 4 || (ncol > 0 && parts.length !== ncol)) {
      throw new InputError(`${source}:${lineNo}: expected ${ncol > 0 ? ncol : 6} columns "omega e k mu mu0 chi", found ${parts.length}`);
    }
    if (ncol < 0) ncol = parts.length;
    const w = Number(parts[0]);
    const r = Number(parts[1]);
    const m = Number(parts[3]);
    if (!Number.isFinite(w) || !Number.isFinite(r) || !Number.isFinite(m)) {
      throw new InputError(`${source}:${lineNo}: non-numeric or non-finite value in "${line.slice(0, 80)}"`);
    }
    omega.push(w);
    e.push(r);
    mu.push(m);
  }
  if (omega.length === 0) throw new InputError(`${source}: no data rows (only header or empty file)`);
  // the header is short: search only the text before the first data row
  const firstRow = text.search(/^\s*[-+\d.]/m);
  const hm = XSEDGE50.exec(firstRow > 0 ? text.slice(0, firstRow) : text);
  const xsedge50 = hm ? Number(hm[1]) : undefined;
  if (xsedge50 !== undefined && !(xsedge50 > 0 && Number.isFinite(xsedge50))) {
    throw new InputError(`${source}: header "xsedge+ 50, used to normalize mu" has a non-positive or non-numeric value "${hm![1]}"`);
  }
  return {
    omega: Float64Array.from(omega),
    e: Float64Array.from(e),
    mu: Float64Array.from(mu),
    edgeEnergy: omega[0] - e[0],
    ...(xsedge50 !== undefined ? { xsedge50 } : {}),
  };
}

/** A table of spectra sharing one energy column (e.g. `<snap>_Combo_O_all.dat`). */
export interface SpectrumColumns {
  readonly energy: Float64Array;
  /** One array per data column (column j+1 of the file), each the length of `energy`. */
  readonly columns: Float64Array[];
}

/**
 * Parse a whitespace-separated table: column 0 energy, columns 1..k one spectrum each.
 * Every row must have the same number of columns and only finite numbers; `#` lines are skipped.
 */
export function parseSpectrumColumns(text: string, source = "columns.dat"): SpectrumColumns {
  const rows: number[][] = [];
  let ncol = -1;
  for (const { lineNo, parts } of dataLines(text)) {
    if (ncol < 0) {
      if (parts.length < 2) throw new InputError(`${source}:${lineNo}: need an energy column and at least one spectrum column`);
      ncol = parts.length;
    } else if (parts.length !== ncol) {
      throw new InputError(`${source}:${lineNo}: expected ${ncol} columns like the first data row, found ${parts.length}`);
    }
    const row = new Array<number>(ncol);
    for (let j = 0; j < ncol; j++) {
      const v = Number(parts[j]);
      if (!Number.isFinite(v)) throw new InputError(`${source}:${lineNo}: column ${j}: not a finite number "${parts[j].slice(0, 30)}"`);
      row[j] = v;
    }
    rows.push(row);
  }
  if (rows.length === 0) throw new InputError(`${source}: no data rows`);
  const energy = new Float64Array(rows.length);
  const columns: Float64Array[] = [];
  for (let j = 1; j < ncol; j++) columns.push(new Float64Array(rows.length));
  for (let i = 0; i < rows.length; i++) {
    energy[i] = rows[i][0];
    for (let j = 1; j < ncol; j++) columns[j - 1][i] = rows[i][j];
  }
  return { energy, columns };
}
