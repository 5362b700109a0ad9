import * as fs from "node:fs";
import * as path from "node:path";
import { parsePoscar, parseFeffInp } from "../structure";
import type { Structure } from "../structure/types";
import { parseXmuDat } from "../spectra/xmu";
import type { SiteSpectrum } from "../spectra/types";
import { DropReason, SourceItem } from "./sources";
import { errorMessage } from "../util/errors";

/** `<idx>_<Element>` site folders written by Lightshow (idx = 0-based POSCAR site). */
const SITE_DIR = /^(\d+)_([A-Z][a-z]?)$/;

export interface FeffCollectOptions {
  /** Only these material folder names. */
  readonly materialIds?: readonly string[];
  /** At most this many materials (after sorting names), e.g. for the quick profile. */
  readonly maxMaterials?: number;
  /** Materials read concurrently (file reads overlap; parsing stays on one thread). */
  readonly concurrency?: number;
  /** Edge label recorded for the spectra (FEFF runs here are K-edge). */
  readonly edge?: string;
  readonly spectrumType?: string;
  readonly onProgress?: (done: number, total: number) => void;
}

/** One FEFF run folder of a material: `[FEFF-XANES/]<site>_<element>/`. */
export interface FeffSiteDir {
  /** 0-based POSCAR site index. */
  readonly site: number;
  readonly element: string;
  readonly dir: string;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.promises.access(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The `<idx>_<Element>` run folders of one material folder, directly in it or under a `FEFF-XANES/`
 * level (Lightshow writes either), sorted by site; only `element`'s when given. A missing or
 * unreadable folder gives []: callers report a material without runs themselves.
 * Synchronous on purpose: a few small directory reads, and benches and notebooks call it in plain loops.
 */
export function listFeffSiteDirs(materialDir: string, element?: string): FeffSiteDir[] {
  const out: FeffSiteDir[] = [];
  for (const base of [materialDir, path.join(materialDir, "FEFF-XANES")]) {
    let names: string[];
    try {
      names = fs.readdirSync(base);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = SITE_DIR.exec(name);
      if (m && (element === undefined || m[2] === element)) out.push({ site: Number(m[1]), element: m[2], dir: path.join(base, name) });
    }
  }
  return out.sort((a, b) => a.site - b.site);
}

function drop(id: string, source: string, reason: DropReason, message: string): SourceItem {
  return { drop: { id, source, reason, message } };
}

/** Read one material folder: POSCAR (or per-site feff.inp) + every `<idx>_<El>/xmu.dat`. */
export async function readFeffMaterial(materialDir: string, opts: FeffCollectOptions = {}): Promise<SourceItem[]> {
  const materialId = path.basename(materialDir);
  const edge = opts.edge ?? "K";
  const spectrumType = opts.spectrumType ?? "XANES";
  const sites = listFeffSiteDirs(materialDir);
  const poscarPath = path.join(materialDir, "POSCAR");
  let structure: Structure | undefined;
  let structureError: string | undefined;
  if (await exists(poscarPath)) {
    try {
      structure = parsePoscar(await fs.promises.readFile(poscarPath, "utf8"), poscarPath);
    } catch (err) {
      structureError = errorMessage(err);
    }
  }
  if (sites.length === 0) {
    return [drop(materialId, materialDir, structureError ? "unreadable-structure" : "no-spectrum", structureError ?? "no <idx>_<Element>/xmu.dat folder")];
  }
  const items: SourceItem[] = [];
  const texts = await Promise.all(
    sites.map(async (s) => {
      const xmuPath = path.join(s.dir, "xmu.dat");
      try {
        return await fs.promises.readFile(xmuPath, "utf8");
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    }),
  );
  for (let k = 0; k < sites.length; k++) {
    const s = sites[k];
    const id = `${materialId}/${s.site}`;
    const xmuPath = path.join(s.dir, "xmu.dat");
    let siteStructure = structure;
    let siteIndex = s.site;
    if (!siteStructure) {
      // No usable POSCAR: fall back to the site's own feff.inp (absorber first in its cluster).
      const inp = path.join(s.dir, "feff.inp");
      if (!structureError && (await exists(inp))) {
        try {
          const run = parseFeffInp(await fs.promises.readFile(inp, "utf8"), inp);
          siteStructure = run.structure;
          siteIndex = run.absorber;
        } catch (err) {
          items.push(drop(id, inp, "unreadable-structure", errorMessage(err)));
          continue;
        }
      } else {
        items.push(drop(id, poscarPath, "unreadable-structure", structureError ?? `${poscarPath}: missing (and no feff.inp)`));
        continue;
      }
    }
    const text = texts[k];
    if (text instanceof Error) {
      items.push(drop(id, xmuPath, "unreadable-spectrum", errorMessage(text)));
      continue;
    }
    try {
      const xmu = parseXmuDat(text, xmuPath);
      const spectrum: SiteSpectrum = {
        materialId,
        site: siteIndex,
        element: s.element,
        edge,
        spectrumType,
        energy: xmu.omega,
        mu: xmu.mu,
        energyRelative: false,
        edgeEnergy: xmu.edgeEnergy,
        ...(xmu.xsedge50 !== undefined ? { xsedge50: xmu.xsedge50 } : {}),
        structure: siteStructure!,
        source: xmuPath,
      };
      items.push({ spectrum });
    } catch (err) {
      items.push(drop(id, xmuPath, "unreadable-spectrum", errorMessage(err)));
    }
  }
  return items;
}

/**
 * Stream a folder of FEFF runs laid out as `<material>/POSCAR` + `<material>/[FEFF-XANES/]<idx>_<El>/xmu.dat`
 * (the feff-cu-k-oxides layout). `root` may also be a single material folder. Materials are read in
 * sorted order, `concurrency` at a time, and yielded in that order.
 */
export async function* collectFeffFolders(root: string, opts: FeffCollectOptions = {}): AsyncGenerator<SourceItem> {
  let dirs: string[];
  if (await exists(path.join(root, "POSCAR"))) {
    dirs = [root];
  } else {
    const entries = await fs.promises.readdir(root, { withFileTypes: true });
    let names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    if (opts.materialIds) {
      const want = new Set(opts.materialIds);
      names = names.filter((n) => want.has(n));
    }
    if (opts.maxMaterials !== undefined) names = names.slice(0, opts.maxMaterials);
    dirs = names.map((n) => path.join(root, n));
  }
  const concurrency = Math.max(1, opts.concurrency ?? 32);
  for (let i = 0; i < dirs.length; i += concurrency) {
    const batch = await Promise.all(dirs.slice(i, i + concurrency).map((d) => readFeffMaterial(d, opts)));
    for (const items of batch) for (const item of items) yield item;
    opts.onProgress?.(Math.min(i + concurrency, dirs.length), dirs.length);
  }
}

/** One FEFF run kept as `feff.inp` + `xmu.dat` (structure and absorber from feff.inp). */
export function readFeffRun(feffInpPath: string, xmuPath: string, opts: { materialId?: string; edge?: string; spectrumType?: string } = {}): SiteSpectrum {
  const run = parseFeffInp(fs.readFileSync(feffInpPath, "utf8"), feffInpPath);
  const xmu = parseXmuDat(fs.readFileSync(xmuPath, "utf8"), xmuPath);
  return {
    materialId: opts.materialId ?? path.basename(path.dirname(feffInpPath)),
    site: run.absorber,
    element: run.structure.species[run.absorber],
    edge: opts.edge ?? "K",
    spectrumType: opts.spectrumType ?? "XANES",
    energy: xmu.omega,
    mu: xmu.mu,
    energyRelative: false,
    edgeEnergy: xmu.edgeEnergy,
    structure: run.structure,
    source: xmuPath,
  };
}
