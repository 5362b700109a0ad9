import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** SHA-256 of data, hex (the integrity hash of saved models and datasets). */
export function sha256Hex(data: string | Uint8Array): string {
  return crypto.createHash("sha256").update(data).digest("hex");
}

/**
 * Write via a temporary file in the same folder + rename, so readers (a parallel kernel, a resumed
 * run) never see a partial file. The random suffix keeps concurrent writers of the same file apart.
 * The temp name is `<file>.tmp-<pid>-<hex>` (see `removeStaleTempFiles`).
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

/** True when a process with this id exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid in a `….tmp-<pid>[-<hex>]` or `….old-<pid>` name, if it has that form. */
export function ownerPid(name: string, kind: "tmp" | "old"): number | undefined {
  const m = new RegExp(`\\.${kind}-(\\d+)(?:-[0-9a-f]+)?$`).exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Remove `writeFileAtomic` temp files in `dir` left by writers that were killed (their pid is gone,
 * or it is this process: writes are synchronous, so none of ours is in flight). Temp files of a live
 * writer are left alone. Returns the names removed.
 */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = ownerPid(name, "tmp");
    if (pid === undefined || (pid !== process.pid && processAlive(pid))) continue;
    const p = path.join(dir, name);
    try {
      if (!fs.statSync(p).isFile()) continue;
      fs.rmSync(p, { force: true });
      removed.push(name);
    } catch {
      /* vanished meanwhile: nothing to clean */
    }
  }
  return removed;
}

/**
 * Runs `fn` holding `lockFile` (created exclusively, holding this process's pid). When another live
 * process holds it, waits (polling every `pollMs`) until that process releases it or `ready()` turns
 * true, then returns `whenReady()` if ready, else takes the lock. A lock left by a dead process is
 * taken over. Used so two notebooks started together do not both train the same cached run.
 */
export async function withFileLock<T>(
  lockFile: string,
  fn: () => Promise<T>,
  opts: { ready: () => boolean; whenReady: () => Promise<T>; pollMs?: number; timeoutMs?: number; log?: (s: string) => void },
): Promise<T> {
  const poll = opts.pollMs ?? 2000;
  const deadline = Date.now() + (opts.timeoutMs ?? 3_600_000);
  let waited = false;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(lockFile, "wx");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    if (fd !== undefined) {
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      try {
        // The other process may have finished between our check and the lock.
        if (waited && opts.ready()) return await opts.whenReady();
        return await fn();
      } finally {
        fs.rmSync(lockFile, { force: true });
      }
    }
    let text: string;
    try {
      text = fs.readFileSync(lockFile, "utf8").trim();
    } catch {
      continue; // released between our attempt and the read
    }
    if (text === "") {
      // created, pid not yet written
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const pid = Number(text);
    if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) {
      opts.log?.(`${lockFile}: left by process ${pid}, which is gone; taking it over`);
      fs.rmSync(lockFile, { force: true });
      continue;
    }
    if (pid === process.pid) throw new Error(`${lockFile}: already held by this process (nested use)`);
    if (opts.ready()) return opts.whenReady();
    if (!waited) opts.log?.(`${lockFile}: process ${pid} is computing the same result; waiting for it`);
    waited = true;
    if (Date.now() > deadline) throw new Error(`${lockFile}: still held by process ${pid} after ${Math.round((opts.timeoutMs ?? 3_600_000) / 1000)} s`);
    await new Promise((r) => setTimeout(r, poll));
  }
}
