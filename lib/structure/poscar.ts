import * as fs from "node:fs";
import { isElementSymbol } from "../elements/symbols";
import { fractionalCoords, latticeVolume } from "./lattice";
import { Structure } from "./types";
import { InputError } from "../util/errors";
import { MAX_ABS_FRAC } from "./numbers";
import { strictCount, strictNumber } from "../util/numbers";

/** "Cu_pv", "Fe/PAW_PBE" (POTCAR names) → "Cu", "Fe". */
function cleanSymbol(token: string): string {
  return token.split(/[_/]/)[0];
}

function num(tok: string | undefined, where: string, what: string): number {
  const v = strictNumber(tok);
  if (!Number.isFinite(v)) throw new InputError(`${where}: expected ${what}, got "${tok ?? ""}"`);
  return v;
}

/**
 * Parse a VASP POSCAR/CONTCAR. VASP 5 (species line) and VASP 4 (no species line: species are taken
 * from the `species` argument, else from the comment line when it lists one element per count, else from
 * per-line labels after the coordinates). Scale factor: one number (negative = target cell volume, Å³)
 * or three per-axis factors. Direct or Cartesian coordinates, optional "Selective dynamics" line;
 * T/F flags and trailing labels after the coordinates are ignored. Velocities/predictor blocks after
 * the coordinates are ignored.
 */
export function parsePoscar(text: string, source = "POSCAR", species?: readonly string[]): Structure {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // UTF-8 byte-order mark
  const lines = text.split(/\r?\n/);
  const at = (i: number) => `${source}:${i + 1}`;
  const toks = (i: number) => (lines[i] ?? "").trim().split(/\s+/).filter((t) => t.length > 0);
  if (lines.length < 8) throw new InputError(`${source}: too short for a POSCAR (${lines.length} lines)`);

  const scaleToks = toks(1);
  if (scaleToks.length !== 1 && scaleToks.length !== 3) throw new InputError(`${at(1)}: expected a scale factor, got "${lines[1].trim()}"`);
  const scale = scaleToks.map((t) => num(t, at(1), "a scale factor"));

  const lattice = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    const t = toks(2 + r);
    if (t.length < 3) throw new InputError(`${at(2 + r)}: expected 3 lattice vector components, got "${(lines[2 + r] ?? "").trim()}"`);
    for (let c = 0; c < 3; c++) lattice[3 * r + c] = num(t[c], at(2 + r), "a lattice vector component");
  }
  // Scale: one negative number is the wanted volume; three numbers scale x, y, z separately.
  const vol0 = latticeVolume(lattice);
  if (!(Math.abs(vol0) > 1e-10)) throw new InputError(`${at(2)}: degenerate lattice (volume ${vol0.toPrecision(3)} Å³)`);
  if (!Number.isFinite(vol0) || lattice.some((v) => Math.abs(v) > 1e6)) throw new InputError(`${at(2)}: lattice vectors out of range (over 10^6 Å)`);
  const factor = new Float64Array(3);
  if (scale.length === 1) {
    if (scale[0] === 0) throw new InputError(`${at(1)}: scale factor is 0`);
    factor.fill(scale[0] < 0 ? Math.cbrt(-scale[0] / Math.abs(vol0)) : scale[0]);
  } else {
    if (scale.some((v) => v <= 0)) throw new InputError(`${at(1)}: per-axis scale factors must be positive`);
    factor.set(scale);
  }
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) lattice[3 * r + c] *= factor[c];

  let line = 5;
  let names: string[] | undefined;
  const first = toks(line);
  if (first.length > 0 && first.every((t) => !Number.isFinite(Number(t)))) {
    names = first.map(cleanSymbol);
    line++;
  }
  const countToks = toks(line);
  const counts = countToks.map((t) => {
    const v = strictCount(t);
    if (!Number.isSafeInteger(v)) throw new InputError(`${at(line)}: expected atom counts, got "${(lines[line] ?? "").trim()}"`);
    return v;
  });
  if (counts.length === 0) throw new InputError(`${at(line)}: expected atom counts`);
  const countLine = line;
  line++;
  if (/^\s*s/i.test(lines[line] ?? "")) line++; // Selective dynamics
  const mode = (lines[line] ?? "").trim();
  if (mode.length === 0) throw new InputError(`${at(line)}: expected "Direct" or "Cartesian"`);
  const cartesian = /^[ck]/i.test(mode);
  line++;

  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) throw new InputError(`${at(countLine)}: no atoms`);
  // before allocating: a counts line of 10^12 is a corrupt file, not a request for 24 TB
  if (n > lines.length - line) {
    throw new InputError(`${at(countLine)}: atom counts sum to ${n} but only ${Math.max(0, lines.length - line)} lines follow for coordinates`);
  }
  const coords = new Float64Array(3 * n);
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = toks(line + i);
    if (t.length < 3) throw new InputError(`${at(line + i)}: expected coordinates of atom ${i + 1} of ${n}, got "${(lines[line + i] ?? "").trim()}"`);
    for (let c = 0; c < 3; c++) coords[3 * i + c] = num(t[c], at(line + i), "a coordinate");
    // a fractional coordinate beyond 10^4 cells (a Cartesian one beyond 10^7 Å; checked in cells below) has no digits left for its place in the cell
    if (coords.subarray(3 * i, 3 * i + 3).some((v) => Math.abs(v) > (cartesian ? MAX_ABS_FRAC * 1e3 : MAX_ABS_FRAC))) {
      throw new InputError(`${at(line + i)}: coordinate of atom ${i + 1} out of range: "${(lines[line + i] ?? "").trim()}"`);
    }
    const rest = t.slice(3).filter((x) => !/^[TF]$/i.test(x));
    labels.push(rest.length > 0 ? cleanSymbol(rest[0]) : "");
  }

  if (!names) {
    if (species) names = [...species];
    else {
      const comment = toks(0).map(cleanSymbol);
      if (comment.length >= counts.length && comment.slice(0, counts.length).every(isElementSymbol)) names = comment.slice(0, counts.length);
    }
  }
  const siteSpecies: string[] = [];
  if (names) {
    if (names.length !== counts.length) {
      throw new InputError(`${at(countLine)}: ${counts.length} atom counts but ${names.length} species (${names.join(" ")})`);
    }
    counts.forEach((c, k) => { for (let j = 0; j < c; j++) siteSpecies.push(names![k]); });
  } else if (labels.every((l) => isElementSymbol(l))) {
    siteSpecies.push(...labels);
  } else {
    throw new InputError(`${source}: VASP 4 POSCAR without species: pass them as an argument`);
  }
  siteSpecies.forEach((sp, i) => {
    if (!isElementSymbol(sp)) throw new InputError(`${source}: unknown element "${sp}" for atom ${i + 1}`);
  });

  let frac: Float64Array;
  if (cartesian) {
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) coords[3 * i + c] *= factor[c];
    frac = fractionalCoords(lattice, coords);
    const bad = frac.findIndex((v) => !(Math.abs(v) <= MAX_ABS_FRAC));
    if (bad >= 0) throw new InputError(`${at(line + Math.floor(bad / 3))}: Cartesian coordinate of atom ${Math.floor(bad / 3) + 1} lies ${frac[bad]} cells out`);
  } else frac = coords;
  return { lattice, species: siteSpecies, frac, source };
}

/** Read a POSCAR/CONTCAR file (see parsePoscar). */
export function readPoscarFile(path: string, species?: readonly string[]): Structure {
  return parsePoscar(fs.readFileSync(path, "utf8"), path, species);
}
