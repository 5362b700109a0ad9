/**
 * Measured standards of known structure for the Cu K edge (xaslib, ../shared/data/xaslib): they
 * calibrate the FEFF-vs-experiment energy offset and validate screening on real data.
 */
import { meshFromWindow } from "../spectra/mesh";

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
