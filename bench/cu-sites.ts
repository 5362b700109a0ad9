import * as fs from "node:fs";
import * as path from "node:path";
import { listFeffSiteDirs } from "../lib/data/feff";

/**
 * Materials of the FEFF Cu K-edge set and their absorbing Cu sites, from the `<idx>_Cu` run folders
 * (lib/data's lister, so the same FEFF-XANES/ handling as dataset building); materials sorted by name,
 * sites ascending. Only the listing: the benches time the parsing and geometry themselves.
 */
export function cuSites(root: string): Array<{ material: string; poscar: string; sites: number[] }> {
  const out: Array<{ material: string; poscar: string; sites: number[] }> = [];
  for (const material of fs.readdirSync(root).sort()) {
    const dir = path.join(root, material);
    const poscar = path.join(dir, "POSCAR");
    if (!fs.existsSync(poscar)) continue;
    const sites = listFeffSiteDirs(dir, "Cu").map((d) => d.site);
    if (sites.length > 0) out.push({ material, poscar, sites });
  }
  return out;
}
