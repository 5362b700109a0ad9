import * as crypto from "node:crypto";
import * as fs from "node:fs";

/**
 * Write via a temporary file in the same folder + rename, so readers (a parallel kernel, a resumed
 * run) never see a partial file. The random suffix keeps concurrent writers of the same file apart.
 */
export function writeFileAtomic(file: string, data: string | NodeJS.ArrayBufferView): void {
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true }); // do not leave a stray temp file behind on a failed write
    throw e;
  }
}
