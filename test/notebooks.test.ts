// Every notebook, executed headlessly through the project's tslab kernel (quick profile), must run
// without an error; every plotly figure must render in headless Chromium both in its HTML export and
// when the executed notebook is opened in the Jupyter Notebook web app (Debian jupyter-notebook,
// which loads require.js, like a researcher's browser). Also: the committed notebooks carry no
// outputs and name the tslab kernel, and the percent converter works.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium } from "../lib/plots/export";
import { sharedDataDir } from "../lib/config";
import {
  ROOT,
  checkHtmlFigures,
  checkServerFigures,
  chromiumMissing,
  countNotebookFigures,
  describeFailure,
  executeNotebooks,
  listNotebooks,
  notebookServerMissing,
  notebookToolsMissing,
  startNotebookServer,
  toolsGate,
  type NotebookServer,
} from "../scripts/run-notebooks";
import { clearOutputs, notebookToPercent, percentToNotebook, type Notebook } from "../scripts/percent-to-ipynb.mjs";

const notebooks = listNotebooks();

test("there are notebooks, starting with 00-environment", () => {
  assert.ok(notebooks.length >= 1);
  assert.equal(path.basename(notebooks[0]), "00-environment.ipynb");
});

test("committed notebooks have no outputs and use the tslab kernel", () => {
  for (const file of notebooks) {
    const name = path.basename(file);
    const nb = JSON.parse(fs.readFileSync(file, "utf8")) as Notebook;
    assert.equal(nb.nbformat, 4, name);
    assert.equal(nb.metadata.kernelspec?.name, "tslab", `${name}: kernelspec.name must be "tslab"`);
    nb.cells.forEach((c, i) => {
      if (c.cell_type !== "code") return;
      assert.deepEqual(c.outputs, [], `${name} cell ${i} has outputs: clear them: node scripts/percent-to-ipynb.mjs --clear notebooks/*.ipynb`);
      assert.equal(c.execution_count ?? null, null, `${name} cell ${i} has an execution_count`);
    });
    const size = fs.statSync(file).size;
    assert.ok(size < 200_000, `${name} is ${size} B: outputs or data embedded?`);
  }
});

test("percent format converts to a tslab notebook and back", () => {
  const text = "\n// %% [markdown]\n// # Title\n//\n// Some *text*.\n\n// %%\nconst a = 1;\nconsole.log(a);\n\n// %%\na + 1;\n";
  const nb = percentToNotebook(text, "draft.ts");
  assert.deepEqual(
    nb.cells.map((c) => [c.cell_type, c.source]),
    [
      ["markdown", "# Title\n\nSome *text*."],
      ["code", "const a = 1;\nconsole.log(a);"],
      ["code", "a + 1;"],
    ],
  );
  assert.equal(nb.metadata.kernelspec.name, "tslab");
  assert.deepEqual(nb.cells[1].outputs, []);
  assert.deepEqual(
    percentToNotebook(notebookToPercent(nb)).cells.map((c) => c.source),
    nb.cells.map((c) => c.source),
  );
  const run = JSON.parse(JSON.stringify(nb)) as Notebook;
  run.cells[1].outputs = [{ output_type: "stream", name: "stdout", text: "1\n" }];
  run.cells[1].execution_count = 1;
  assert.equal(clearOutputs(run), true);
  assert.deepEqual(run, nb);
  assert.equal(clearOutputs(run), false);
  assert.throws(() => percentToNotebook("const x = 1;\n// %%\n", "bad.ts"), /bad\.ts:1: text before the first/);
  assert.throws(() => percentToNotebook("// %% [markdown]\nnot a comment\n", "md.ts"), /md\.ts:2: markdown cell lines must start with/);
});

test("the kernelspec installed in the project points at this project's node and tslab", () => {
  const spec = JSON.parse(fs.readFileSync(path.join(ROOT, ".jupyter/share/jupyter/kernels/tslab/kernel.json"), "utf8"));
  assert.ok(path.isAbsolute(spec.argv[0]) && fs.existsSync(spec.argv[0]), `node binary ${spec.argv[0]}`);
  assert.equal(spec.argv[1], path.join(ROOT, "node_modules", "tslab", "bin", "tslab"));
  assert.deepEqual(spec.argv.slice(2), ["kernel", "--config-path", "{connection_file}"]);
});

describe("notebooks execute headlessly and their figures render", () => {
  const skip = toolsGate("Executing notebooks", [...notebookToolsMissing(), ...chromiumMissing(), ...notebookServerMissing()]);
  const outDir = path.join(ROOT, "results", "test-notebooks");
  const haveData = fs.existsSync(sharedDataDir());
  let browser: Browser | undefined;
  let server: NotebookServer | undefined;

  before(async () => {
    if (skip) return;
    fs.mkdirSync(outDir, { recursive: true });
    browser = await launchChromium();
    server = await startNotebookServer(outDir);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const file of notebooks) {
    const name = path.basename(file);
    // Only 00-environment runs without the shared data; the others need it (CI has it).
    let nbSkip: string | undefined = skip;
    if (!nbSkip && !haveData && !name.startsWith("00-")) {
      nbSkip = toolsGate(name, [`the shared data at ${sharedDataDir()} (set XAS_DATA_DIR)`]);
    }
    test(name, { skip: nbSkip }, async () => {
      const [r] = await executeNotebooks([file], { outDir, profile: "quick" });
      console.log(`# ${name}: ${r.ok ? "ran" : "FAILED"} in ${r.seconds.toFixed(1)} s`);
      assert.ok(r.ok, describeFailure(r));
      const expected = countNotebookFigures(r.executed);
      const html = await checkHtmlFigures(browser!, r.html, { expected });
      assert.deepEqual(html.problems, [], `${name}: figures in the HTML export ${r.html}:\n${html.problems.join("\n")}`);
      // As a researcher sees it: the executed notebook opened in the Jupyter web app (require.js page).
      const app = await checkServerFigures(browser!, server!, r.executed);
      assert.deepEqual(app.problems, [], `${name}: figures in the Jupyter Notebook app:\n${app.problems.join("\n")}`);
      console.log(`# ${name}: ${expected} figure(s) render in Chromium, in the HTML export and in the notebook app`);
    });
  }

  test("the notebook-app check fails for an executed notebook whose signature does not match", { skip }, async () => {
    const executed = path.join(outDir, "00-environment.ipynb");
    assert.ok(fs.existsSync(executed), "00-environment must have run first");
    const nb = JSON.parse(fs.readFileSync(executed, "utf8")) as Notebook;
    nb.cells[0].source = `${Array.isArray(nb.cells[0].source) ? nb.cells[0].source.join("") : nb.cells[0].source}\n(edited)`;
    const copy = path.join(outDir, "zz-untrusted-check.ipynb");
    fs.writeFileSync(copy, JSON.stringify(nb));
    try {
      const app = await checkServerFigures(browser!, server!, copy, { timeoutMs: 5000 });
      assert.ok(app.problems.some((p) => /Not Trusted/.test(p)), app.problems.join("\n"));
      assert.ok(app.problems.some((p) => /not drawn/.test(p)), app.problems.join("\n"));
    } finally {
      fs.rmSync(copy, { force: true });
    }
  });
});
