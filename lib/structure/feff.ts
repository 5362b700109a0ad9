import * as fs from "node:fs";
import { ELEMENT_SYMBOLS, isElementSymbol } from "../elements/symbols";
import { Structure } from "./types";
import { InputError } from "../util/errors";
import { strictNumber } from "../util/numbers";

/** Largest |coordinate| of a FEFF cluster atom, Å (clusters span tens of Å). */
const MAX_CLUSTER_COORD = 1e4;
const strictInt = (t: string | undefined) => (t !== undefined && /^[+-]?\d+$/.test(t) ? Number(t) : NaN);

/** A FEFF cluster: atoms of the ATOMS card and which of them is the absorber (ipot 0). */
export interface FeffCluster {
  /** periodic: false; cartesian positions relative to the absorber's card origin. */
  structure: Structure;
  /** Index (into structure.species) of the absorbing atom. */
  absorber: number;
}

/** Margin (Å) around the cluster for the box that carries its fractional coordinates. */
const BOX_MARGIN = 10;

const isCard = (tok: string) => /^[A-Za-z_]+$/.test(tok);

/**
 * Parse a feff.inp: POTENTIALS card (ipot Z tag …) maps ipot → element (by Z; the tag when Z is
 * absent), ATOMS card lines are `x y z ipot [tag distance number]` until END. The cluster is
 * returned with `periodic: false` (geometry then sees no periodic images) and a cubic box lattice,
 * centred on the origin, larger than the cluster by 10 Å on each side.
 */
export function parseFeffInp(text: string, source = "feff.inp"): FeffCluster {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // UTF-8 byte-order mark
  const lines = text.split(/\r?\n/);
  const ipotElement = new Map<number, string>();
  const xyz: number[] = [];
  const species: string[] = [];
  let absorber = -1;
  let card = "";
  let sawAtoms = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/[!*].*$/, "").trim(); // '*' starts a comment in feff.inp; also strip '!' comments
    if (raw.length === 0) continue;
    const t = raw.split(/\s+/);
    const at = `${source}:${i + 1}`;
    if (isCard(t[0])) {
      card = t[0].toUpperCase();
      if (card === "ATOMS") sawAtoms = true;
      if (card === "END") break;
      continue;
    }
    if (card === "POTENTIALS") {
      const ipot = strictInt(t[0]), z = strictInt(t[1]);
      if (!Number.isInteger(ipot)) throw new InputError(`${at}: bad POTENTIALS line "${raw}"`);
      let el = Number.isInteger(z) && z >= 1 && z <= ELEMENT_SYMBOLS.length ? ELEMENT_SYMBOLS[z - 1] : "";
      if (!el && t[2] && isElementSymbol(t[2].replace(/[^A-Za-z].*$/, ""))) el = t[2].replace(/[^A-Za-z].*$/, "");
      if (!el) throw new InputError(`${at}: POTENTIALS line without a valid atomic number "${raw}"`);
      const prev = ipotElement.get(ipot);
      if (prev !== undefined && prev !== el) throw new InputError(`${at}: ipot ${ipot} given again as ${el} (it was ${prev})`);
      ipotElement.set(ipot, el);
    } else if (card === "ATOMS") {
      if (t.length < 4) throw new InputError(`${at}: ATOMS line needs x y z ipot, got "${raw}"`);
      const x = strictNumber(t[0]), y = strictNumber(t[1]), z = strictNumber(t[2]), ipot = strictInt(t[3]);
      if (![x, y, z].every((v) => Math.abs(v) <= MAX_CLUSTER_COORD) || !Number.isInteger(ipot)) throw new InputError(`${at}: bad ATOMS line "${raw}" (expected x y z in Å and an integer ipot)`);
      let el = ipotElement.get(ipot);
      if (!el && t[4]) {
        const tag = t[4].replace(/[^A-Za-z].*$/, "");
        if (isElementSymbol(tag)) el = tag;
      }
      if (!el) throw new InputError(`${at}: ipot ${ipot} is not in the POTENTIALS card and the tag "${t[4] ?? ""}" is not an element`);
      if (ipot === 0) {
        if (absorber >= 0) throw new InputError(`${at}: a second absorber (ipot 0); the first is atom ${absorber + 1} of the ATOMS card`);
        absorber = species.length;
      }
      species.push(el);
      xyz.push(x, y, z);
    }
  }
  if (!sawAtoms) throw new InputError(`${source}: no ATOMS card`);
  if (species.length === 0) throw new InputError(`${source}: empty ATOMS card`);
  if (absorber < 0) throw new InputError(`${source}: no absorber (ipot 0) in the ATOMS card`);
  let extent = 0;
  for (const v of xyz) extent = Math.max(extent, Math.abs(v));
  const side = 2 * (extent + BOX_MARGIN);
  const lattice = Float64Array.from([side, 0, 0, 0, side, 0, 0, 0, side]);
  const frac = Float64Array.from(xyz, (v) => v / side);
  return { structure: { lattice, species, frac, source, periodic: false }, absorber };
}

/** Read a feff.inp file (see parseFeffInp). */
export function readFeffInpFile(path: string): FeffCluster {
  return parseFeffInp(fs.readFileSync(path, "utf8"), path);
}
