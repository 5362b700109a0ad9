/**
 * Energy calibration of a measured scan by its reference channel, as beamlines and Athena do it: a foil
 * of the absorbing element sits behind the sample (mu_ref = ln(itrans/irefer)), and the energy axis is
 * shifted so the foil's E0 (the maximum of its smoothed derivative, `findE0`) lands on the tabulated
 * edge energy. Why here: the FEFF-vs-experiment offset stored with a model assumes a calibrated
 * monochromator; a scan whose mono is off by a few eV would otherwise put every candidate's shift at
 * the edge of its window.
 *
 * Applied only when the header says the reference is a foil (or metal) of the sample's element, and
 * the shift is within `maxShift`; every decision, applied or not, is reported with its reason.
 */
import { findE0 } from "./normalize";
import type { MeasuredSpectrum, ReferenceChannel } from "./xdi";

/**
 * K-edge energies of metal foils, eV: J. A. Bearden and A. F. Burr, Rev. Mod. Phys. 39, 125 (1967),
 * the values Athena and xraydb calibrate foils to (first inflection point of the metal).
 */
export const FOIL_EDGE_ENERGIES: Readonly<Record<string, number>> = {
  "Ti K": 4966.0,
  "V K": 5465.0,
  "Cr K": 5989.0,
  "Mn K": 6539.0,
  "Fe K": 7112.0,
  "Co K": 7709.0,
  "Ni K": 8333.0,
  "Cu K": 8979.0,
  "Zn K": 9659.0,
};

/** Largest shift applied by default, eV: beyond it a wrong E0 or reference is likelier than a mono that far off. */
export const DEFAULT_MAX_REFERENCE_SHIFT = 10;

/** Half-width of the E0 search around the tabulated energy, eV (keeps glitches elsewhere out). */
const SEARCH_HALF_WIDTH = 30;

export interface ReferenceCalibration {
  /** Whether the energies were shifted. */
  readonly applied: boolean;
  /** tabulated − measured foil E0, eV (added to every energy when applied); NaN when not measured. */
  readonly shift: number;
  readonly referenceE0: number;
  readonly tabulated: number;
  /** One line for reports: what was found and done, or why not. */
  readonly note: string;
}

/** Is the reference described as a foil or metal of `element`? (XDI `Element.reference`, or free text such as "Cu metal foil".) */
export function referenceIsFoilOf(ref: Pick<ReferenceChannel, "element" | "description">, element: string): boolean {
  if (ref.element !== undefined) return ref.element.toLowerCase() === element.toLowerCase();
  const d = ref.description ?? "";
  // The symbol comes from a file header: escaped, so any text is matched literally.
  const symbol = element.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^A-Za-z])${symbol}([^a-z]|$)`).test(d) && /\b(foil|metal)\b/i.test(d);
}

/**
 * Shift `spec`'s energies so its reference foil's E0 equals the tabulated edge energy. Returns the
 * spectrum unchanged (same object) with `calibration.applied` false and the reason when there is no
 * reference channel, it is not a foil of the element, no tabulated energy exists, the foil's edge is
 * outside the scan, or the shift exceeds `maxShift`.
 */
export function calibrateToReference(
  spec: MeasuredSpectrum,
  opts: { maxShift?: number } = {},
): { spectrum: MeasuredSpectrum; calibration: ReferenceCalibration } {
  const maxShift = opts.maxShift ?? DEFAULT_MAX_REFERENCE_SHIFT;
  const not = (note: string, referenceE0 = NaN, tabulated = NaN) => ({
    spectrum: spec,
    calibration: { applied: false, shift: NaN, referenceE0, tabulated, note } as ReferenceCalibration,
  });
  const ref = spec.reference;
  if (!ref) return not("no reference channel: energies as written");
  if (ref.unusable) return not(`reference channel ${ref.rule} unusable (${ref.unusable}): energies as written`);
  const element = spec.element;
  const edge = spec.edge ?? "K";
  if (element === undefined) return not("reference channel present, but the file does not name its element: energies as written");
  const foil = `foil of ${element}`;
  if (!referenceIsFoilOf(ref, element)) {
    return not(`reference channel ${ref.rule} is not stated to be a ${foil} (${ref.description ? `"${ref.description}"` : "no reference named in the header"}): energies as written`);
  }
  const tabulated = FOIL_EDGE_ENERGIES[`${element[0].toUpperCase()}${element.slice(1).toLowerCase()} ${edge.toUpperCase()}`];
  if (tabulated === undefined) return not(`no tabulated foil energy for ${element} ${edge}: energies as written`);
  const e = spec.energy;
  let i0 = 0;
  while (i0 < e.length && e[i0] < tabulated - SEARCH_HALF_WIDTH) i0++;
  let i1 = i0;
  while (i1 < e.length && e[i1] <= tabulated + SEARCH_HALF_WIDTH) i1++;
  if (i1 - i0 < 15) return not(`reference foil edge (${tabulated} eV ± ${SEARCH_HALF_WIDTH}) not covered by the scan (${i1 - i0} points there): energies as written`, NaN, tabulated);
  const { e0 } = findE0(e.subarray(i0, i1), ref.mu.subarray(i0, i1));
  const shift = tabulated - e0;
  const found = `reference ${ref.rule} (${ref.description ?? ref.element}): foil E0 ${e0.toFixed(2)} eV, tabulated ${tabulated.toFixed(1)} eV`;
  if (!(Math.abs(shift) <= maxShift)) return not(`${found}: shift ${shift.toFixed(2)} eV exceeds ±${maxShift} eV, not applied (check the reference channel)`, e0, tabulated);
  const energy = new Float64Array(e.length);
  for (let i = 0; i < e.length; i++) energy[i] = e[i] + shift;
  const note = `${found}: energies shifted by ${shift >= 0 ? "+" : ""}${shift.toFixed(2)} eV`;
  return {
    spectrum: { ...spec, energy, energyNote: `${spec.energyNote}, calibrated to the reference foil (${shift >= 0 ? "+" : ""}${shift.toFixed(2)} eV)` },
    calibration: { applied: true, shift, referenceE0: e0, tabulated, note },
  };
}
