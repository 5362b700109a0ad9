import type { Structure } from "../structure/types";

/** One absorbing site's spectrum with the structure it was computed for. */
export interface SiteSpectrum {
  /** Materials Project id ("mp-1234") or another stable material name. */
  readonly materialId: string;
  /** 0-based index of the absorbing site in `structure`; -1 for a site-averaged spectrum. */
  readonly site: number;
  /** Absorbing element symbol ("O", "Cu"). */
  readonly element: string;
  /** Edge label ("K", "L3", ...). */
  readonly edge: string;
  /** XANES, EXAFS or XAFS. */
  readonly spectrumType: string;
  /** Photon energy in eV (absolute, or relative to the edge when `energyRelative`). */
  readonly energy: Float64Array;
  /** Absorption, same length as `energy`. */
  readonly mu: Float64Array;
  /** True when `energy` is relative to the edge rather than absolute. */
  readonly energyRelative: boolean;
  /** Edge energy (eV, absolute) when the source states one (FEFF: omega − e); used for edge alignment. */
  readonly edgeEnergy?: number;
  /** FEFF xmu.dat header value "xsedge+ 50, used to normalize mu", when the source has it (see XmuData). */
  readonly xsedge50?: number;
  readonly structure: Structure;
  /** File or URL the spectrum was read from, for reports. */
  readonly source: string;
}
