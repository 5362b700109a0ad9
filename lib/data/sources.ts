import type { SiteSpectrum } from "../spectra/types";

/**
 * Why a spectrum (or material) did not enter a dataset. Every drop is listed in the quality report.
 * - nan: a non-finite energy or intensity; non-monotonic: energy not strictly increasing;
 * - too-short: fewer points than `minPoints`; window-not-covered: the mesh leaves the spectrum's range;
 * - wrong-absorber: the absorbing index is out of range or not the absorbing element;
 * - unreadable-structure / unreadable-spectrum: a file or document that does not parse;
 * - energy-reference: edge-relative energies asked onto an absolute mesh (no way back);
 * - zero-spectrum: normalisation factor not positive (flat or negative spectrum);
 * - duplicate: the same material/site/element/edge/type seen again (first kept);
 * - no-spectrum: a material folder with a structure but no spectrum (e.g. a failed FEFF run);
 * - structure-mismatch: the spectrum's structure differs from the one already kept for its material
 *   (a dataset holds one structure per material; e.g. per-site feff.inp clusters without a POSCAR).
 */
export type DropReason =
  | "nan"
  | "non-monotonic"
  | "too-short"
  | "window-not-covered"
  | "wrong-absorber"
  | "unreadable-structure"
  | "unreadable-spectrum"
  | "energy-reference"
  | "zero-spectrum"
  | "duplicate"
  | "no-spectrum"
  | "structure-mismatch";

export interface DroppedSpectrum {
  /** "<materialId>/<site>" or the material/file when the site is unknown. */
  readonly id: string;
  /** File, folder or URL. */
  readonly source: string;
  readonly reason: DropReason;
  readonly message: string;
}

/** What a source yields: a spectrum, or a record of what could not be read. */
export type SourceItem = { readonly spectrum: SiteSpectrum } | { readonly drop: DroppedSpectrum };

export type SpectrumSource = AsyncIterable<SourceItem> | Iterable<SourceItem>;

