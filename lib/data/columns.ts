import * as fs from "node:fs";
import * as path from "node:path";
import { parsePoscar } from "../structure";
import type { Structure } from "../structure/types";
import { SpectrumColumns, parseSpectrumColumns } from "../spectra/xmu";
import type { SiteSpectrum } from "../spectra/types";
import { SourceItem } from "./sources";
import { errorMessage } from "../util/errors";

export interface ColumnSetOptions {
  /** Absorbing element; column j is the j-th site of this element in POSCAR order. */
  readonly element: string;
  readonly edge?: string;
  readonly spectrumType?: string;
  /** Material id recorded for every spectrum (default: "<folder>/<file stem>"). */
  readonly materialId?: string;
  /** Energies in the file are relative to the edge (true for the Li3FeO3.5 set). */
  readonly energyRelative?: boolean;
}

/**
 * Read a column file (energy + one column per absorbing site, e.g. `0K_Combo_O_all.dat`) with its POSCAR.
 * The number of columns must equal the number of `element` sites; otherwise every column is reported.
 */
export function readColumnSpectra(datPath: string, poscarPath: string, opts: ColumnSetOptions): SourceItem[] {
  const materialId = opts.materialId ?? `${path.basename(path.dirname(datPath))}/${path.basename(datPath).replace(/\.[^.]*$/, "")}`;
  let structure: Structure;
  try {
    structure = parsePoscar(fs.readFileSync(poscarPath, "utf8"), poscarPath);
  } catch (err) {
    return [{ drop: { id: materialId, source: poscarPath, reason: "unreadable-structure", message: errorMessage(err) } }];
  }
  let table: SpectrumColumns;
  try {
    table = parseSpectrumColumns(fs.readFileSync(datPath, "utf8"), datPath);
  } catch (err) {
    return [{ drop: { id: materialId, source: datPath, reason: "unreadable-spectrum", message: errorMessage(err) } }];
  }
  const sites: number[] = [];
  structure.species.forEach((s, i) => {
    if (s === opts.element) sites.push(i);
  });
  if (sites.length !== table.columns.length) {
    return [
      {
        drop: {
          id: materialId,
          source: datPath,
          reason: "wrong-absorber",
          message: `${datPath}: ${table.columns.length} spectrum columns but ${poscarPath} has ${sites.length} ${opts.element} sites`,
        },
      },
    ];
  }
  return table.columns.map((mu, j) => {
    const spectrum: SiteSpectrum = {
      materialId,
      site: sites[j],
      element: opts.element,
      edge: opts.edge ?? "K",
      spectrumType: opts.spectrumType ?? "XANES",
      energy: table.energy,
      mu,
      energyRelative: opts.energyRelative ?? true,
      structure,
      source: `${datPath}#column${j + 1}`,
    };
    return { spectrum };
  });
}

/** File naming of the Li3FeO3.5 set: `<snapshot>_Combo_<El>_all.dat` beside `POSCAR_<snapshot>`. */
const COMBO = /^(.+)_Combo_([A-Z][a-z]?)_all\.dat$/;

/**
 * Every `<snap>_Combo_<El>_all.dat` + `POSCAR_<snap>` pair in `dir` (sorted), as one source.
 * Material ids are "<folder>:<snap>". Energies are taken as edge-relative (as in that release).
 */
export function* collectColumnSets(dir: string, opts: Partial<ColumnSetOptions> = {}): Generator<SourceItem> {
  const folder = path.basename(dir);
  for (const name of fs.readdirSync(dir).sort()) {
    const m = COMBO.exec(name);
    if (!m) continue;
    const poscar = path.join(dir, `POSCAR_${m[1]}`);
    if (!fs.existsSync(poscar)) {
      yield { drop: { id: `${folder}:${m[1]}`, source: path.join(dir, name), reason: "unreadable-structure", message: `${poscar}: missing` } };
      continue;
    }
    const items = readColumnSpectra(path.join(dir, name), poscar, {
      element: opts.element ?? m[2],
      edge: opts.edge,
      spectrumType: opts.spectrumType,
      materialId: `${folder}:${m[1]}`,
      energyRelative: opts.energyRelative ?? true,
    });
    for (const item of items) yield item;
  }
}
