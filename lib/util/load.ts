/**
 * Is a second core free for this process? The 1-minute load average counts this process too, so its
 * own average core use (CPU time over its lifetime, a stand-in for the last minute) is subtracted
 * before asking whether other work leaves a core idle. Used to pick one or two training threads
 * and one or two ablation lanes.
 */
import * as os from "node:os";

export interface LoadSample {
  /** 1-minute load average. */
  loadavg: number;
  /** CPU seconds this process has used (user + system). */
  ownCpuSeconds: number;
  /** Seconds this process has run. */
  uptime: number;
  cores: number;
}

/** Load from other processes: the load average minus this process's own average core use. */
export function otherLoad(s: LoadSample): number {
  const own = s.uptime > 0 ? Math.min(s.cores, s.ownCpuSeconds / s.uptime) : 0;
  return Math.max(0, s.loadavg - own);
}

/** True when the machine has two or more cores and other processes leave at least 1.5 of them idle. */
export function secondCoreIdle(s: LoadSample = currentLoad()): boolean {
  return s.cores >= 2 && s.cores - otherLoad(s) >= 1.5;
}

export function currentLoad(): LoadSample {
  const u = process.cpuUsage();
  return { loadavg: os.loadavg()[0], ownCpuSeconds: (u.user + u.system) / 1e6, uptime: process.uptime(), cores: os.availableParallelism() };
}
