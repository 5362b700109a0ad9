import * as fs from "node:fs";
import { isElementSymbol } from "../elements/symbols";
import { latticeFromParameters } from "./lattice";
import { Structure } from "./types";
import { InputError } from "../util/errors";

interface Token { text: string; line: number; quoted: boolean }

/** CIF 1.1 tokens: whitespace-separated words, '…'/"…" strings, ;-delimited text fields; # comments. */
function tokenize(text: string, source: string): Token[] {
  const lines = text.split(/\r?\n/);
  const out: Token[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith(";")) {
      const start = i;
      const parts = [line.slice(1)];
      i++;
      while (i < lines.length && !lines[i].startsWith(";")) parts.push(lines[i++]);
      if (i >= lines.length) throw new InputError(`${source}:${start + 1}: unterminated ;-text field`);
      out.push({ text: parts.join("\n").trim(), line: start + 1, quoted: true });
      continue;
    }
    let p = 0;
    while (p < line.length) {
      const ch = line[p];
      if (ch === " " || ch === "\t") { p++; continue; }
      if (ch === "#") break;
      if (ch === "'" || ch === '"') {
        // closing quote is the same quote followed by whitespace or end of line
        let q = p + 1;
        while (q < line.length && !(line[q] === ch && (q + 1 === line.length || /\s/.test(line[q + 1])))) q++;
        if (q >= line.length) throw new InputError(`${source}:${i + 1}: unterminated quoted string`);
        out.push({ text: line.slice(p + 1, q), line: i + 1, quoted: true });
        p = q + 1;
        continue;
      }
      let q = p;
      while (q < line.length && line[q] !== " " && line[q] !== "\t") q++;
      out.push({ text: line.slice(p, q), line: i + 1, quoted: false });
      p = q;
    }
  }
  return out;
}

interface CifBlock {
  name: string;
  items: Map<string, Token>;
  loops: Array<{ tags: string[]; rows: Token[][] }>;
}

/** The first data block of a CIF: single items and loops (tags lower-cased). */
function parseBlock(tokens: Token[], source: string): CifBlock {
  let i = 0;
  while (i < tokens.length && !(!tokens[i].quoted && /^data_/i.test(tokens[i].text))) i++;
  if (i >= tokens.length) throw new InputError(`${source}: no data_ block`);
  const block: CifBlock = { name: tokens[i].text.slice(5), items: new Map(), loops: [] };
  i++;
  const isTag = (t: Token) => !t.quoted && t.text.startsWith("_");
  const isKeyword = (t: Token) => !t.quoted && /^(loop_|data_|save_|global_|stop_)/i.test(t.text);
  while (i < tokens.length) {
    const t = tokens[i];
    if (!t.quoted && /^data_/i.test(t.text)) break; // only the first block
    if (!t.quoted && /^loop_$/i.test(t.text)) {
      i++;
      const tags: string[] = [];
      while (i < tokens.length && isTag(tokens[i])) tags.push(tokens[i++].text.toLowerCase());
      if (tags.length === 0) throw new InputError(`${source}:${t.line}: loop_ without tags`);
      const values: Token[] = [];
      while (i < tokens.length && !isTag(tokens[i]) && !isKeyword(tokens[i])) values.push(tokens[i++]);
      if (values.length % tags.length !== 0) {
        // loops usually hold one row per line: point at the first line that does not
        const perLine = new Map<number, number>();
        for (const v of values) perLine.set(v.line, (perLine.get(v.line) ?? 0) + 1);
        const bad = [...perLine].find(([, c]) => c % tags.length !== 0);
        throw new InputError(`${source}:${bad ? bad[0] : t.line}: loop of ${tags.length} tags has ${values.length} values (not a multiple)`);
      }
      const rows: Token[][] = [];
      for (let r = 0; r < values.length; r += tags.length) rows.push(values.slice(r, r + tags.length));
      block.loops.push({ tags, rows });
      continue;
    }
    if (isTag(t)) {
      const v = tokens[i + 1];
      if (!v || isTag(v) || isKeyword(v)) throw new InputError(`${source}:${t.line}: ${t.text} has no value`);
      block.items.set(t.text.toLowerCase(), v);
      i += 2;
      continue;
    }
    if (isKeyword(t)) { i++; continue; }
    throw new InputError(`${source}:${t.line}: unexpected "${t.text}"`);
  }
  return block;
}

/** "1.234(5)" → 1.234; "?" / "." → NaN. */
function cifNumber(text: string): number {
  if (text === "?" || text === ".") return NaN;
  return Number(text.replace(/\(\d+\)$/, ""));
}

/** A symmetry operation "x,-y+1/2,z" as a 3×4 row-major affine matrix [R | t] on fractional coordinates. */
export function parseSymmetryOperation(op: string, where = "symmetry operation"): Float64Array {
  const parts = op.replace(/\s+/g, "").toLowerCase().split(",");
  if (parts.length !== 3) throw new InputError(`${where}: "${op}" is not three comma-separated components`);
  const m = new Float64Array(12);
  parts.forEach((expr, r) => {
    if (expr.length === 0) throw new InputError(`${where}: empty component in "${op}"`);
    const terms = expr.match(/[+-]?[^+-]+/g);
    if (!terms || terms.join("") !== expr) throw new InputError(`${where}: cannot read "${expr}" in "${op}"`);
    for (const term of terms) {
      const tm = /^([+-]?)(\d*\.?\d*(?:\/\d*\.?\d+)?)\*?([xyz]?)$/.exec(term);
      if (!tm || (tm[2] === "" && tm[3] === "")) throw new InputError(`${where}: cannot read term "${term}" in "${op}"`);
      const sign = tm[1] === "-" ? -1 : 1;
      let coef = 1;
      if (tm[2] !== "") {
        const [a, b] = tm[2].split("/");
        coef = b === undefined ? Number(a) : Number(a) / Number(b);
        if (!Number.isFinite(coef)) throw new InputError(`${where}: bad number "${tm[2]}" in "${op}"`);
      }
      if (tm[3] === "") m[4 * r + 3] += sign * coef;
      else m[4 * r + "xyz".indexOf(tm[3])] += sign * coef;
    }
  });
  return m;
}

export interface CifOptions {
  /** Symmetry copies closer than this (fractional, periodic) are one site. Default 1e-3. */
  mergeTolerance?: number;
}

/**
 * Parse the first data block of a CIF: cell (_cell_length_*, _cell_angle_*, uncertainties "(5)"
 * ignored), symmetry operations (_symmetry_equiv_pos_as_xyz or _space_group_symop_operation_xyz; none
 * means P1), and the _atom_site loop (fract_x/y/z; element from _atom_site_type_symbol with any
 * oxidation suffix "Fe3+" removed, else from the label "Fe1"). Symmetry copies are wrapped into
 * [0, 1) and merged when within `mergeTolerance` (periodic, fractional). Partially occupied sites
 * (occupancy < 0.999) are rejected with an InputError naming the site: one element per site is needed.
 * Lattice orientation follows pymatgen (c along z).
 */
export function parseCif(text: string, source = "structure.cif", options: CifOptions = {}): Structure {
  const tol = options.mergeTolerance ?? 1e-3;
  const block = parseBlock(tokenize(text, source), source);
  const item = (tag: string) => block.items.get(tag);
  const cellNum = (tag: string) => {
    const t = item(tag);
    const v = t ? cifNumber(t.text) : NaN;
    if (!Number.isFinite(v) || v <= 0) throw new InputError(`${source}${t ? `:${t.line}` : ""}: ${tag} missing or invalid (${t?.text ?? "absent"})`);
    return v;
  };
  const lattice = latticeFromParameters(
    cellNum("_cell_length_a"), cellNum("_cell_length_b"), cellNum("_cell_length_c"),
    cellNum("_cell_angle_alpha"), cellNum("_cell_angle_beta"), cellNum("_cell_angle_gamma"),
  );

  // symmetry operations
  const opTags = ["_symmetry_equiv_pos_as_xyz", "_space_group_symop_operation_xyz"];
  let ops: Float64Array[] = [];
  for (const loop of block.loops) {
    const c = loop.tags.findIndex((t) => opTags.includes(t));
    if (c >= 0) ops = loop.rows.map((row) => parseSymmetryOperation(row[c].text, `${source}:${row[c].line}`));
  }
  if (ops.length === 0) {
    for (const tag of opTags) {
      const t = item(tag);
      if (t) ops = [parseSymmetryOperation(t.text, `${source}:${t.line}`)];
    }
  }
  if (ops.length === 0) {
    const hm = item("_symmetry_space_group_name_h-m") ?? item("_space_group_name_h-m_alt");
    const name = hm?.text.replace(/\s+/g, "") ?? "P1";
    if (name !== "P1") throw new InputError(`${source}:${hm!.line}: space group ${hm!.text} given without symmetry operations; add _symmetry_equiv_pos_as_xyz`);
    ops = [parseSymmetryOperation("x,y,z")];
  }

  // atom sites
  const loop = block.loops.find((l) => l.tags.includes("_atom_site_fract_x"));
  if (!loop) throw new InputError(`${source}: no _atom_site_fract_x loop`);
  const col = (tag: string) => loop.tags.indexOf(tag);
  const cx = col("_atom_site_fract_x"), cy = col("_atom_site_fract_y"), cz = col("_atom_site_fract_z");
  if (cy < 0 || cz < 0) throw new InputError(`${source}: _atom_site loop lacks fract_y or fract_z`);
  const cType = col("_atom_site_type_symbol"), cLabel = col("_atom_site_label"), cOcc = col("_atom_site_occupancy");
  if (cType < 0 && cLabel < 0) throw new InputError(`${source}: _atom_site loop has neither type_symbol nor label`);

  const species: string[] = [];
  const frac: number[] = [];
  for (const row of loop.rows) {
    const line = row[0].line;
    const at = `${source}:${line}`;
    const name = (cLabel >= 0 ? row[cLabel].text : row[cType].text);
    const raw = cType >= 0 && row[cType].text !== "?" && row[cType].text !== "." ? row[cType].text : row[cLabel].text;
    const m = /^([A-Za-z]{1,2})/.exec(raw);
    let el = m ? m[1][0].toUpperCase() + m[1].slice(1).toLowerCase() : "";
    if (!isElementSymbol(el) && m) el = m[1][0].toUpperCase(); // label "Os1" vs "O1a": fall back to one letter
    if (!isElementSymbol(el)) throw new InputError(`${at}: site ${name}: cannot read an element from "${raw}"`);
    if (cOcc >= 0) {
      const occ = cifNumber(row[cOcc].text);
      if (Number.isFinite(occ) && occ < 0.999) {
        throw new InputError(`${at}: site ${name} has occupancy ${row[cOcc].text}; partially occupied (disordered) sites are not supported`);
      }
    }
    const f0 = [cifNumber(row[cx].text), cifNumber(row[cy].text), cifNumber(row[cz].text)];
    if (!f0.every(Number.isFinite)) throw new InputError(`${at}: site ${name}: bad fractional coordinates ${row[cx].text} ${row[cy].text} ${row[cz].text}`);
    for (const op of ops) {
      const f = [0, 1, 2].map((r) => {
        const v = op[4 * r] * f0[0] + op[4 * r + 1] * f0[1] + op[4 * r + 2] * f0[2] + op[4 * r + 3];
        const w = v - Math.floor(v);
        return w >= 1 - 1e-12 ? 0 : w;
      });
      let dup = -1;
      for (let j = 0; j < species.length && dup < 0; j++) {
        let close = true;
        for (let c = 0; c < 3 && close; c++) {
          const d = f[c] - frac[3 * j + c];
          if (Math.abs(d - Math.round(d)) > tol) close = false;
        }
        if (close) dup = j;
      }
      if (dup >= 0) {
        if (species[dup] !== el) throw new InputError(`${at}: site ${name} (${el}) falls on a ${species[dup]} site by symmetry`);
        continue;
      }
      species.push(el);
      frac.push(f[0], f[1], f[2]);
    }
  }
  if (species.length === 0) throw new InputError(`${source}: no atom sites`);
  return { lattice, species, frac: Float64Array.from(frac), source };
}

/** Read a CIF file (see parseCif). */
export function readCifFile(path: string, options?: CifOptions): Structure {
  return parseCif(fs.readFileSync(path, "utf8"), path, options);
}
