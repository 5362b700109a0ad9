import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Materials of the FEFF Cu K-edge set and their absorbing Cu sites, from the `<idx>_Cu` run folder
 * names (with or without a FEFF-XANES/ level, as lib/data reads them); materials sorted by name, sites
 * ascending. Only the listing: the benches time the parsing and geometry themselves.
 */
export function cuSites(root: string): Array<{ material: string; poscar: string; sites: number[] }> {
  const out: Array<{ material: string; poscar: string; sites: number[] }> = [];
  for (const material of fs.readdirSync(root).sort()) {
    const dir = path.join(root, material);
    const poscar = path.join(dir, "POSCAR");
    if (!fs.existsSync(poscar)) continue;
    const sites = new Set<number>();
    for (const base of [dir, path.join(dir, "FEFF-XANES")]) {
      if (!fs.existsSync(base)) continue;
      for (const name of fs.readdirSync(base)) {
        const m = /^(\d+)_Cu$/.exec(name);
        if (m) sites.add(Number(m[1]));
      }
    }
    if (sites.size > 0) out.push({ material, poscar, sites: [...sites].sort((a, b) => a - b) });
  }
  return out;
}
