/**
 * Measured standards of known structure for the Cu K edge (xaslib, ../shared/data/xaslib): they
 * calibrate the FEFF-vs-experiment energy offset and validate screening on real data.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sharedDataDir } from "../config";
import { InputError } from "../util/errors";
import { EnergyMesh, meshFromWindow } from "../spectra/mesh";
import { readXdiFile } from "../spectra/xdi";
import { EnergyCalibration, MatchOptions, NormalisedTarget, calibrateOffset, normaliseTarget, parseEnergyCalibration } from "./match";
import { feffMaterialSpectrum } from "./reference";

export interface MeasuredStandard {
  readonly name: string;
  /** Path inside xaslib/data. */
  readonly file: string;
  /** Materials Project ids of the true structure (azurite has two entries in the FEFF set). */
  readonly trueIds: readonly string[];
}

export const CU_MEASURED_STANDARDS: readonly MeasuredStandard[] = [
  { name: "CuO tenorite", file: "Cu/CuO_tenorite_13K_01.xdi", trueIds: ["mp-704645"] },
  { name: "azurite", file: "Cu/Cu_azurite_13K_01.xdi", trueIds: ["mp-23733", "mp-1193268"] },
];

/**
 * Mesh of the validation: starts at 8983 eV, at or before the earliest FEFF energy of the Cu set
 * (8983.18 eV over its 4,157 runs), so the rising edge is inside; 0.5 eV steps to 9120 eV.
 */
export const VALIDATION_MESH = meshFromWindow(8983, 9120, 0.5, false);

/** The offset used for one target, and where it came from. */
export interface TargetCalibration extends EnergyCalibration {
  /** Human-readable provenance, e.g. "calibrated on 2 standards: …" or "leave-one-out: …". */
  readonly note: string;
}

function sameSpectrum(a: NormalisedTarget, b: NormalisedTarget): boolean {
  if (a.energy.length !== b.energy.length) return false;
  for (let i = 0; i < a.energy.length; i += 1) if (a.energy[i] !== b.energy[i] || a.norm[i] !== b.norm[i]) return false;
  return true;
}

/**
 * The FEFF-vs-experiment offset for `target`: from `<modelDir>/energy-calibration.json` when it exists
 * and the target is not one of its standards, else calibrated now on the xaslib Cu standards against
 * their FEFF spectra — leaving out any standard that is the target itself, so a target never helps
 * calibrate its own ranking. Throws when no standard is left.
 */
export function energyCalibrationFor(
  target: NormalisedTarget,
  mesh: EnergyMesh,
  element: string,
  edge: string,
  opts: Omit<MatchOptions, "offset" | "shiftWindow">,
  modelDir?: string,
): TargetCalibration {
  if (element !== "Cu" || edge.toUpperCase() !== "K") {
    throw new InputError(`no measured standards for ${element} ${edge}: give the offset with --offset EV`);
  }
  const data = sharedDataDir();
  const standards = CU_MEASURED_STANDARDS.map((s) => {
    const m = readXdiFile(path.join(data, "xaslib", "data", s.file));
    return { s, t: normaliseTarget(m.energy, m.mu, m.source) };
  });
  const own = standards.filter((x) => sameSpectrum(x.t, target)).map((x) => x.s.name);
  const stored = modelDir ? path.join(modelDir, "energy-calibration.json") : undefined;
  if (stored && fs.existsSync(stored) && own.length === 0) {
    const c = parseEnergyCalibration(fs.readFileSync(stored, "utf8"), stored);
    return { ...c, note: `stored with the model (${stored}): ${c.standards.map((x) => x.name).join(", ")}` };
  }
  const root = path.join(data, "feff-cu-k-oxides");
  const used = standards.filter((x) => !own.includes(x.s.name));
  if (used.length === 0) throw new InputError(`${target.source}: every calibration standard is the target itself; give the offset with --offset EV`);
  const cal = calibrateOffset(
    used.map((x) => {
      const r = feffMaterialSpectrum(path.join(root, x.s.trueIds[0]), mesh, element);
      if (typeof r === "string") throw new InputError(`calibration standard ${x.s.name}: ${r}`);
      return { name: x.s.name, target: x.t, reference: r.spectrum };
    }),
    mesh,
    element,
    edge,
    opts,
  );
  const names = used.map((x) => x.s.name).join(", ");
  const note = own.length
    ? `leave-one-out: the target is the standard "${own.join(", ")}", so the offset comes from ${names} only`
    : `calibrated on ${used.length} measured standard(s) against their FEFF spectra: ${names}`;
  return { ...cal, note };
}
