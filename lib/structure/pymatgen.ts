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
function bareSymbol(sym: string): string {
  const m = /^([A-Z][a-z]?)/.exec(sym.trim());
  return m ? m[1] : sym;
}

/**
 * Structure from pymatgen `Structure.as_dict()` (lattice.matrix, sites[].species[{element, occu}],
 * sites[].abc, or sites[].xyz when abc is missing). Disordered sites (several species or occupancy
 * below 1) are rejected: descriptors need one element per site.
 */
export function structureFromPymatgen(obj: unknown, source = "pymatgen structure"): Structure {
  const o = obj as Partial<PymatgenStructureDict> | null;
  if (!o || typeof o !== "object") throw new InputError(`${source}: not a pymatgen structure dict`);
  const mat = o.lattice?.matrix;
  if (!Array.isArray(mat) || mat.length !== 3 || mat.some((r) => !Array.isArray(r) || r.length !== 3)) {
    throw new InputError(`${source}: lattice.matrix must be 3×3`);
  }
  const lattice = Float64Array.from(mat.flat().map(Number));
  if (lattice.some((x) => !Number.isFinite(x))) throw new InputError(`${source}: lattice.matrix has non-numbers`);
  if (!Array.isArray(o.sites) || o.sites.length === 0) throw new InputError(`${source}: no sites`);
  const n = o.sites.length;
  const species: string[] = [];
  const frac = new Float64Array(3 * n);
  let cart: Float64Array | undefined;
  o.sites.forEach((site, i) => {
    const where = `${source}: sites[${i}]`;
    const sp = site?.species;
    if (!Array.isArray(sp) || sp.length === 0) throw new InputError(`${where}: no species`);
    if (sp.length > 1 || Math.abs(Number(sp[0].occu ?? 1) - 1) > 1e-6) {
      throw new InputError(`${where}: disordered site (${sp.map((x) => `${x.element}:${x.occu}`).join(", ")}); only ordered structures are supported`);
    }
    const el = bareSymbol(String(sp[0].element));
    if (!isElementSymbol(el)) throw new InputError(`${where}: unknown element "${sp[0].element}"`);
    species.push(el);
    const abc = site.abc, xyz = site.xyz;
    const pick = Array.isArray(abc) ? abc : xyz;
    if (!Array.isArray(pick) || pick.length !== 3 || pick.some((x) => !Number.isFinite(Number(x)))) {
      throw new InputError(`${where}: needs abc (or xyz) with 3 numbers`);
    }
    if (Array.isArray(abc)) for (let c = 0; c < 3; c++) frac[3 * i + c] = Number(abc[c]);
    else {
      cart ??= new Float64Array(3 * n).fill(NaN);
      for (let c = 0; c < 3; c++) cart[3 * i + c] = Number(pick[c]);
    }
  });
  if (cart) {
    const f = fractionalCoords(lattice, cart);
    for (let k = 0; k < 3 * n; k++) if (!Number.isNaN(cart[k])) frac[k] = f[k];
  }
  return { lattice, species, frac, source };
}

/** pymatgen `Structure.as_dict()`-shaped object (loadable with `Structure.from_dict`). */
export function structureToPymatgen(s: Structure): PymatgenStructureDict {
  const m = s.lattice;
  const matrix = [[m[0], m[1], m[2]], [m[3], m[4], m[5]], [m[6], m[7], m[8]]];
  return {
    "@module": "pymatgen.core.structure",
    "@class": "Structure",
    charge: 0,
    lattice: { matrix },
    sites: s.species.map((el, i) => {
      const a = s.frac[3 * i], b = s.frac[3 * i + 1], c = s.frac[3 * i + 2];
      return {
        species: [{ element: el, occu: 1 }],
        abc: [a, b, c],
        xyz: [0, 1, 2].map((d) => a * m[d] + b * m[3 + d] + c * m[6 + d]),
        label: el,
        properties: {},
      };
    }),
  };
}
