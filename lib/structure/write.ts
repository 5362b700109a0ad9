import * as path from "node:path";
import { latticeParameters } from "./lattice";
import { Structure } from "./types";
import { formula } from "./validate";
import { structureToPymatgen } from "./pymatgen";
import { InputError } from "../util/errors";
import { writeFileAtomic } from "../util/fs";

/** Digits after the point for fractional coordinates and lattice components: round trips to ~1e-12. */
const DIGITS = 12;
const fmt = (v: number) => (Object.is(v, -0) ? 0 : v).toFixed(DIGITS).padStart(DIGITS + 5);

/**
 * VASP 5 POSCAR text: comment line, scale 1, lattice rows (Å), species and counts (consecutive runs,
 * so site order is kept exactly; a species may appear in several runs), direct coordinates.
 * A POSCAR cannot hold partial occupancy: a disordered structure is an InputError (order it first, see
 * orderMostProbable, or write a CIF).
 */
export function poscarText(s: Structure, comment?: string): string {
  const src = s.source ?? "structure";
  if (s.occupancy && s.occupancy.some((o) => o !== 1)) {
    const i = s.occupancy.findIndex((o) => o !== 1);
    throw new InputError(`${src}: a POSCAR cannot hold partial occupancy (site ${i} ${s.species[i]} ${s.occupancy[i]}); order the structure or write a CIF`);
  }
  if (s.periodic === false) throw new InputError(`${src}: a finite cluster has no cell to write as a POSCAR`);
  const runs: [string, number][] = [];
  for (const el of s.species) {
    if (runs.length > 0 && runs[runs.length - 1][0] === el) runs[runs.length - 1][1]++;
    else runs.push([el, 1]);
  }
  const m = s.lattice;
  const lines = [
    (comment ?? formula(s)).replace(/[\r\n]+/g, " "),
    "1.0",
    ...[0, 1, 2].map((r) => `${fmt(m[3 * r])} ${fmt(m[3 * r + 1])} ${fmt(m[3 * r + 2])}`),
    runs.map(([el]) => el.padStart(4)).join(" "),
    runs.map(([, c]) => String(c).padStart(4)).join(" "),
    "Direct",
  ];
  for (let i = 0; i < s.species.length; i++) lines.push(`${fmt(s.frac[3 * i])} ${fmt(s.frac[3 * i + 1])} ${fmt(s.frac[3 * i + 2])} ${s.species[i]}`);
  return lines.join("\n") + "\n";
}

/** A CIF data-block name from free text: no whitespace, only printable ASCII. */
const blockName = (t: string) => t.replace(/[^\x21-\x7e]+/g, "_").slice(0, 60) || "structure";

/**
 * CIF text in P1 (every site listed, `_space_group_symop_operation_xyz` x,y,z): cell parameters from
 * the lattice (the reader and pymatgen rebuild the lattice in their standard orientation; fractional
 * coordinates are unchanged), labels El1, El2, … per element, `_atom_site_occupancy` (partial
 * occupancies are kept). Readable by our parseCif and by pymatgen's CifParser.
 */
export function cifText(s: Structure, name?: string): string {
  if (s.periodic === false) throw new InputError(`${s.source ?? "structure"}: a finite cluster has no cell to write as a CIF`);
  const p = latticeParameters(s.lattice);
  const f = (v: number) => v.toFixed(DIGITS);
  const counter = new Map<string, number>();
  const rows = s.species.map((el, i) => {
    const k = (counter.get(el) ?? 0) + 1;
    counter.set(el, k);
    const occ = s.occupancy ? s.occupancy[i] : 1;
    return `${el}${k} ${el} ${f(s.frac[3 * i])} ${f(s.frac[3 * i + 1])} ${f(s.frac[3 * i + 2])} ${+occ.toFixed(DIGITS)}`;
  });
  return [
    `# written by @xanes/lib cifText`,
    `data_${blockName(name ?? formula(s))}`,
    `_chemical_formula_sum '${formula(s)}'`,
    `_cell_length_a ${f(p.a)}`,
    `_cell_length_b ${f(p.b)}`,
    `_cell_length_c ${f(p.c)}`,
    `_cell_angle_alpha ${f(p.alpha)}`,
    `_cell_angle_beta ${f(p.beta)}`,
    `_cell_angle_gamma ${f(p.gamma)}`,
    `_symmetry_space_group_name_H-M 'P 1'`,
    `_symmetry_Int_Tables_number 1`,
    `loop_`,
    `_symmetry_equiv_pos_as_xyz`,
    `'x, y, z'`,
    `loop_`,
    `_atom_site_label`,
    `_atom_site_type_symbol`,
    `_atom_site_fract_x`,
    `_atom_site_fract_y`,
    `_atom_site_fract_z`,
    `_atom_site_occupancy`,
    ...rows,
    "",
  ].join("\n");
}

export type WriteFormat = "poscar" | "cif" | "pymatgen-json";

/**
 * Write a structure (e.g. a screening candidate, for a first-principles code) atomically; the format
 * from `format` or the file name: *.cif → CIF (P1), *.json → pymatgen Structure dict, anything else
 * (POSCAR, *.vasp) → POSCAR.
 */
export function writeStructureFile(file: string, s: Structure, format?: WriteFormat): void {
  const base = path.basename(file).toLowerCase();
  const fmtName = format ?? (base.endsWith(".cif") ? "cif" : base.endsWith(".json") ? "pymatgen-json" : "poscar");
  const text = fmtName === "cif" ? cifText(s) : fmtName === "pymatgen-json" ? JSON.stringify(structureToPymatgen(s)) + "\n" : poscarText(s);
  writeFileAtomic(file, text);
}
