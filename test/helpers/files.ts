import { after } from "node:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * `tmp(name)` makes a fresh temporary folder; every folder made through one factory is removed when
 * the calling test file finishes. Call once at a test file's top level (it registers an `after` hook).
 */
export function tempDirFactory(prefix: string): (name: string) => string {
  const made: string[] = [];
  after(() => {
    for (const d of made) fs.rmSync(d, { recursive: true, force: true });
  });
  return (name) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-${name}-`));
    made.push(d);
    return d;
  };
}

/**
 * A damaged copy of a real file for parser fuzzing: on even rounds cut at a random point, on odd
 * rounds with three random characters replaced by tokens from `junk`. Seeded through `rng`.
 */
export function damagedCopy(text: string, round: number, rng: () => number, junk: readonly string[]): string {
  if (round % 2 === 0) return text.slice(0, Math.floor(rng() * text.length));
  const c = text.split("");
  for (let k = 0; k < 3; k++) c[Math.floor(rng() * c.length)] = junk[Math.floor(rng() * junk.length)];
  return c.join("");
}
