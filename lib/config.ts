import * as path from "node:path";
import * as fs from "node:fs";

/**
 * Where things live. Every path can be overridden by an environment variable so the same
 * notebooks run on a user's machine, in CI and from the reproduce command.
 */
function findProjectRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, "utf8")).name === "xanes-notebooks") return dir;
      } catch {
        /* not ours; keep walking up */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** Project root (the folder with the top-level package.json), found from this file or the cwd. */
export const PROJECT_ROOT: string = process.env.XANES_ROOT ?? findProjectRoot(fs.realpathSync(__dirname));

/** Read-only input data (FEFF runs, Li3FeO3.5 spectra, MP schema): XAS_DATA_DIR, default ../shared/data. */
export function sharedDataDir(): string {
  return path.resolve(process.env.XAS_DATA_DIR ?? path.join(PROJECT_ROOT, "..", "shared", "data"));
}

/** Reference geometry from pymatgen: XAS_REFERENCE_DIR, default ../shared/reference. */
export function referenceDir(): string {
  return path.resolve(process.env.XAS_REFERENCE_DIR ?? path.join(PROJECT_ROOT, "..", "shared", "reference"));
}

/** Built datasets and caches (git-ignored): XANES_WORK_DIR, default <root>/data. */
export function workDir(): string {
  return path.resolve(process.env.XANES_WORK_DIR ?? path.join(PROJECT_ROOT, "data"));
}

/** Figures, metrics and models written by notebooks and `npm run reproduce`: XANES_RESULTS_DIR. */
export function resultsDir(): string {
  return path.resolve(process.env.XANES_RESULTS_DIR ?? path.join(PROJECT_ROOT, "results"));
}

/**
 * Run size. "quick" (set by `npm test`) keeps every notebook to seconds on a subset;
 * "full" is the study-sized run of `npm run reproduce`. XANES_PROFILE, default "full".
 */
export type Profile = "quick" | "full";
export function profile(): Profile {
  const p = (process.env.XANES_PROFILE ?? "full").toLowerCase();
  if (p !== "quick" && p !== "full") throw new Error(`XANES_PROFILE must be "quick" or "full", got "${p}"`);
  return p;
}
