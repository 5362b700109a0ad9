import { isElementSymbol } from "../elements/symbols";
import { fractionalCoords } from "./lattice";
import { Structure } from "./types";
import { InputError } from "../util/errors";

/** The parts of pymatgen's `Structure.as_dict()` we read and write. */
export interface PymatgenStructureDict {
  "@module"?: string;
  "@class"?: string;
  charge?: number | null;
  lattice: { matrix: number[][]; [key: string]: unknown };
  sites: Array<{
    species: Array<{ element: string; occu: number; oxidation_state?: number }>;
    abc?: number[];
    xyz?: number[];
    label?: string;
    properties?: Record<string, unknown>;
  }>;
}

/** "Fe3+", "O2-", "Fe" → "Fe" (pymatgen may write oxidation states into the symbol). */
/** "Fe", "Fe3+", "O2-", "Fe2.5+" → the element; anything else (e.g. "NaN") is returned whole and rejected by the caller. */
function bareSymbol(sym: string): string {
  const m = /^([A-Z][a-z]?)(\d*(\.\d+)?[+-])?$/.exec(sym.trim());
  return m ? m[1] : sym;
}

/**
 * Structure from pymatgen `Structure.as_dict()` (lattice.matrix, sites[].species[{element, occu}],
 * sites[].abc, or sites[].xyz when abc is missing). Values must be JSON numbers of the right shape:
 * booleans, nulls, strings and one-element arrays are errors naming the field (`sites[3].abc[1]`,
 * and its line when `lineOf` maps a field path to the line of the file where it stands), never
 * coerced. A disordered site (several species, or occupancies below 1) becomes one entry per species
 * at the site's position with its occupancy (Structure.occupancy); occupancies must be in (0, 1] and
 * sum to ≤ 1 per site.
 */
export function structureFromPymatgen(obj: unknown, source = "pymatgen structure", opts: { lineOf?: (path: string) => number | undefined } = {}): Structure {
  const at = (path: string) => {
    const line = path ? opts.lineOf?.(path) : undefined;
    return `${source}${line ? `:${line}` : ""}${path ? `: ${path}` : ""}`;
  };
  // a JSON number (not a boolean, null, string or array standing in for one), finite
  const jsonNumber = (v: unknown, path: string): number => {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new InputError(`${at(path)}: expected a number, got ${v === undefined ? "nothing" : JSON.stringify(v)}`);
    return v;
  };
  const jsonNumbers = (v: unknown, n: number, path: string): number[] => {
    if (!Array.isArray(v) || v.length !== n) throw new InputError(`${at(path)}: expected ${n} numbers, got ${JSON.stringify(v)?.slice(0, 80)}`);
    return v.map((x, k) => jsonNumber(x, `${path}[${k}]`));
  };
  const o = obj as Partial<PymatgenStructureDict> | null;
  if (!o || typeof o !== "object" || Array.isArray(o)) throw new InputError(`${source}: not a pymatgen structure dict`);
  const mat = (o.lattice as { matrix?: unknown } | undefined)?.matrix;
  if (!Array.isArray(mat) || mat.length !== 3) throw new InputError(`${at("lattice.matrix")}: must be 3×3`);
  const lattice = Float64Array.from(mat.flatMap((row, r) => jsonNumbers(row, 3, `lattice.matrix[${r}]`)));
  if (!Array.isArray(o.sites) || o.sites.length === 0) throw new InputError(`${at("sites")}: no sites`);
  const species: string[] = [];
  const occupancy: number[] = [];
  const fracs: number[] = [];
  const carts: (number[] | undefined)[] = [];
  let disordered = false;
  o.sites.forEach((site, i) => {
    const where = `sites[${i}]`;
    if (!site || typeof site !== "object") throw new InputError(`${at(where)}: not a site object`);
    const sp = site.species;
    if (!Array.isArray(sp) || sp.length === 0) throw new InputError(`${at(where)}: no species`);
    const abc = site.abc, xyz = site.xyz;
    const pos = abc !== undefined ? jsonNumbers(abc, 3, `${where}.abc`) : xyz !== undefined ? jsonNumbers(xyz, 3, `${where}.xyz`) : undefined;
    if (!pos) throw new InputError(`${at(where)}: needs abc (or xyz) with 3 numbers`);
    let total = 0;
    sp.forEach((entry, k) => {
      const w = `${where}.species[${k}]`;
      if (!entry || typeof entry !== "object") throw new InputError(`${at(w)}: not a species object`);
      if (typeof entry.element !== "string" || entry.element.length === 0) throw new InputError(`${at(`${w}.element`)}: expected an element symbol, got ${JSON.stringify(entry.element)}`);
      const el = bareSymbol(entry.element);
      if (!isElementSymbol(el)) throw new InputError(`${at(`${w}.element`)}: unknown element "${entry.element}"`);
      const occ = entry.occu === undefined ? 1 : jsonNumber(entry.occu, `${w}.occu`);
      if (!(occ > 0 && occ <= 1 + 1e-6)) throw new InputError(`${at(`${w}.occu`)}: occupancy ${occ} not in (0, 1]`);
      total += occ;
      if (occ < 1 - 1e-9 || sp.length > 1) disordered = true;
      species.push(el);
      occupancy.push(Math.min(occ, 1));
      fracs.push(...(abc !== undefined ? pos : [NaN, NaN, NaN]));
      carts.push(abc !== undefined ? undefined : pos);
    });
    if (total > 1 + 1e-6) throw new InputError(`${at(`${where}.species`)}: occupancies sum to ${total} > 1`);
  });
  const frac = Float64Array.from(fracs);
  const cartIdx = carts.map((c, k) => (c ? k : -1)).filter((k) => k >= 0);
  if (cartIdx.length > 0) {
    const f = fractionalCoords(lattice, Float64Array.from(cartIdx.flatMap((k) => carts[k]!)));
    cartIdx.forEach((k, m) => frac.set(f.subarray(3 * m, 3 * m + 3), 3 * k));
  }
  const s: Structure = { lattice, species, frac, source };
  return disordered ? { ...s, occupancy: Float64Array.from(occupancy) } : s;
}

/**
 * Line (1-based) of every value of a JSON text, by field path ("sites[2].abc[0]"; the root is "").
 * For error messages: run only when one is needed. The text must be valid JSON.
 */
export function jsonValueLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let p = 0, line = 1;
  const ws = () => {
    for (; p < text.length; p++) {
      const c = text[p];
      if (c === "\n") line++;
      else if (c !== " " && c !== "\t" && c !== "\r" && c !== "\ufeff") break;
    }
  };
  const str = (): string => {
    const start = p;
    p++;
    while (text[p] !== '"') p += text[p] === "\\" ? 2 : 1;
    p++;
    return JSON.parse(text.slice(start, p));
  };
  const value = (path: string): void => {
    ws();
    out.set(path, line);
    const c = text[p];
    if (c === "{") {
      p++;
      ws();
      if (text[p] === "}") { p++; return; }
      for (;;) {
        ws();
        const key = str();
        ws();
        p++; // ':'
        value(path ? `${path}.${key}` : key);
        ws();
        if (text[p++] === "}") return;
      }
    }
    if (c === "[") {
      p++;
      ws();
      if (text[p] === "]") { p++; return; }
      for (let k = 0; ; k++) {
        value(`${path}[${k}]`);
        ws();
        if (text[p++] === "]") return;
      }
    }
    if (c === '"') { str(); return; }
    while (p < text.length && !/[\s,\]}]/.test(text[p])) p++;
  };
  value("");
  return out;
}

/**
 * pymatgen `Structure.as_dict()`-shaped object (loadable with `Structure.from_dict`). Entries sharing a
 * position exactly (a mixed site of a disordered structure) become one pymatgen site with several species.
 */
export function structureToPymatgen(s: Structure): PymatgenStructureDict {
  const m = s.lattice;
  const matrix = [[m[0], m[1], m[2]], [m[3], m[4], m[5]], [m[6], m[7], m[8]]];
  const sites: PymatgenStructureDict["sites"] = [];
  const at = new Map<string, number>();
  for (let i = 0; i < s.species.length; i++) {
    const a = s.frac[3 * i], b = s.frac[3 * i + 1], c = s.frac[3 * i + 2];
    const entry = { element: s.species[i], occu: s.occupancy ? s.occupancy[i] : 1 };
    const key = `${a},${b},${c}`;
    const k = s.occupancy ? at.get(key) : undefined;
    if (k !== undefined) {
      sites[k].species.push(entry);
      sites[k].label += `,${s.species[i]}`;
      continue;
    }
    at.set(key, sites.length);
    sites.push({ species: [entry], abc: [a, b, c], xyz: [0, 1, 2].map((d) => a * m[d] + b * m[3 + d] + c * m[6 + d]), label: s.species[i], properties: {} });
  }
  return { "@module": "pymatgen.core.structure", "@class": "Structure", charge: 0, lattice: { matrix }, sites };
}
