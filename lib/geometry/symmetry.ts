import * as moyo from "@spglib/moyo-wasm";
import { elementZ } from "../elements/table";
import { Structure } from "../structure/types";
import { InputError } from "../util/errors";

/**
 * Crystal symmetry with moyo (`@spglib/moyo-wasm`, the successor of spglib): space group, Wyckoff
 * letters and orbits of a structure, and the operations of a space group given by symbol or Hall number.
 *
 * Initialisation: moyo is WebAssembly. In Node it is loaded on first use from the package's .wasm
 * (the only place this module touches the file system); in a browser call `initMoyo(bytesOrModule)`
 * once before anything else.
 */
let ready = false;

/** Load moyo's WebAssembly (once). Without an argument, reads the .wasm file shipped with the package (Node only). */
export function initMoyo(wasm?: BufferSource | WebAssembly.Module): void {
  if (ready) return;
  if (wasm === undefined) {
    // Node-only edge: kept inside the function so a browser bundle that passes the bytes never needs fs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs: typeof import("node:fs") = require("node:fs");
    wasm = fs.readFileSync(require.resolve("@spglib/moyo-wasm/moyo_wasm_bg.wasm"));
  }
  moyo.initSync({ module: wasm });
  ready = true;
}

/**
 * Default distance tolerance of the symmetry search, Å (moyo's `symprec`, as spglib's): two positions
 * within it count as one after an operation. 1e-3 Å keeps every Cu site FEFF computed separately in
 * the FEFF Cu K set in its own orbit (scripts/compare-equivalence.ts measures the choice: 1e-2 Å
 * merges computed sites in 2 materials, 1e-1 Å in 51), while relaxed DFT cells, symmetrised to
 * ~1e-5 Å, are found at their full symmetry (and a CIF expanded by its own operations is symmetric
 * by construction).
 */
export const DEFAULT_SYMPREC = 1e-3;

/** A space-group type as moyo names it. */
export interface SpaceGroupInfo {
  /** ITA number, 1-230. */
  readonly number: number;
  /** Hall number, 1-530 (the setting). */
  readonly hallNumber: number;
  /** Hermann-Mauguin symbol ("F m -3 m"). */
  readonly symbol: string;
}

/** Symmetry of one structure (see analyzeSymmetry). */
export interface StructureSymmetry {
  readonly spaceGroup: SpaceGroupInfo;
  /** Wyckoff letter of each site (in the standard setting). */
  readonly wyckoff: readonly string[];
  /** Site-symmetry symbol of each site ("m-3m", "..2"). */
  readonly siteSymmetry: readonly string[];
  /** Per site: the lowest site index of its orbit (symmetry-equivalent sites share it). */
  readonly orbit: Int32Array;
  /** Per site: number of sites of the cell in its orbit. */
  readonly multiplicity: Int32Array;
  /** The tolerance used, Å. */
  readonly symprec: number;
}

export interface SymmetryOptions {
  /** Distance tolerance, Å (default DEFAULT_SYMPREC). */
  readonly symprec?: number;
}

const cache = new WeakMap<Structure, Map<number, StructureSymmetry>>();

/**
 * Space group, Wyckoff letters, site symmetries and orbits of a periodic structure (moyo
 * `analyze_cell` in the ITA standard setting). Cached per structure object and symprec.
 * Site types are the species; with partial occupancies, sites sharing a position (a mixed site) are
 * one moyo atom typed by their whole content, so a half-occupied site is never made equivalent to a
 * full one (the space group is then that of the average, disordered structure).
 * Finite clusters (periodic: false) have no space group: InputError.
 */
export function analyzeSymmetry(structure: Structure, opts: SymmetryOptions = {}): StructureSymmetry {
  const symprec = opts.symprec ?? DEFAULT_SYMPREC;
  if (!(symprec > 0) || !Number.isFinite(symprec)) throw new RangeError(`analyzeSymmetry: symprec must be a positive number (Å), got ${symprec}`);
  let perStructure = cache.get(structure);
  const hit = perStructure?.get(symprec);
  if (hit) return hit;
  const src = structure.source ?? "structure";
  if (structure.periodic === false) throw new InputError(`${src}: a finite cluster has no space group`);
  initMoyo();
  const n = structure.species.length;
  const occ = structure.occupancy;
  // One moyo atom per distinct position: a mixed site (several entries at one position, see
  // Structure.occupancy) becomes one atom whose type is its whole content, and a partial site never
  // matches a full one of the same element.
  const posOf = new Int32Array(n);
  const posSites: number[][] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = occ ? [0, 1, 2].map((c) => { const v = structure.frac[3 * i + c]; return Math.round((v - Math.floor(v)) * 1e9) % 1e9; }).join(",") : String(i);
    let p = seen.get(key);
    if (p === undefined) { p = posSites.length; seen.set(key, p); posSites.push([]); }
    posSites[p].push(i);
    posOf[i] = p;
  }
  const types = new Map<string, number>();
  const numbers: number[] = [];
  const positions: [number, number, number][] = [];
  for (const list of posSites) {
    const i0 = list[0];
    const ordered = list.length === 1 && (!occ || occ[i0] === 1);
    const key = ordered ? structure.species[i0] : list.map((i) => `${structure.species[i]}:${occ ? occ[i] : 1}`).sort().join("+");
    let t = types.get(key);
    if (t === undefined) {
      // keep real Z for ordered sites (readable in moyo's output); other contents get numbers above 1000
      t = ordered ? elementZ(structure.species[i0], `${src} site ${i0}`) : 1000 + types.size;
      types.set(key, t);
    }
    numbers.push(t);
    positions.push([structure.frac[3 * i0], structure.frac[3 * i0 + 1], structure.frac[3 * i0 + 2]]);
  }
  const cell = { lattice: { basis: Array.from(structure.lattice) }, positions, numbers };
  let ds: moyo.MoyoDataset;
  try {
    ds = moyo.analyze_cell(JSON.stringify(cell), symprec, "Standard");
  } catch (err) {
    throw new InputError(`${src}: symmetry analysis (moyo, symprec ${symprec} Å) failed: ${String((err as Error)?.message ?? err)}`);
  }
  // site orbit: the lowest site index with the same species and occupancy in the same position orbit
  const orbit = new Int32Array(n);
  const firstOf = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = `${ds.orbits[posOf[i]]}|${structure.species[i]}|${occ ? occ[i] : 1}`;
    let r = firstOf.get(key);
    if (r === undefined) { r = i; firstOf.set(key, i); }
    orbit[i] = r;
  }
  const count = new Int32Array(n);
  for (let i = 0; i < n; i++) count[orbit[i]]++;
  const multiplicity = new Int32Array(n);
  for (let i = 0; i < n; i++) multiplicity[i] = count[orbit[i]];
  const wyckoff = Array.from(posOf, (p) => ds.wyckoffs[p]);
  const siteSymmetry = Array.from(posOf, (p) => ds.site_symmetry_symbols[p]);
  const result: StructureSymmetry = {
    spaceGroup: { number: ds.number, hallNumber: ds.hall_number, symbol: ds.hm_symbol },
    wyckoff,
    siteSymmetry,
    orbit,
    multiplicity,
    symprec,
  };
  if (!perStructure) cache.set(structure, (perStructure = new Map()));
  perStructure.set(symprec, result);
  return result;
}

/** Space group and Wyckoff position of one site (see siteSymmetryInfo). */
export interface SiteSymmetryInfo {
  /** Hermann-Mauguin symbol of the space group ("F m -3 m"). */
  readonly spaceGroup: string;
  readonly spaceGroupNumber: number;
  /** Wyckoff position with its multiplicity in the conventional cell ("4a"). */
  readonly wyckoff: string;
  /** Site-symmetry symbol ("m-3m"). */
  readonly siteSymmetry: string;
  /** Sites of this structure's cell in the site's orbit (the weight of its spectrum in a cell average). */
  readonly multiplicity: number;
  /** "F m -3 m (225), 4a": for tables and plot titles. */
  readonly label: string;
}

const wyckoffMultiplicity = new Map<number, Map<string, number>>();

/**
 * Space group and Wyckoff position of `site` (moyo, cached per structure; see analyzeSymmetry).
 * InputError for finite clusters, which have no space group.
 */
export function siteSymmetryInfo(structure: Structure, site: number, opts: SymmetryOptions = {}): SiteSymmetryInfo {
  const sym = analyzeSymmetry(structure, opts);
  if (!Number.isInteger(site) || site < 0 || site >= structure.species.length) {
    throw new InputError(`${structure.source ?? "structure"}: site ${site} out of range (${structure.species.length} sites)`);
  }
  let mult = wyckoffMultiplicity.get(sym.spaceGroup.hallNumber);
  if (!mult) {
    mult = new Map(moyo.wyckoff_positions(sym.spaceGroup.hallNumber).map((w) => [w.letter, w.multiplicity]));
    wyckoffMultiplicity.set(sym.spaceGroup.hallNumber, mult);
  }
  const letter = sym.wyckoff[site];
  const wyckoff = `${mult.get(letter) ?? ""}${letter}`;
  return {
    spaceGroup: sym.spaceGroup.symbol,
    spaceGroupNumber: sym.spaceGroup.number,
    wyckoff,
    siteSymmetry: sym.siteSymmetry[site],
    multiplicity: sym.multiplicity[site],
    label: `${sym.spaceGroup.symbol} (${sym.spaceGroup.number}), ${wyckoff}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Space-group operations from a symbol, Hall symbol, ITA number or Hall number.

/** A symmetry operation on fractional coordinates as a 3×4 row-major affine matrix [R | t]. */
export type AffineOperation = Float64Array;

interface HallEntry { hall: number; number: number; setting: string; hmShort: string; hmFull: string; hallSymbol: string }
let hallTable: HallEntry[] | undefined;

function hallEntries(): HallEntry[] {
  if (hallTable) return hallTable;
  initMoyo();
  hallTable = [];
  for (let h = 1; h <= 530; h++) {
    const e = moyo.hall_symbol_entry(h);
    hallTable.push({ hall: h, number: e.number, setting: e.setting, hmShort: e.hm_short, hmFull: e.hm_full, hallSymbol: e.hall_symbol });
  }
  return hallTable;
}

/** Symbol key for matching: no spaces or underscores ("P 2_1/c" and "P21/c" are one key). */
const symbolKey = (s: string) => s.replace(/[\s_]/g, "");

/** Symbols of the ITA before 2002 (the glide "e" had no letter) still common in older CIFs. */
const OLD_SYMBOLS: Record<string, string> = { Cmca: "Cmce", Cmma: "Cmme", Ccca: "Ccce", Abm2: "Aem2", Aba2: "Aea2" };

/** What the cell looks like, to pick the hexagonal or rhombohedral axes of an R group. */
export interface CellHint { a: number; b: number; c: number; alpha: number; beta: number; gamma: number }

/**
 * Hall number (1-530) of a Hermann-Mauguin symbol, the mapping CIF readers need when a file gives
 * only `_symmetry_space_group_name_H-M`. Built from moyo's Hall table (hm_short and hm_full of each
 * Hall entry), matched without spaces and underscores ("P 21/c" = "P 2_1/c"), then case-insensitively.
 * A setting suffix ":1", ":2", ":H", ":R" or a setting code ("b1", "cab") after a colon selects it, as
 * do ICSD's trailing " S" (origin choice 1), " Z" (origin choice 2), " H" and " R".
 * Without a suffix: the full symbol when it names one setting ("P 1 21/n 1" → 82); else the ITA
 * standard one: origin choice 2 where there are two (centre of inversion at the origin, as ICSD and
 * most refinements use), the rhombohedral axes for an R group only when the cell is rhombohedral
 * (a = b = c, α = β = γ ≠ 90°), otherwise the lowest Hall number (the standard setting, e.g. b-unique
 * cell choice 1 for monoclinic). Returns undefined for a symbol not in the table.
 */
export function hallNumberFromSymbol(symbol: string, cell?: CellHint): number | undefined {
  const table = hallEntries();
  let s = symbol.trim();
  let setting: string | undefined;
  const colon = s.indexOf(":");
  if (colon >= 0) {
    setting = s.slice(colon + 1).trim();
    s = s.slice(0, colon);
  } else {
    // ICSD style: "F d -3 m Z" (origin choice 2), "... S" (origin choice 1), "R -3 m H" / "R -3 m R"
    const suffix = /\s+([SZHR])$/.exec(s);
    if (suffix) {
      setting = { S: "1", Z: "2", H: "H", R: "R" }[suffix[1]]!;
      s = s.slice(0, suffix.index);
    }
  }
  let key = symbolKey(s);
  key = OLD_SYMBOLS[key] ?? key;
  const pick = (match: (e: HallEntry) => boolean): HallEntry[] => table.filter(match);
  let found = pick((e) => symbolKey(e.hmFull) === key || symbolKey(e.hmShort) === key);
  if (found.length === 0) {
    const lower = key.toLowerCase();
    found = pick((e) => symbolKey(e.hmFull).toLowerCase() === lower || symbolKey(e.hmShort).toLowerCase() === lower);
  }
  if (found.length === 0) return undefined;
  if (setting !== undefined) {
    const st = setting.toLowerCase();
    const bySetting = found.filter((e) => e.setting.toLowerCase() === st || (st === "1" || st === "2" ? e.setting.startsWith(st) : false));
    return bySetting[0]?.hall;
  }
  const full = found.filter((e) => symbolKey(e.hmFull) === key);
  const uniqueFull = new Set(full.map((e) => e.number)).size === 1 && full.length > 0 ? full : found;
  let cands = uniqueFull;
  if (cands.some((e) => e.setting === "H" || e.setting === "R")) {
    const rhombo = cell !== undefined && Math.abs(cell.a - cell.b) < 1e-3 * cell.a && Math.abs(cell.a - cell.c) < 1e-3 * cell.a &&
      Math.abs(cell.alpha - cell.beta) < 1e-3 && Math.abs(cell.alpha - cell.gamma) < 1e-3 && Math.abs(cell.alpha - 90) > 1e-3;
    cands = cands.filter((e) => e.setting === (rhombo ? "R" : "H"));
  } else if (cands.some((e) => e.setting.startsWith("2"))) {
    const two = cands.filter((e) => e.setting.startsWith("2"));
    cands = two;
  }
  return cands.reduce((a, b) => (b.hall < a.hall ? b : a)).hall;
}

/** Hall number of a Hall symbol ("-P 2ybc"), matched without repeated spaces, case-insensitively; undefined if unknown. */
export function hallNumberFromHallSymbol(hall: string): number | undefined {
  const key = hall.trim().replace(/\s+/g, " ").toLowerCase();
  return hallEntries().find((e) => e.hallSymbol.toLowerCase() === key)?.hall;
}

/** Hall number of the ITA standard setting of space group `number` (moyo "Standard"). */
export function standardHallNumber(number: number): number {
  if (!Number.isInteger(number) || number < 1 || number > 230) throw new RangeError(`space group number must be 1-230, got ${number}`);
  initMoyo();
  const ops = moyo.operations_from_number(number, { type: "Standard" }, false);
  // the standard setting is the Hall entry of this number whose operations are those
  const entries = hallEntries().filter((e) => e.number === number);
  for (const e of entries) {
    const o = moyo.operations_from_number(number, { type: "HallNumber", value: e.hall }, false);
    if (o.length === ops.length && o.every((x, k) => sameOp(x, ops[k]))) return e.hall;
  }
  return entries[0].hall;
}

function sameOp(a: moyo.MoyoOperation, b: moyo.MoyoOperation): boolean {
  for (let k = 0; k < 9; k++) if (a.rotation[k] !== b.rotation[k]) return false;
  for (let k = 0; k < 3; k++) if (Math.abs(a.translation[k] - b.translation[k]) > 1e-9) return false;
  return true;
}

/** Space-group type of a Hall number: ITA number and short symbol. */
export function hallNumberInfo(hall: number): SpaceGroupInfo {
  const e = hallEntries()[hall - 1];
  if (!e) throw new RangeError(`Hall number must be 1-530, got ${hall}`);
  return { number: e.number, hallNumber: hall, symbol: e.hmShort };
}

/**
 * The operations of a space group in the setting of Hall number `hall` (1-530), conventional cell
 * (centring translations included), as 3×4 affine matrices [R | t] on fractional coordinates.
 */
export function operationsFromHallNumber(hall: number): AffineOperation[] {
  if (!Number.isInteger(hall) || hall < 1 || hall > 530) throw new RangeError(`Hall number must be 1-530, got ${hall}`);
  initMoyo();
  const e = hallEntries()[hall - 1];
  return moyo.operations_from_number(e.number, { type: "HallNumber", value: hall }, false).map((op) => {
    const m = new Float64Array(12);
    for (let r = 0; r < 3; r++) {
      // moyo serialises its (nalgebra) matrices column by column: rotation[3c + r] is R[r][c]
      for (let c = 0; c < 3; c++) m[4 * r + c] = op.rotation[3 * c + r];
      m[4 * r + 3] = op.translation[r];
    }
    return m;
  });
}

/** siteSymmetryInfo, or undefined where a structure has no space group (clusters) or moyo fails: for reports that must not fail on it. */
export function symmetryOf(structure: Structure, site: number): SiteSymmetryInfo | undefined {
  if (structure.periodic === false) return undefined;
  try {
    return siteSymmetryInfo(structure, site);
  } catch (err) {
    if (err instanceof InputError) return undefined;
    throw err;
  }
}
