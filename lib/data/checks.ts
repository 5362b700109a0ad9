import { InputError } from "../util/errors";

/** An element symbol as pymatgen writes it, optionally with an oxidation state ("Fe", "Fe3+", "O2-", "Fe2.5+"). */
const SPECIES = /^[A-Z][a-z]?(\d*(\.\d+)?[+-])?$/;

/**
 * The numbers and species of a pymatgen structure dict must have their JSON types before it is read:
 * `structureFromPymatgen` converts with Number(), which turns null, true, "" or [] into 0 or 1, and
 * reads the leading letters of any text as a symbol ("NaN" becomes Na). Throws an InputError naming
 * `source` and the field.
 */
export function assertStructureDictNumbers(raw: unknown, source: string): void {
  const o = raw as { lattice?: { matrix?: unknown }; sites?: unknown } | null;
  if (!o || typeof o !== "object") throw new InputError(`${source}: not a pymatgen structure dict`);
  const isNum = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  const mat = o.lattice?.matrix;
  if (!Array.isArray(mat) || mat.length !== 3 || !mat.every((r) => Array.isArray(r) && r.length === 3 && r.every(isNum))) {
    throw new InputError(`${source}: lattice.matrix must be 3×3 finite numbers`);
  }
  if (!Array.isArray(o.sites)) throw new InputError(`${source}: sites must be a list`);
  o.sites.forEach((site: { abc?: unknown; xyz?: unknown; species?: { occu?: unknown; element?: unknown }[] } | null, i: number) => {
    if (!site || typeof site !== "object") throw new InputError(`${source}: sites[${i}] is not an object`);
    for (const k of ["abc", "xyz"] as const) {
      const v = site[k];
      if (v !== undefined && !(Array.isArray(v) && v.length === 3 && v.every(isNum))) throw new InputError(`${source}: sites[${i}].${k} must be 3 finite numbers`);
    }
    if (Array.isArray(site.species)) {
      site.species.forEach((sp, j) => {
        if (!sp || typeof sp !== "object") throw new InputError(`${source}: sites[${i}].species[${j}] is not an object`);
        if (sp.occu !== undefined && !isNum(sp.occu)) throw new InputError(`${source}: sites[${i}].species[${j}].occu must be a number`);
        if (typeof sp.element !== "string" || !SPECIES.test(sp.element)) throw new InputError(`${source}: sites[${i}].species[${j}].element ${JSON.stringify(sp.element)} is not an element symbol`);
      });
    }
  });
}
