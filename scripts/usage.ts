import * as fs from "node:fs";

/** A command's usage text: the first doc comment of its script file, without the comment markers. */
export function scriptUsage(file: string): string {
  const src = fs.readFileSync(file, "utf8");
  return src.slice(src.indexOf("/**") + 3, src.indexOf("*/")).replace(/^ \* ?/gm, "").trim();
}
