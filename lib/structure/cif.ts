import * as fs from "node:fs";
import { isElementSymbol } from "../elements/symbols";
import {
  AffineOperation, hallNumberFromHallSymbol, hallNumberFromSymbol, operationsFromHallNumber, standardHallNumber,
} from "../geometry/symmetry";
import { fractionalCoords, latticeFromParameters } from "./lattice";
import { CifBlock, CifToken, cifColumn, cifItem, cifNumber, parseCifBlocks } from "./cif-syntax";
import { Structure } from "./types";
import { InputError } from "../util/errors";

export { parseCifBlocks } from "./cif-syntax";
export type { CifBlock, CifToken } from "./cif-syntax";

/** A symmetry operation "x,-y+1/2,z" as a 3×4 row-major affine matrix [R | t] on fractional coordinates. */
export function parseSymmetryOperation(op: string, where = "symmetry operation"): AffineOperation {
  const parts = op.replace(/\s+/g, "").toLowerCase().split(",");
  if (parts.length !== 3) throw new InputError(`${where}: symmetry operation "${op}" is not three comma-separated components`);
  const m = new Float64Array(12);
  parts.forEach((expr, r) => {
    if (expr.length === 0) throw new InputError(`${where}: empty component in symmetry operation "${op}"`);
    const terms = expr.match(/[+-]?[^+-]+/g);
    if (!terms || terms.join("") !== expr) throw new InputError(`${where}: cannot read "${expr}" in symmetry operation "${op}"`);
    for (const term of terms) {
      // a coordinate with no factor ("-x"), or a number / fraction (translation); a factor on a
      // coordinate ("2*x", "0.5x") is not a crystallographic operation
      const tm = /^([+-]?)(?:([xyz])|(\d+\.?\d*|\.\d+)(?:\/(\d+\.?\d*))?)$/.exec(term);
      if (!tm) throw new InputError(`${where}: cannot read term "${term}" in symmetry operation "${op}" (expected ±x, ±y, ±z or a fraction)`);
      const sign = tm[1] === "-" ? -1 : 1;
      if (tm[2]) m[4 * r + "xyz".indexOf(tm[2])] += sign;
      else {
        const v = tm[4] === undefined ? Number(tm[3]) : Number(tm[3]) / Number(tm[4]);
        if (!Number.isFinite(v)) throw new InputError(`${where}: bad number "${term}" in symmetry operation "${op}"`);
        m[4 * r + 3] += sign * v;
      }
    }
  });
  const R = (i: number, j: number) => m[4 * i + j];
  const det = R(0, 0) * (R(1, 1) * R(2, 2) - R(1, 2) * R(2, 1)) - R(0, 1) * (R(1, 0) * R(2, 2) - R(1, 2) * R(2, 0)) + R(0, 2) * (R(1, 0) * R(2, 1) - R(1, 1) * R(2, 0));
  let small = true;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (Math.abs(R(i, j)) > 1) small = false;
  if (Math.abs(det) !== 1 || !small) {
    throw new InputError(`${where}: "${op}" is not a crystallographic symmetry operation (rotation part must be integer with determinant ±1; here ${det})`);
  }
  return m;
}

export interface CifOptions {
  /** Symmetry copies closer than this (fractional, per axis, periodic) are one site. Default 1e-3. */
  readonly mergeTolerance?: number;
  /** Which data block: its name (without `data_`, case-insensitive) or 0-based index. Default: the first block with atom sites. */
  readonly block?: string | number;
}

/** Names that are not element symbols but are conventional in mineral CIFs (pymatgen reads them the same way). */
const SPECIAL_LABELS: Record<string, string> = { Wat: "O", wat: "O", WAT: "O", Ow: "O", OW: "O", Hw: "H", HW: "H", OH: "O", OH2: "O" };

/**
 * Element of an atom-site type symbol or label, when unambiguous: the whole name is an element
 * ("O", "Cu"), or it starts with an element symbol followed by a non-letter — a digit, a sign, a
 * bracket ("Fe3+", "O2-", "Cu1", "Al(1)", "O-H(2)") — and only one reading of the leading letters is an
 * element ("Co1" is Co: "C" would be followed by a letter). Capitalisation is normalised ("CU1" → Cu).
 * Water labels Wat/Ow → O, Hw → H, and hydroxyl/water groups OH, OH2 → O (their hydrogens are implicit and
 * not added, as pymatgen does not add implicit hydrogens). Anything else ("Oa", "Xx1") is undefined.
 */
export function elementFromSiteName(name: string): string | undefined {
  if (SPECIAL_LABELS[name]) return SPECIAL_LABELS[name];
  // the whole leading run of letters must be the element symbol (a non-letter or nothing follows)
  const letters = /^[A-Za-z]+/.exec(name)?.[0];
  if (!letters || letters.length > 2) return undefined;
  const el = letters[0].toUpperCase() + letters.slice(1).toLowerCase();
  return isElementSymbol(el) ? el : undefined;
}

/**
 * Element(s) of an `_atom_site_type_symbol`: one element (elementFromSiteName), or a Pauling File mixed
 * site "0.8Nb + 0.2Zr" / "0.56(4)Mg + 0.44(3)Ta" as element fractions (which scale the row's
 * occupancy). Undefined when not readable.
 */
export function typeSymbolParts(text: string): { el: string; occ: number }[] | undefined {
  if (!text.includes("+") || !/^\s*\d*\.?\d/.test(text)) {
    const el = elementFromSiteName(text);
    return el ? [{ el, occ: 1 }] : undefined;
  }
  const parts: { el: string; occ: number }[] = [];
  for (const p of text.split(/\s+\+\s*|\s*\+\s+/)) {
    const m = /^\s*(\d*\.?\d+)(?:\(\d+\))?\s*([A-Za-z][A-Za-z0-9]*)\s*$/.exec(p);
    const el = m ? elementFromSiteName(m[2]) : undefined;
    if (!m || !el) return undefined;
    parts.push({ el, occ: Number(m[1]) });
  }
  const sum = parts.reduce((a, p) => a + p.occ, 0);
  if (parts.length < 2 || !(sum > 0) || sum > 1 + 1e-3) return undefined;
  return parts;
}

/** Tag spellings that mean one thing (CIF 1 core / DDLm), in order of preference. */
const TAGS = {
  ops: ["_space_group_symop_operation_xyz", "_symmetry_equiv_pos_as_xyz"],
  hall: ["_space_group_name_hall", "_symmetry_space_group_name_hall"],
  hm: ["_space_group_name_h-m_alt", "_symmetry_space_group_name_h-m"],
  number: ["_space_group_it_number", "_symmetry_int_tables_number"],
};

/** True when the block holds atom sites (fractional or Cartesian coordinates). */
export function cifBlockHasStructure(block: CifBlock): boolean {
  return block.tags.has("_atom_site_fract_x") || block.tags.has("_atom_site_cartn_x");
}

/**
 * Parse a CIF into a Structure.
 *
 * - Every data block is parsed (syntax errors anywhere are reported); the structure comes from the
 *   first block with atom sites, or `options.block`. A tag given twice in the block is an error.
 * - Cell: `_cell_length_*`, `_cell_angle_*` (items or one-value loops; uncertainties "(5)" ignored).
 *   Lattice orientation follows pymatgen (c along z, a in the xz plane).
 * - Symmetry: the operations (`_space_group_symop_operation_xyz` or `_symmetry_equiv_pos_as_xyz`);
 *   without them the Hall symbol, else the Hermann-Mauguin symbol (see hallNumberFromSymbol for the
 *   setting chosen), else the IT number (standard setting), via moyo; none of these means P1.
 * - Atom sites: `_atom_site_fract_*`, or `_atom_site_Cartn_*` (Å, in the CIF standard frame: a along
 *   x, b in the xy plane, unless `_atom_sites_fract_tran_matrix_*` is given). A coordinate `.` is 0
 *   (ICSD writes it for a coordinate fixed by symmetry); `?` is an error. Element from
 *   `_atom_site_type_symbol`, else from `_atom_site_label`, only when unambiguous (elementFromSiteName).
 * - Occupancy (`_atom_site_occupancy`, `?`/`.` = 1) must be in (0, 1]; partial sites are kept with
 *   their occupancy (Structure.occupancy), and sites of several rows on one position (a mixed site)
 *   may not sum to more than 1.
 * - Symmetry copies are wrapped into [0, 1) and merged within `mergeTolerance` (a hash grid: linear in
 *   the number of copies). A copy landing on a fully occupied site of another row is an error.
 * Every error names the source, the line and the reason.
 */
export function parseCif(text: string, source = "structure.cif", options: CifOptions = {}): Structure {
  const blocks = parseCifBlocks(text, source);
  return structureFromCifBlock(selectBlock(blocks, source, options.block), source, options);
}

/** Every structure of a CIF with several data blocks (one per block that has atom sites), in file order. */
export function parseCifStructures(text: string, source = "structure.cif", options: Omit<CifOptions, "block"> = {}): Structure[] {
  const blocks = parseCifBlocks(text, source).filter(cifBlockHasStructure);
  if (blocks.length === 0) throw new InputError(`${source}: no data block has atom sites (_atom_site_fract_x or _atom_site_Cartn_x)`);
  return blocks.map((b) => {
    if (b.error) throw new InputError(b.error);
    return structureFromCifBlock(b, source, options);
  });
}

function selectBlock(blocks: CifBlock[], source: string, which: string | number | undefined): CifBlock {
  const names = blocks.map((b) => `data_${b.name} (line ${b.line})`).join(", ");
  if (which === undefined) {
    const b = blocks.find(cifBlockHasStructure);
    if (!b) throw new InputError(`${source}: no data block has atom sites (_atom_site_fract_x or _atom_site_Cartn_x); blocks: ${names}${blocks.find((x) => x.error) ? `; first error: ${blocks.find((x) => x.error)!.error}` : ""}`);
    if (b.error) throw new InputError(b.error);
    return b;
  }
  const b = typeof which === "number" ? blocks[which] : blocks.find((x) => x.name.toLowerCase() === which.toLowerCase());
  if (!b) throw new InputError(`${source}: no data block ${typeof which === "number" ? `#${which}` : `data_${which}`}; blocks: ${names}`);
  if (!cifBlockHasStructure(b)) throw new InputError(`${source}:${b.line}: data_${b.name} has no atom sites`);
  if (b.error) throw new InputError(b.error);
  return b;
}

/** Periodic distance (per axis) of two wrapped fractional coordinates. */
const axisGap = (a: number, b: number) => {
  const d = Math.abs(a - b);
  return d > 0.5 ? 1 - d : d;
};

/** The structure of one parsed CIF data block (see parseCif). */
export function structureFromCifBlock(block: CifBlock, source: string, options: Omit<CifOptions, "block"> = {}): Structure {
  const tol = options.mergeTolerance ?? 1e-3;
  if (!(tol > 0 && tol < 0.5)) throw new RangeError(`mergeTolerance must be in (0, 0.5), got ${tol}`);
  const inBlock = `data_${block.name}`;
  const first = (tags: string[]) => {
    for (const t of tags) { const v = cifItem(block, t, source); if (v) return v; }
    return undefined;
  };

  // cell
  const cellNum = (tag: string, max: number) => {
    const t = cifItem(block, tag, source);
    if (!t) throw new InputError(`${source}:${block.line}: ${tag} missing in ${inBlock}`);
    const v = cifNumber(t, tag, source);
    if (v === undefined || !(v > 0 && v < max)) throw new InputError(`${source}:${t.line}: ${tag} is "${t.text}"; expected a number in (0, ${max})`);
    return v;
  };
  const a = cellNum("_cell_length_a", 1e4), b = cellNum("_cell_length_b", 1e4), c = cellNum("_cell_length_c", 1e4);
  const alpha = cellNum("_cell_angle_alpha", 180), beta = cellNum("_cell_angle_beta", 180), gamma = cellNum("_cell_angle_gamma", 180);
  const lattice = latticeFromParameters(a, b, c, alpha, beta, gamma);
  // the angles must close a parallelepiped (else from_parameters would clamp them into some other cell)
  const [ca, cb, cg] = [alpha, beta, gamma].map((x) => Math.cos((x * Math.PI) / 180));
  if (!(1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg > 1e-8) || !lattice.every(Number.isFinite)) {
    throw new InputError(`${source}:${block.tags.get("_cell_angle_alpha")!.line}: cell angles ${alpha}, ${beta}, ${gamma} do not make a cell`);
  }

  // symmetry operations
  let ops: AffineOperation[] = [];
  const opTag = TAGS.ops.find((t) => block.tags.has(t));
  if (opTag) ops = cifColumn(block, opTag, source).map((t) => parseSymmetryOperation(t.text, `${source}:${t.line}`));
  if (ops.length === 0) {
    const hall = first(TAGS.hall), hm = first(TAGS.hm), num = first(TAGS.number);
    let hallNumber: number | undefined;
    if (hall && !isNull(hall)) {
      hallNumber = hallNumberFromHallSymbol(hall.text);
      if (hallNumber === undefined && !hm) throw new InputError(`${source}:${hall.line}: Hall symbol "${hall.text}" not recognised and no symmetry operations given`);
    }
    if (hallNumber === undefined && hm && !isNull(hm) && hm.text.replace(/\s+/g, "") !== "P1") {
      hallNumber = hallNumberFromSymbol(hm.text, { a, b, c, alpha, beta, gamma });
      if (hallNumber === undefined) throw new InputError(`${source}:${hm.line}: space group "${hm.text}" not recognised and no symmetry operations given`);
    }
    if (hallNumber === undefined && num && !isNull(num) && !hm) {
      const n = cifNumber(num, "space group number", source);
      if (n === undefined || !Number.isInteger(n) || n < 1 || n > 230) throw new InputError(`${source}:${num.line}: space group number "${num.text}" is not 1-230`);
      hallNumber = standardHallNumber(n);
    }
    ops = hallNumber === undefined ? [parseSymmetryOperation("x,y,z")] : operationsFromHallNumber(hallNumber);
  }

  // atom sites
  const cart = !block.tags.has("_atom_site_fract_x");
  const coordTags = cart ? ["_atom_site_cartn_x", "_atom_site_cartn_y", "_atom_site_cartn_z"] : ["_atom_site_fract_x", "_atom_site_fract_y", "_atom_site_fract_z"];
  const coordRef = block.tags.get(coordTags[0])!;
  const column = (tag: string, required: boolean): CifToken[] | undefined => {
    const ref = block.tags.get(tag);
    if (!ref) {
      if (required) throw new InputError(`${source}:${coordRef.line}: ${tag} missing (the atom sites have ${coordTags[0]})`);
      return undefined;
    }
    if (ref.loop !== coordRef.loop) throw new InputError(`${source}:${ref.line}: ${tag} is not in the same loop as ${coordTags[0]} (line ${coordRef.line})`);
    return cifColumn(block, tag, source);
  };
  const X = column(coordTags[0], true)!, Y = column(coordTags[1], true)!, Z = column(coordTags[2], true)!;
  const types = column("_atom_site_type_symbol", false), labels = column("_atom_site_label", false), occs = column("_atom_site_occupancy", false);
  if (!types && !labels) throw new InputError(`${source}:${coordRef.line}: the atom sites have neither _atom_site_type_symbol nor _atom_site_label`);
  const nrows = X.length;

  const toFrac = cart ? cartesianToFractionalMatrix(block, source, a, b, c, alpha, beta, gamma) : undefined;

  // expand by symmetry with a hash grid of bins of size ≥ tol: a copy is compared with the sites in
  // its own and the 26 neighbouring bins only, so the cost is linear in the number of copies
  const nbin = Math.max(1, Math.floor(1 / tol));
  const grid = new Map<number, number[]>();
  const binOf = (f: number) => Math.min(nbin - 1, Math.floor(f * nbin));
  const keyOf = (i: number, j: number, k: number) => ((((i % nbin) + nbin) % nbin) * nbin + (((j % nbin) + nbin) % nbin)) * nbin + (((k % nbin) + nbin) % nbin);
  const species: string[] = [];
  const occupancy: number[] = [];
  const rowOf: number[] = [];
  const frac: number[] = [];
  let partial = false;
  const f = [0, 0, 0];
  for (let r = 0; r < nrows; r++) {
    const line = X[r].line;
    const at = `${source}:${line}`;
    const label = labels?.[r].text;
    const typeTok = types?.[r];
    const name = label ?? typeTok!.text;
    let parts: { el: string; occ: number }[];
    if (typeTok && !isNull(typeTok)) {
      parts = typeSymbolParts(typeTok.text) ?? [];
      if (parts.length === 0) throw new InputError(`${at}: site ${name}: type symbol "${typeTok.text}" is not an element symbol`);
    } else {
      if (label === undefined || isNull(labels![r])) throw new InputError(`${at}: site has neither a type symbol nor a label`);
      const el = elementFromSiteName(label);
      if (!el) throw new InputError(`${at}: site label "${label}" does not name an element unambiguously (add _atom_site_type_symbol)`);
      parts = [{ el, occ: 1 }];
    }
    let occ = 1;
    if (occs) {
      const o = cifNumber(occs[r], `site ${name} occupancy`, source);
      if (o !== undefined) {
        if (!(o > 0) || o > 1 + 1e-3) throw new InputError(`${source}:${occs[r].line}: site ${name} has occupancy ${occs[r].text}; expected a fraction in (0, 1]`);
        occ = Math.min(o, 1);
      }
    }
    for (const part of parts) part.occ *= occ;
    if (parts.some((p) => p.occ < 1)) partial = true;
    const rowOcc = parts.reduce((acc, p) => acc + p.occ, 0);
    const el = parts.map((p) => p.el).join("/");
    const raw = [X[r], Y[r], Z[r]].map((t) => {
      const v = cifNumber(t, `site ${name} coordinate`, source);
      if (v === undefined) {
        if (t.text === ".") return 0;
        throw new InputError(`${source}:${t.line}: site ${name}: coordinate is "?" (unknown)`);
      }
      if (Math.abs(v) > (cart ? 1e5 : 1e4)) throw new InputError(`${source}:${t.line}: site ${name}: coordinate ${t.text} is out of range`);
      return v;
    });
    const f0 = toFrac ? toFrac(raw) : raw;
    for (const op of ops) {
      for (let d = 0; d < 3; d++) {
        const v = op[4 * d] * f0[0] + op[4 * d + 1] * f0[1] + op[4 * d + 2] * f0[2] + op[4 * d + 3];
        const w = v - Math.floor(v);
        f[d] = w >= 1 - 1e-12 ? 0 : w;
      }
      const bi = binOf(f[0]), bj = binOf(f[1]), bk = binOf(f[2]);
      let same = -1; // a copy of this row already there
      let shared = 0; // occupancy of other rows' sites at this position
      const others: number[] = [];
      for (let di = -1; di <= 1; di++) for (let dj = -1; dj <= 1; dj++) for (let dk = -1; dk <= 1; dk++) {
        const list = grid.get(keyOf(bi + di, bj + dj, bk + dk));
        if (!list) continue;
        for (const j of list) {
          if (axisGap(f[0], frac[3 * j]) > tol || axisGap(f[1], frac[3 * j + 1]) > tol || axisGap(f[2], frac[3 * j + 2]) > tol) continue;
          if (rowOf[j] === r) same = j;
          else if (!others.includes(j)) { others.push(j); shared += occupancy[j]; }
        }
      }
      if (same >= 0) continue;
      if (others.length > 0) {
        const j = others[0];
        if (shared + rowOcc > 1 + 1e-3) {
          const what = others.map((k) => `${species[k]}${occupancy[k] < 1 ? ` (occupancy ${occupancy[k]})` : ""}`).join(" + ");
          throw new InputError(`${at}: site ${name} (${el}${rowOcc < 1 ? `, occupancy ${+rowOcc.toFixed(4)}` : ""}) falls on a ${what} site by symmetry; total occupancy ${(shared + rowOcc).toFixed(3)} > 1`);
        }
        // a mixed site: the same position as the site already there
        f[0] = frac[3 * j]; f[1] = frac[3 * j + 1]; f[2] = frac[3 * j + 2];
      }
      const key = keyOf(binOf(f[0]), binOf(f[1]), binOf(f[2]));
      let list = grid.get(key);
      if (!list) grid.set(key, (list = []));
      for (const part of parts) {
        list.push(species.length);
        species.push(part.el);
        occupancy.push(part.occ);
        rowOf.push(r);
        frac.push(f[0], f[1], f[2]);
      }
    }
  }
  if (species.length === 0) throw new InputError(`${source}:${coordRef.line}: no atom sites`);
  const s: Structure = { lattice, species, frac: Float64Array.from(frac), source };
  return partial ? { ...s, occupancy: Float64Array.from(occupancy) } : s;
}

const isNull = (t: CifToken) => !t.quoted && (t.text === "?" || t.text === ".");

/**
 * Cartesian → fractional for `_atom_site_Cartn_*`: `_atom_sites_fract_tran_matrix_ij` and
 * `_atom_sites_fract_tran_vector_i` when given, else the CIF default frame (a along x, b in the xy plane).
 */
function cartesianToFractionalMatrix(block: CifBlock, source: string, a: number, b: number, c: number, alpha: number, beta: number, gamma: number): (xyz: number[]) => number[] {
  const has = block.tags.has("_atom_sites_fract_tran_matrix_11");
  if (has) {
    const M = new Float64Array(9), v = new Float64Array(3);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const tag = `_atom_sites_fract_tran_matrix_${i + 1}${j + 1}`;
        const t = cifItem(block, tag, source);
        const x = t ? cifNumber(t, tag, source) : undefined;
        if (x === undefined) throw new InputError(`${source}:${block.line}: ${tag} missing or unknown`);
        M[3 * i + j] = x;
      }
      const tv = cifItem(block, `_atom_sites_fract_tran_vector_${i + 1}`, source);
      v[i] = tv ? cifNumber(tv, "fract_tran_vector", source) ?? 0 : 0;
    }
    return (x) => [0, 1, 2].map((i) => M[3 * i] * x[0] + M[3 * i + 1] * x[1] + M[3 * i + 2] * x[2] + v[i]);
  }
  const rad = Math.PI / 180;
  const ca = Math.cos(alpha * rad), cb = Math.cos(beta * rad), cg = Math.cos(gamma * rad), sg = Math.sin(gamma * rad);
  const cy = (ca - cb * cg) / sg;
  const frame = Float64Array.from([a, 0, 0, b * cg, b * sg, 0, c * cb, c * cy, c * Math.sqrt(Math.max(0, 1 - cb * cb - cy * cy))]);
  return (x) => Array.from(fractionalCoords(frame, x));
}

/** Read a CIF file (see parseCif). */
export function readCifFile(path: string, options?: CifOptions): Structure {
  return parseCif(fs.readFileSync(path, "utf8"), path, options);
}
