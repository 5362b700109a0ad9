/**
 * Progress display for long work (collection, featurisation, training) that reads well both in a
 * terminal and in a notebook.
 *
 * - TTY: one line rewritten in place (\r) at most every `ttyIntervalMs`, with rate and ETA.
 * - Not a TTY (tslab notebooks, CI logs, files): a new line only when another `stepPercent` of the
 *   work is done (and at least `minLineIntervalMs` after the previous line), or after
 *   `maxSilenceMs` without a line, so a cell's output stays a handful of lines.
 * `done()` always prints one final line with the count, elapsed time and rate.
 */

export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
}

export interface ProgressOptions {
  /** Where to write; default process.stdout. */
  stream?: ProgressSink;
  /** Force TTY/non-TTY style; default stream.isTTY. */
  tty?: boolean;
  /** Unit shown after counts and in the rate, e.g. "spectra". Default "items". */
  unit?: string;
  /** Non-TTY: print a line every this many percent. Default 10. */
  stepPercent?: number;
  /** Non-TTY: at least this long between lines (except the final one). Default 1000 ms. */
  minLineIntervalMs?: number;
  /** Non-TTY: print a line after this long without one, even between steps. Default 30000 ms. */
  maxSilenceMs?: number;
  /** TTY: redraw at most this often. Default 100 ms. */
  ttyIntervalMs?: number;
  /** Clock in ms (tests inject a fake one). Default performance.now. */
  now?: () => number;
}

export interface Progress {
  /** Record `n` (default 1) more items done. Cheap: only compares numbers unless it is time to print. */
  tick(n?: number): void;
  /** Set the absolute count done. */
  update(done: number): void;
  /** Finish: print the final line (with an optional note, e.g. "3 skipped"). Idempotent. */
  done(note?: string): void;
  /** Items done so far. */
  readonly count: number;
}

/** "850 ms", "12.3 s", "4m05s", "1h02m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const totalS = Math.round(s);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m${String(totalS % 60).padStart(2, "0")}s`;
  const totalM = Math.round(totalS / 60);
  return `${Math.floor(totalM / 60)}h${String(totalM % 60).padStart(2, "0")}m`;
}

/** Rate with 3 significant digits: "1.23k/s", "45.6/s", "0.250/s". */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return "-/s";
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toPrecision(3)}M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toPrecision(3)}k/s`;
  return `${perSecond.toPrecision(3)}/s`;
}

/**
 * Start a progress display for `total` items (omit or 0 when unknown: count and rate, no ETA).
 *
 *   const p = progress("featurise", sites.length, { unit: "sites" });
 *   for (...) { ...; p.tick(); }
 *   p.done();
 */
export function progress(label: string, total?: number, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stdout;
  const tty = options.tty ?? Boolean(stream.isTTY);
  const unit = options.unit ?? "items";
  const step = (options.stepPercent ?? 10) / 100;
  const minLine = options.minLineIntervalMs ?? 1000;
  const maxSilence = options.maxSilenceMs ?? 30000;
  const ttyInterval = options.ttyIntervalMs ?? 100;
  const now = options.now ?? (() => performance.now());
  const hasTotal = total !== undefined && total > 0;

  const start = now();
  let count = 0;
  let lastPrint = start;
  let nextFraction = step; // non-TTY: next fraction of total that earns a line
  let finished = false;
  let lastTtyWidth = 0;

  function line(t: number): string {
    const elapsed = t - start;
    const rate = elapsed > 0 ? (count * 1000) / elapsed : 0;
    if (!hasTotal) return `${label}: ${count} ${unit}, ${formatDuration(elapsed)}, ${formatRate(rate)}`;
    const pct = ((100 * count) / total!).toFixed(1).padStart(5);
    const eta = rate > 0 && count < total! ? `, ETA ${formatDuration(((total! - count) * 1000) / rate)}` : "";
    return `${label}: ${count}/${total} ${unit} (${pct}%), ${formatDuration(elapsed)}, ${formatRate(rate)}${eta}`;
  }

  function writeTty(s: string): void {
    const pad = lastTtyWidth > s.length ? " ".repeat(lastTtyWidth - s.length) : "";
    stream.write(`\r${s}${pad}`);
    lastTtyWidth = s.length;
  }

  function maybePrint(): void {
    const t = now();
    if (tty) {
      if (t - lastPrint >= ttyInterval) {
        writeTty(line(t));
        lastPrint = t;
      }
      return;
    }
    const since = t - lastPrint;
    const reachedStep = hasTotal && count >= nextFraction * total! && count < total!;
    if ((reachedStep && since >= minLine) || since >= maxSilence) {
      stream.write(line(t) + "\n");
      lastPrint = t;
      if (hasTotal) nextFraction = (Math.floor(count / total! / step) + 1) * step;
    }
  }

  return {
    tick(n = 1) {
      count += n;
      if (!finished) maybePrint();
    },
    update(d: number) {
      count = d;
      if (!finished) maybePrint();
    },
    done(note?: string) {
      if (finished) return;
      finished = true;
      const t = now();
      const text = `${line(t).replace(/, ETA .*$/, "")} done${note ? ` (${note})` : ""}`;
      if (tty) {
        writeTty(text);
        stream.write("\n");
      } else stream.write(text + "\n");
    },
    get count() {
      return count;
    },
  };
}
