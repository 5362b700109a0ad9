import * as fs from "node:fs";
import * as path from "node:path";
import { parseCif } from "./cif";
import { parseFeffInp } from "./feff";
import { parsePoscar } from "./poscar";
import { structureFromPymatgen } from "./pymatgen";
import { Structure } from "./types";
import { InputError } from "../util/errors";
import { validateStructure } from "./validate";

export type StructureFormat = "poscar" | "cif" | "pymatgen-json" | "feff-inp";

/** Format of a structure file, from its name, else from its content. */
export function detectStructureFormat(file: string, text: string): StructureFormat {
  const base = path.basename(file).toLowerCase();
  const ext = path.extname(base);
  if (/^(poscar|contcar)/.test(base) || ext === ".vasp" || ext === ".poscar") return "poscar";
  if (ext === ".cif") return "cif";
  if (ext === ".json") return "pymatgen-json";
  if (ext === ".inp" || base.startsWith("feff")) return "feff-inp";
  const head = text.trimStart();
  if (head.startsWith("{")) return "pymatgen-json";
  if (/^data_/m.test(text) && /_cell_length_a/i.test(text)) return "cif";
  if (/^\s*ATOMS\b/im.test(text) && /^\s*POTENTIALS\b/im.test(text)) return "feff-inp";
  return "poscar";
}

/**
 * Read a structure from POSCAR/CONTCAR/*.vasp, *.cif, *.json (a pymatgen Structure dict, or an object
 * with it under `structure` or `spectrum.structure`, as in Materials Project documents) or feff.inp
 * (the cluster, periodic: false; use parseFeffInp to also get the absorber).
 * The result is validated (overlapping atoms, degenerate lattice, ...): a user's file fails here, naming
 * the file and sites, rather than deep inside featurisation.
 */
export function readStructureFile(file: string): Structure {
  return validateStructure(parseStructureFile(file));
}

function parseStructureFile(file: string): Structure {
  const text = fs.readFileSync(file, "utf8");
  switch (detectStructureFormat(file, text)) {
    case "poscar":
      return parsePoscar(text, file);
    case "cif":
      return parseCif(text, file);
    case "feff-inp":
      return parseFeffInp(text, file).structure;
    case "pymatgen-json": {
      let obj: any;
      try {
        obj = JSON.parse(text);
      } catch (err) {
        throw new InputError(`${file}: invalid JSON (${(err as Error).message})`);
      }
      const dict = obj?.lattice && obj?.sites ? obj : obj?.structure ?? obj?.spectrum?.structure;
      if (!dict) throw new InputError(`${file}: no pymatgen structure (lattice + sites) found`);
      return structureFromPymatgen(dict, file);
    }
  }
}
