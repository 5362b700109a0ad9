import { test } from "node:test";
import * as assert from "node:assert/strict";
import { formatDuration, formatRate, progress } from "../lib/util/progress";

/** A sink that records writes, and a clock the test moves by hand. */
function harness(tty: boolean) {
  const writes: string[] = [];
  let t = 0;
  return {
    writes,
    stream: { write: (s: string) => writes.push(s), isTTY: tty },
    now: () => t,
    advance: (ms: number) => (t += ms),
    text: () => writes.join(""),
  };
}

test("formatDuration and formatRate", () => {
  assert.equal(formatDuration(850), "850 ms");
  assert.equal(formatDuration(12_340), "12.3 s");
  assert.equal(formatDuration(245_000), "4m05s");
  assert.equal(formatDuration(3_720_000), "1h02m");
  assert.equal(formatDuration(-1), "?");
  assert.equal(formatRate(1234), "1.23k/s");
  assert.equal(formatRate(45.6), "45.6/s");
  assert.equal(formatRate(0.25), "0.250/s");
  assert.equal(formatRate(0), "-/s");
});

test("non-TTY: about one line per 10% plus the final line, with count, percent, rate and ETA", () => {
  const h = harness(false);
  const p = progress("featurise", 1000, { stream: h.stream, now: h.now, unit: "sites" });
  for (let i = 0; i < 1000; i++) {
    h.advance(100); // 10 sites per second
    p.tick();
  }
  p.done();
  const lines = h.text().trimEnd().split("\n");
  assert.equal(lines.length, 10, lines.join("\n")); // 10%, 20%, ..., 90% and the final line
  assert.equal(lines[0], "featurise: 100/1000 sites ( 10.0%), 10.0 s, 10.0/s, ETA 1m30s");
  assert.equal(lines[8], "featurise: 900/1000 sites ( 90.0%), 1m30s, 10.0/s, ETA 10.0 s");
  assert.equal(lines[9], "featurise: 1000/1000 sites (100.0%), 1m40s, 10.0/s done");
  assert.ok(!h.text().includes("\r"), "no carriage returns outside a TTY");
});

test("non-TTY: fast work prints no more than one line a second; slow work at least every maxSilence", () => {
  const fast = harness(false);
  const p = progress("fast", 1000, { stream: fast.stream, now: fast.now });
  for (let i = 0; i < 1000; i++) {
    fast.advance(0.1); // the whole job takes 0.1 s
    p.tick();
  }
  p.done("3 skipped");
  const lines = fast.text().trimEnd().split("\n");
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^fast: 1000\/1000 items \(100\.0%\), 100 ms, 10\.0k\/s done \(3 skipped\)$/);

  const slow = harness(false);
  const q = progress("collect", undefined, { stream: slow.stream, now: slow.now, maxSilenceMs: 30_000 });
  for (let i = 0; i < 100; i++) {
    slow.advance(1000);
    q.tick(5);
  }
  q.done();
  const slowLines = slow.text().trimEnd().split("\n");
  assert.equal(slowLines.length, 4, slowLines.join("\n")); // at 30 s, 60 s, 90 s, final
  assert.equal(slowLines[0], "collect: 150 items, 30.0 s, 5.00/s");
  assert.equal(slowLines[3], "collect: 500 items, 1m40s, 5.00/s done");
});

test("TTY: one line rewritten in place, throttled, ending with a newline", () => {
  const h = harness(true);
  const p = progress("train", 50, { stream: h.stream, now: h.now, unit: "epochs", ttyIntervalMs: 100 });
  for (let i = 0; i < 50; i++) {
    h.advance(20);
    p.tick();
  }
  p.done();
  const out = h.text();
  const frames = out.split("\r").filter(Boolean);
  // 1 s of work, a redraw at most every 100 ms: ~10 frames plus the final one.
  assert.ok(frames.length >= 9 && frames.length <= 11, `${frames.length} frames`);
  assert.ok(out.endsWith(" done\n"), JSON.stringify(out.slice(-40)));
  assert.equal(out.split("\n").length, 2, "exactly one newline, at the end");
  assert.match(frames[0], /^train: \d+\/50 epochs \(\s*\d+\.\d%\), \d+ ms, [\d.]+\/s, ETA /);
});

test("done() is idempotent and update() sets the absolute count", () => {
  const h = harness(false);
  const p = progress("x", 10, { stream: h.stream, now: h.now });
  p.update(7);
  assert.equal(p.count, 7);
  p.done();
  p.done();
  assert.equal(h.text().split("\n").filter(Boolean).length, 1);
});
