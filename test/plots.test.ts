import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  Figure,
  figureDivHtml,
  figurePageHtml,
  figureTitle,
  figureToJson,
  plotlyBundle,
  plotlyScriptTag,
  plotlyVersion,
  writeFigureHtml,
} from "../lib/plots/figure";
import { inNotebook, showFigure } from "../lib/plots/notebook";

const fig: Figure = {
  data: [
    { type: "scatter", x: new Float64Array([1, 2, 3]), y: new Float32Array([0.5, NaN, Infinity]), name: "typed" },
    { type: "bar", x: ["a", "b"], y: [1, 2] },
  ],
  layout: { title: { text: "a </script><b>title</b>" } },
};

test("figureToJson turns typed arrays into arrays, non-finite numbers into null, and escapes <", () => {
  const json = figureToJson(fig);
  assert.ok(!json.includes("<"), "no raw < in embedded JSON");
  const back = JSON.parse(json);
  assert.deepEqual(back.data[0].x, [1, 2, 3]);
  assert.deepEqual(back.data[0].y, [0.5, null, null]);
  assert.deepEqual(back.data[1].x, ["a", "b"]);
  assert.equal(back.layout.title.text, "a </script><b>title</b>");
  assert.deepEqual(back.config, {});
  assert.throws(() => figureToJson({} as Figure), /data array/);
});

test("figureTitle reads plotly 4 title objects", () => {
  assert.equal(figureTitle(fig), "a </script><b>title</b>");
  assert.equal(figureTitle({ data: [] }), "");
});

test("figureDivHtml: a div with the figure class and a script that waits for Plotly and the div", () => {
  const html = figureDivHtml(fig, { id: "my-fig", height: 300 });
  assert.match(html, /^<div id="my-fig" class="xanes-figure" style="width:100%;height:300px;"><\/div>/);
  assert.equal((html.match(/<\/script>/g) ?? []).length, 1, "only the closing tag of its own script");
  assert.match(html, /window\.Plotly\.newPlot\(el, fig\.data, fig\.layout, fig\.config\)/);
  assert.match(html, /setTimeout\(draw, 50\)/);
  assert.throws(() => figureDivHtml(fig, { id: 'x" onload="alert(1)' }), /plain HTML id/);
  // Generated ids are unique within a process.
  const id = (s: string) => /id="([^"]+)"/.exec(s)![1];
  assert.notEqual(id(figureDivHtml(fig)), id(figureDivHtml(fig)));
});

test("plotlyBundle is the minified plotly.js of plotly.js-dist, and the script tag hides AMD/CommonJS", () => {
  const version = plotlyVersion();
  assert.match(version, /^\d+\.\d+\.\d+$/);
  const bundle = plotlyBundle();
  const raw = fs.statSync(require.resolve("plotly.js-dist/plotly.js")).size;
  assert.ok(bundle.length < raw * 0.7, `bundle ${bundle.length} B should be minified (source ${raw} B)`);
  assert.ok(bundle.includes("newPlot"));
  const tag = plotlyScriptTag();
  assert.ok(tag.startsWith('<script type="text/javascript">if (!window.Plotly) { (function (module, exports, define) {'));
  assert.equal((tag.match(/<\/script/gi) ?? []).length, 1, "the bundle cannot close the script tag early");
});

test("writeFigureHtml writes one standalone page with the bundle and every figure", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plots-test-"));
  try {
    const file = writeFigureHtml([fig, { data: [{ type: "scatter", y: [1, 2] }] }], path.join(dir, "sub", "f.html"), "two");
    const html = fs.readFileSync(file, "utf8");
    assert.ok(html.startsWith("<!DOCTYPE html>"));
    assert.match(html, /<title>two<\/title>/);
    assert.equal((html.match(/class="xanes-figure"/g) ?? []).length, 2);
    assert.ok(html.includes(plotlyScriptTag()));
    assert.match(figurePageHtml(fig), /<title>a &lt;\/script>&lt;b>title&lt;\/b><\/title>/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("showFigure outside a notebook prints one line and does not throw", (t) => {
  assert.equal(inNotebook(), false);
  const logged: string[] = [];
  t.mock.method(console, "log", (s: string) => logged.push(s));
  showFigure(fig);
  assert.deepEqual(logged, ["[figure: a </script><b>title</b>] (not in a notebook; not shown)"]);
});
