// Compare our CIF reading with pymatgen's (the reference in /work/shared/reference/cif-pymatgen,
// made by pymatgen 2022.11 `CifParser(f).get_structures(primitive=False)[0]`).
import * as fs from "node:fs";
import * as path from "node:path";
import { referenceDir } from "../lib/config";
import { parseCif } from "../lib/structure/cif";
import { latticeVolume } from "../lib/structure/lattice";
import { Structure } from "../lib/structure/types";
import { InputError } from "../lib/util/errors";

export const CIF_CORPUS = path.join(referenceDir(), "cif-pymatgen");

export interface PymatgenReading {
  ok: boolean;
  error?: string;
  nsites?: number;
  composition?: Record<string, number>;
  volume?: number;
  ordered?: boolean;
  lattice?: number[][];
  sites?: [string, number, number, number][];
}

export type Verdict =
  | { kind: "agree" }
  | { kind: "differ"; why: string } // we read a structure pymatgen reads differently: silently wrong unless explained
  | { kind: "rejected"; message: string } // InputError
  | { kind: "crash"; message: string } // anything else thrown
  | { kind: "both-reject"; message: string }
  | { kind: "we-read-pymatgen-rejects" };

const gap = (a: number, b: number) => {
  const d = a - b;
  return Math.abs(d - Math.round(d));
};

/** Distinct positions (mixed sites share one) of a structure. */
export function distinctPositions(s: Structure, tol = 1e-6): number {
  const seen = new Map<string, number[]>();
  let count = 0;
  for (let i = 0; i < s.species.length; i++) {
    const f = [0, 1, 2].map((c) => { const v = s.frac[3 * i + c] % 1; return v < 0 ? v + 1 : v; });
    const key = f.map((v) => Math.round(v * 1e4) % 1e4).join(",");
    const list = seen.get(key) ?? [];
    if (!list.some((j) => [0, 1, 2].every((c) => gap(s.frac[3 * j + c], s.frac[3 * i + c]) < tol))) count++;
    list.push(i);
    seen.set(key, list);
  }
  return count;
}

/** Occupancy-weighted composition. */
export function compositionOf(s: Structure): Map<string, number> {
  const m = new Map<string, number>();
  s.species.forEach((el, i) => m.set(el, (m.get(el) ?? 0) + (s.occupancy ? s.occupancy[i] : 1)));
  return m;
}

/** Why `s` differs from pymatgen's reading, or undefined when they agree (sites up to order and lattice translations). */
export function differenceFromPymatgen(s: Structure, ref: PymatgenReading, posTol = 2e-3): string | undefined {
  const vol = Math.abs(latticeVolume(s.lattice));
  if (Math.abs(vol - ref.volume!) > 1e-4 * ref.volume!) return `volume ${vol.toFixed(3)} vs ${ref.volume}`;
  const comp = compositionOf(s);
  const refComp = ref.composition!;
  const els = new Set([...comp.keys(), ...Object.keys(refComp)]);
  for (const el of els) {
    if (Math.abs((comp.get(el) ?? 0) - (refComp[el] ?? 0)) > 1e-3) {
      return `composition ${[...comp].map(([e, v]) => `${e}${+v.toFixed(3)}`).join("")} vs ${Object.entries(refComp).map(([e, v]) => `${e}${v}`).join("")}`;
    }
  }
  const npos = distinctPositions(s);
  if (npos !== ref.nsites) return `${npos} sites vs ${ref.nsites}`;
  if (ref.ordered) {
    if (s.occupancy) return "partially occupied vs ordered";
    const used = new Uint8Array(ref.sites!.length);
    for (let i = 0; i < s.species.length; i++) {
      let hit = -1;
      for (let k = 0; k < ref.sites!.length && hit < 0; k++) {
        const [el, a, b, c] = ref.sites![k];
        if (used[k] || el !== s.species[i]) continue;
        if (gap(a, s.frac[3 * i]) < posTol && gap(b, s.frac[3 * i + 1]) < posTol && gap(c, s.frac[3 * i + 2]) < posTol) hit = k;
      }
      if (hit < 0) return `site ${i} ${s.species[i]} (${Array.from(s.frac.subarray(3 * i, 3 * i + 3), (v) => v.toFixed(4)).join(", ")}) has no pymatgen counterpart`;
      used[hit] = 1;
    }
  } else if (!s.occupancy) return "ordered vs partially occupied";
  return undefined;
}

export function loadPymatgenReadings(): Record<string, PymatgenReading> {
  return JSON.parse(fs.readFileSync(path.join(CIF_CORPUS, "pymatgen-reading.json"), "utf8")).files;
}

/** Our verdict on every corpus file. */
export function corpusVerdicts(read: (text: string, file: string) => Structure = (t, f) => parseCif(t, f)): Map<string, Verdict> {
  const refs = loadPymatgenReadings();
  const out = new Map<string, Verdict>();
  for (const name of Object.keys(refs).sort()) {
    const ref = refs[name];
    const file = path.join(CIF_CORPUS, "files", name);
    let s: Structure;
    try {
      s = read(fs.readFileSync(file, "utf8"), file);
    } catch (err) {
      const message = (err as Error).message;
      if (!(err instanceof InputError) && (err as Error).name !== "InputError") out.set(name, { kind: "crash", message: String((err as Error).stack) });
      else out.set(name, ref.ok ? { kind: "rejected", message } : { kind: "both-reject", message });
      continue;
    }
    if (!ref.ok) { out.set(name, { kind: "we-read-pymatgen-rejects" }); continue; }
    const why = differenceFromPymatgen(s, ref);
    out.set(name, why === undefined ? { kind: "agree" } : { kind: "differ", why });
  }
  return out;
}
