// The plot helpers in a real browser (Debian chromium, headless, network blocked): figures drawn
// by the HTML that showFigure/writeFigureHtml emit render as SVG with their traces, also on a page
// with require.js-style globals and when the output node is attached late (JupyterLab), and the
// PNG/SVG exporter writes real images. The executed notebooks are checked in notebooks.test.ts.
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { Figure, figureDivHtml, plotlyScriptTag, writeFigureHtml } from "../lib/plots/figure";
import { launchChromium, openFigureExporter } from "../lib/plots/export";
import { checkHtmlFigures, chromiumMissing, toolsGate } from "../scripts/run-notebooks";

const skip = toolsGate("The browser tests", chromiumMissing());
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "browser-test-"));
let browser: Browser | undefined;

const energies = Float64Array.from({ length: 100 }, (_, i) => 8980 + i * 0.5);
const spectrumFig: Figure = {
  data: [
    { type: "scatter", mode: "lines", x: energies, y: energies.map((e) => 1 / (1 + Math.exp(-(e - 9000) / 2))), name: "edge" },
    { type: "scatter", mode: "markers", x: [8990, 9010], y: [0.2, 0.8], name: "points" },
  ],
  layout: { title: { text: "spectrum </script> test" } },
};
const barFig: Figure = { data: [{ type: "bar", x: ["RDF", "OFM", "CM"], y: [0.3, 0.2, 0.1] }], layout: { title: { text: "ablation" } } };
const heatFig: Figure = { data: [{ type: "heatmap", z: [[1, 2], [3, 4]] }] };

before(async () => {
  if (!skip) browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("writeFigureHtml: every figure renders offline as SVG with its traces", { skip }, async () => {
  const file = writeFigureHtml([spectrumFig, barFig, heatFig], path.join(dir, "page.html"));
  const { figures, problems } = await checkHtmlFigures(browser!, file);
  assert.deepEqual(problems, []);
  assert.equal(figures.length, 3);
  assert.deepEqual(
    figures.map((f) => [f.visibleTraces, f.renderedTraces >= f.visibleTraces]),
    [
      [2, true],
      [1, true],
      [1, true],
    ],
  );
  assert.equal(figures[0].title, "spectrum </script> test");
});

test("notebook-style outputs render with require.js globals and late-attached output nodes", { skip }, async () => {
  // Like classic Jupyter (require.js defines `define`) plus a CommonJS-looking `module` global.
  const file = path.join(dir, "nb.html");
  fs.writeFileSync(
    file,
    `<!DOCTYPE html><html><head><meta charset="utf-8"><script>window.define = function () {}; window.define.amd = {}; var module = { exports: {} };</script></head><body>` +
      `<div class="output">${plotlyScriptTag()}\n${figureDivHtml(spectrumFig)}</div></body></html>`,
  );
  const page = await browser!.newPage();
  try {
    await page.goto(`file://${file}`);
    // JupyterLab-style second output: HTML set on a detached node, its scripts re-created and run,
    // the node attached only later.
    const late = figureDivHtml(barFig);
    await page.evaluate((html) => {
      const host = document.createElement("div");
      host.innerHTML = html;
      for (const old of Array.from(host.querySelectorAll("script"))) {
        const s = document.createElement("script");
        s.textContent = old.textContent;
        old.replaceWith(s);
      }
      setTimeout(() => document.body.appendChild(host), 300);
    }, late);
    await page.waitForFunction(() => document.querySelectorAll(".xanes-figure.js-plotly-plot").length === 2, null, { timeout: 20000 });
    const traces = await page.evaluate(() =>
      Array.from(document.querySelectorAll(".xanes-figure")).map((el) => el.querySelectorAll(".trace").length),
    );
    assert.deepEqual(traces, [2, 1]);
    assert.equal(await page.evaluate(() => typeof (window as unknown as { define: unknown }).define), "function", "require.js globals untouched");
  } finally {
    await page.close();
  }
});

test("the figure check fails when plotly.js is missing from the page", { skip }, async () => {
  const file = path.join(dir, "nobundle.html");
  fs.writeFileSync(file, `<!DOCTYPE html><html><body>${figureDivHtml(spectrumFig)}</body></html>`);
  const { problems } = await checkHtmlFigures(browser!, file, { timeoutMs: 1500 });
  assert.ok(problems.some((p) => /not drawn/.test(p)), problems.join("\n"));
});

test("openFigureExporter writes PNG and SVG files of the requested size", { skip }, async () => {
  const exporter = await openFigureExporter();
  try {
    const png = await exporter.png(spectrumFig, path.join(dir, "out", "spectrum.png"), { width: 300, height: 200, scale: 1 });
    const buf = fs.readFileSync(png);
    assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
    assert.equal(buf.readUInt32BE(16), 300, "IHDR width");
    assert.equal(buf.readUInt32BE(20), 200, "IHDR height");
    assert.ok(buf.length > 3000, `a drawn figure, not a blank image (${buf.length} B)`);
    const big = fs.readFileSync(await exporter.png(barFig, path.join(dir, "out", "bar.png")));
    assert.equal(big.readUInt32BE(16), 720 * 2, "default width 720 at scale 2");
    const svg = fs.readFileSync(await exporter.svg(heatFig, path.join(dir, "out", "heat.svg")), "utf8");
    assert.match(svg, /^<svg[^>]*width="720"[^>]*height="420"/);
    assert.match(svg, /class="hm"/);
  } finally {
    await exporter.close();
  }
});
