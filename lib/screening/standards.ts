/**
 * Measured standards of known structure for the Cu K edge (xaslib, ../shared/data/xaslib): they
 * calibrate the FEFF-vs-experiment energy offset and validate screening on real data.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sharedDataDir } from "../config";
import { InputError } from "../util/errors";
import { EnergyMesh, meshFromWindow } from "../spectra/mesh";
import { readMeasuredTarget, type MeasuredTarget } from "./target";
import {
  CalibrationStandard,
  DEFAULT_MATCH,
  EnergyCalibration,
  MatchOptions,
  NormalisedTarget,
  calibrateOffset,
  checkScoreNormalisation,
  formatAlignment,
  leaveOneOutOffsets,
  normaliseTarget,
  parseEnergyCalibration,
} from "./match";
import { feffMaterialSpectrum } from "./reference";
import { energyMeshOf, type SpectralAlignment, type SpectralContract } from "../model/spectral";
import { modelFolders, readModelFile, writeModelAlignment } from "../model/io";
import { loadEnsemble } from "../model/ensemble";
import type { XanesPredictor } from "../model/predictor";
import { parsePoscar } from "../structure/poscar";
import { ensemblePredictor } from "./predictor";
import { predictMaterial } from "./model-validation";

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

/**
 * The same measurement, also when one copy's energies were moved rigidly (read with or without the
 * reference-foil calibration, `--energy-as-written`): a standard must be recognised either way, or it
 * would calibrate its own ranking.
 */
function sameSpectrum(a: NormalisedTarget, b: NormalisedTarget): boolean {
  const n = a.energy.length;
  if (n !== b.energy.length || n === 0) return false;
  const d0 = a.energy[0] - b.energy[0];
  if (!(Math.abs(d0) <= 20)) return false;
  for (let i = 0; i < n; i += 1) {
    if (Math.abs(a.energy[i] - b.energy[i] - d0) > 1e-6 || Math.abs(a.norm[i] - b.norm[i]) > 1e-6 * Math.max(1, Math.abs(a.norm[i]))) return false;
  }
  return true;
}

/** A measured standard, read and normalised as a user's target is. */
export interface ReadStandard extends MeasuredStandard {
  /** The file as read (mu rule, energy calibration by the reference foil). */
  readonly measured: MeasuredTarget;
  readonly target: NormalisedTarget;
}

/**
 * The measured standards of an element and edge (today Cu K: CU_MEASURED_STANDARDS), read with the same
 * reader as a user's target, so offsets are calibrated on energies treated alike (reference foil).
 * InputError for other edges (none exist); `give` says what the caller can do instead.
 */
export function readMeasuredStandards(element = "Cu", edge = "K", dataDir = sharedDataDir(), give = "no offset can be calibrated"): ReadStandard[] {
  if (element.toLowerCase() !== "cu" || edge.toUpperCase() !== "K") {
    throw new InputError(`no measured standards for ${element} ${edge}: ${give}`);
  }
  return CU_MEASURED_STANDARDS.map((s) => {
    const measured = readMeasuredTarget(path.join(dataDir, "xaslib", "data", s.file), { element, edge });
    return { ...s, measured, target: normaliseTarget(measured.energy, measured.mu, measured.source) };
  });
}

/** Where a stored offset may come from: the model's spectral contract, or the file older models had beside them. */
export interface StoredAlignment {
  /** The model's `spectral.alignment` (null or absent: not calibrated). */
  readonly alignment?: SpectralAlignment | null;
  /** The model folder, for an `energy-calibration.json` written before the offset moved into the contract. */
  readonly dir?: string;
}

/**
 * The FEFF-vs-experiment offset for `target`, from the first of:
 *   1. the model's spectral contract (`alignment`) — when the target is one of its standards, that
 *      standard's leave-one-out offset (calibrated on the others only);
 *   2. an `energy-calibration.json` in the model folder (older models; said in the note), when the
 *      target is not one of its standards;
 *   3. calibrated now on the xaslib standards against their FEFF spectra, leaving out any standard that
 *      is the target itself.
 * So a target never helps calibrate its own ranking. Throws when no standard is left.
 */
export function energyCalibrationFor(
  target: NormalisedTarget,
  mesh: EnergyMesh,
  element: string,
  edge: string,
  opts: Omit<MatchOptions, "offset" | "shiftWindow">,
  stored: StoredAlignment = {},
): TargetCalibration {
  const data = sharedDataDir();
  const standards = readMeasuredStandards(element, edge, data, "give the offset with --offset EV");
  const own = standards.filter((x) => sameSpectrum(x.target, target)).map((x) => x.name);
  const a = stored.alignment;
  if (a) {
    if (own.length === 0) return { ...a, note: `stored in the model's spectral contract (alignment): calibrated on ${a.standards.map((x) => x.name).join(", ")}` };
    const loo = own.length === 1 ? a.leaveOneOut?.find((x) => x.name === own[0]) : undefined;
    if (loo) {
      const rest = a.standards.filter((x) => x.name !== own[0]);
      const spread = rest.length > 1 ? Math.sqrt(rest.reduce((acc, x) => acc + (x.shift - loo.offset) ** 2, 0) / (rest.length - 1)) : null;
      return {
        ...a,
        offset: loo.offset,
        spread,
        standards: rest,
        note: `leave-one-out, from the model's spectral contract: the target is the standard "${own[0]}", so the offset is the one calibrated on ${rest.map((x) => x.name).join(", ")} only`,
      };
    }
  }
  const legacy = stored.dir ? path.join(stored.dir, "energy-calibration.json") : undefined;
  if (!a && legacy && fs.existsSync(legacy) && own.length === 0) {
    const c = parseEnergyCalibration(fs.readFileSync(legacy, "utf8"), legacy);
    return {
      ...c,
      note: `read from ${legacy}, the file older models kept beside them (calibrated on ${c.standards.map((x) => x.name).join(", ")}); calibrateModelAlignment or validate:measured --save now store it in the model's spectral contract`,
    };
  }
  const root = path.join(data, "feff-cu-k-oxides");
  const used = standards.filter((x) => !own.includes(x.name));
  if (used.length === 0) throw new InputError(`${target.source}: every calibration standard is the target itself; give the offset with --offset EV`);
  const cal = calibrateOffset(feffStandards(used, mesh, element, root), mesh, element, edge, opts);
  const names = used.map((x) => x.name).join(", ");
  const note = own.length
    ? `leave-one-out: the target is the standard "${own.join(", ")}", so the offset comes from ${names} only`
    : `calibrated on ${used.length} measured standard(s) against their FEFF spectra: ${names}`;
  return { ...cal, note };
}

/** Standards paired with their true structure's FEFF spectrum on `mesh` (multiplicity-weighted average). */
function feffStandards(used: readonly ReadStandard[], mesh: EnergyMesh, element: string, root: string): CalibrationStandard[] {
  return used.map((x) => {
    const r = feffMaterialSpectrum(path.join(root, x.trueIds[0]), mesh, element);
    if (typeof r === "string") throw new InputError(`calibration standard ${x.name}: ${r}`);
    return { name: x.name, target: x.target, reference: r.spectrum };
  });
}

export interface ModelAlignmentOptions {
  /**
   * What the standards are compared with: "feff" (default) — their true structures' FEFF spectra on the
   * model's mesh, which needs no model weights; "model" — the model's own (member-mean, material-average)
   * predictions for those structures, which also absorbs a systematic shift of the model.
   */
  reference?: "feff" | "model";
  /** Score, window, broadening and shift step of the fit (default DEFAULT_MATCH; search ±15 eV). */
  match?: Omit<MatchOptions, "offset" | "shiftWindow"> & { searchWindow?: number };
  /** Store the result in the spectral contract of every member (writeModelAlignment). Default: true for a folder. */
  write?: boolean;
  /** Root of the shared data (default sharedDataDir()). */
  dataDir?: string;
}

export interface ModelAlignmentResult {
  readonly alignment: SpectralAlignment;
  /** xanes-model.json files written (empty when not written). */
  readonly files: readonly string[];
  /** One line per standard and the leave-one-out offsets, for logs. */
  readonly report: string;
}

/**
 * Calibrate the FEFF-vs-experiment offset of a saved model (a model or ensemble folder, or loaded
 * members) on the measured standards of its element and edge: the offset is the mean of the standards'
 * best shifts, with their spread, and for each standard the offset calibrated on the others only
 * (`leaveOneOut`, used when that standard is itself the target). With a folder the result is written
 * into every member's spectral contract (`alignment`), where `npm run screen`, the notebook and the
 * app read it. The model's mesh must cover the comparison window (e.g. VALIDATION_MESH, 8983–9120 eV);
 * the score must suit its normalisation with reference "model" (l2 needs edge-step).
 * With reference "model" the caller must have initialised the tfjs backend (initBackend).
 */
export async function calibrateModelAlignment(model: string | readonly XanesPredictor[], options: ModelAlignmentOptions = {}): Promise<ModelAlignmentResult> {
  const dir = typeof model === "string" ? model : undefined;
  const reference = options.reference ?? "feff";
  const opts = options.match ?? DEFAULT_MATCH;
  const data = options.dataDir ?? sharedDataDir();
  const contract: SpectralContract = dir ? contractOf(dir) : (model as readonly XanesPredictor[])[0]?.spectral;
  if (!contract) throw new InputError("calibrateModelAlignment: no model members given");
  const { element, edge } = contract.mesh;
  const mesh = energyMeshOf(contract.mesh);
  if (contract.mesh.kind !== "absolute") throw new InputError(`${dir ?? "model"}: mesh is edge-relative; a FEFF-vs-experiment offset needs absolute energies`);
  const used = readMeasuredStandards(element, edge, data, "the offset cannot be calibrated for this model");
  const root = path.join(data, "feff-cu-k-oxides");
  let standards: CalibrationStandard[];
  let members: readonly XanesPredictor[] | undefined;
  if (reference === "feff") standards = feffStandards(used, mesh, element, root);
  else {
    checkScoreNormalisation(opts.score, contract.normalisation);
    members = dir ? await loadEnsemble(dir) : (model as readonly XanesPredictor[]);
    const predictor = ensemblePredictor(members);
    standards = [];
    for (const x of used) {
      const file = path.join(root, x.trueIds[0], "POSCAR");
      const structure = parsePoscar(fs.readFileSync(file, "utf8"), file);
      const p = await predictMaterial(predictor, structure, element);
      const mean = new Float64Array(mesh.points);
      for (const m of p.members) for (let j = 0; j < mesh.points; j++) mean[j] += m[j] / p.members.length;
      standards.push({ name: x.name, target: x.target, reference: mean });
    }
    if (dir) members.forEach((m) => m.dispose());
  }
  const all = calibrateOffset(standards, mesh, element, edge, opts);
  const loo = standards.length > 1 ? leaveOneOutOffsets(standards, mesh, element, edge, opts).map((c, i) => ({ name: standards[i].name, offset: c.offset })) : undefined;
  const alignment: SpectralAlignment = {
    ...all,
    ...(loo ? { leaveOneOut: loo } : {}),
    method: `${all.method}; against ${reference === "feff" ? "the standards' FEFF spectra" : "the model's predictions for the standards' structures"}`,
  };
  const files = dir && (options.write ?? true) ? writeModelAlignment(dir, alignment) : [];
  const fmt = (x: number) => x.toFixed(2);
  const report = [
    `energy offset ${formatAlignment(alignment)} on ${standards.length} standard(s) (${alignment.method})`,
    ...all.standards.map((x) => `  ${x.name}: best shift ${fmt(x.shift)} eV (γ ${x.gamma} eV, σ ${x.sigma} eV, score ${x.score.toFixed(4)})`),
    ...(loo ?? []).map((x) => `  leave-one-out: with ${x.name} as the target, the offset from the others is ${fmt(x.offset)} eV`),
    ...(files.length ? [`  stored in the spectral contract of ${files.length} model file(s) under ${dir}`] : []),
  ].join("\n");
  return { alignment, files, report };
}

/** The spectral contract of the first model of a model or ensemble folder (no weights loaded). */
function contractOf(dir: string): SpectralContract {
  const first = modelFolders(dir)[0];
  const file = readModelFile(first);
  if (!file.spectral) throw new InputError(`${path.join(first, "xanes-model.json")}: spectral is null (a bare network, not a predictor)`);
  return file.spectral;
}
