import * as fs from "node:fs";
import { parseCif } from "./cif";
import { parseFeffInp } from "./feff";
import { parsePoscar } from "./poscar";
import { jsonValueLines, structureFromPymatgen } from "./pymatgen";
import { Structure } from "./types";
import { InputError } from "../util/errors";
import { validateStructure } from "./validate";
import { OrderMode, orderMostProbable } from "./disorder";
import { CifOptions } from "./cif";

export type StructureFormat = "poscar" | "cif" | "pymatgen-json" | "feff-inp";

/** Format of a structure file, from its name, else from its content. */
export function detectStructureFormat(file: string, text: string): StructureFormat {
  // string operations rather than node:path: the browser reads files by name too (parseStructureText)
  const base = (file.split(/[\\/]/).pop() ?? file).toLowerCase();
  const dot = base.lastIndexOf(".");
  const ext = dot > 0 ? base.slice(dot) : "";
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
 *
 * Partial occupancy (CIF, pymatgen JSON) is kept by default (`order: "none"`): featurising a site whose
 * environment holds partial sites is then an InputError naming them. `order: "most-probable"` reads
 * one ordered structure instead (orderMostProbable: each position takes its most probable occupant).
 * `cif` passes options to the CIF reader (data block, merge tolerance).
 */
export function readStructureFile(file: string, options: { order?: OrderMode; cif?: CifOptions } = {}): Structure {
  return parseStructureText(fs.readFileSync(file, "utf8"), file, options);
}

/**
 * The structure in `text`, read from a file named `file` (format from its name, else its content),
 * validated and ordered as readStructureFile does: the same reader without the file system (browser).
 */
export function parseStructureText(text: string, file: string, options: { order?: OrderMode; cif?: CifOptions } = {}): Structure {
  const s = validateStructure(parseStructureSource(text, file, options.cif));
  return options.order === "most-probable" ? validateStructure(orderMostProbable(s)) : s;
}

function parseStructureSource(text: string, file: string, cif?: CifOptions): Structure {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // UTF-8 byte-order mark (editors write it)
  switch (detectStructureFormat(file, text)) {
    case "poscar":
      return parsePoscar(text, file);
    case "cif":
      return parseCif(text, file, cif);
    case "feff-inp":
      return parseFeffInp(text, file).structure;
    case "pymatgen-json": {
      let obj: any;
      try {
        obj = JSON.parse(text);
      } catch (err) {
        // JSON.parse says "at position N" for most faults: give the line
        const pos = /position (\d+)/.exec((err as Error).message);
        const line = pos ? text.slice(0, Number(pos[1])).split("\n").length : undefined;
        throw new InputError(`${file}${line ? `:${line}` : ""}: invalid JSON (${(err as Error).message})`);
      }
      const prefix = obj?.lattice && obj?.sites ? "" : obj?.structure ? "structure." : "spectrum.structure.";
      const dict = obj?.lattice && obj?.sites ? obj : obj?.structure ?? obj?.spectrum?.structure;
      if (!dict) throw new InputError(`${file}: no pymatgen structure (lattice + sites) found`);
      let lines: Map<string, number> | undefined;
      return structureFromPymatgen(dict, file, { lineOf: (p) => (lines ??= jsonValueLines(text)).get(prefix + p) });
    }
  }
}
