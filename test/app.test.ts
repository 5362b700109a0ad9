// The static app (app/, `npm run app:build`) in a real browser (Debian chromium, headless, network
// blocked), opened from file://: it loads with no console error, predicts FEFF Cu K structures (POSCAR,
// CIF, MP JSON) as the Node predictor does, ranks candidates as the screen CLI does, shows the lib's
// error next to a broken file, rejects a tampered model folder, and is served on 127.0.0.1.
// The screenshot for the README is written to docs/app-screenshot.png.
import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawn } from "node:child_process";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../lib/plots/export";
import { chromiumMissing, toolsGate } from "../scripts/run-notebooks";
import { loadPredictor, XanesPredictor } from "../lib/model/predictor";
import { loadEnsemble } from "../lib/model/ensemble";
import { MlpRegressor } from "../lib/model/estimator";
import { spectralContract } from "../lib/model/spectral";
import { DESCRIPTOR_NAMES, Featurizer } from "../lib/descriptors/featurizer";
import { studyConfig } from "../lib/study/config";
import { createRng } from "../lib/util/random";
import { parseStructureText, readStructureFile } from "../lib/structure/read";
import { parseMeasuredTarget, parseTargetText } from "../lib/screening/target";
import { checkScoreNormalisation } from "../lib/screening/match";
import { athenaText, parseAthena } from "../lib/spectra/athena";
import { cifText } from "../lib/structure/write";
import { structureToPymatgen } from "../lib/structure/pymatgen";
import { equivalentSites } from "../lib/geometry/equivalence";
import { sharedDataDir } from "../lib/config";
import { parseXmuDat } from "../lib/spectra/xmu";

const root = path.resolve(__dirname, "..");
const poscar = path.join(sharedDataDir(), "feff-cu-k-oxides", "mp-1022728", "POSCAR"); // two Cu classes, multiplicities 2 and 1
const skip = toolsGate("The app tests", chromiumMissing()) ?? (fs.existsSync(poscar) ? undefined : `no ${poscar}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "app-test-"));
const modelDir = path.join(dir, "model");
const outDir = path.join(dir, "dist");
const ensembleDir = path.join(dir, "ensemble");
let browser: Browser | undefined;
let page: Page | undefined;
const consoleErrors: string[] = [];

before(async () => {
  if (skip) return;
  // A small model on all five descriptors (so every descriptor runs in the page), fitted for one
  // epoch to random spectra: untrained, but its output depends on the site, which is what the
  // page-vs-Node comparison needs. Training rows: the Cu sites of a few data structures.
  const data = path.join(sharedDataDir(), "feff-cu-k-oxides");
  const featurizer = new Featurizer({ descriptors: DESCRIPTOR_NAMES.map((name) => ({ name })), absorber: "Cu" });
  const rowsX: Float32Array[] = [];
  for (const id of fs.readdirSync(data).filter((x) => fs.existsSync(path.join(data, x, "POSCAR"))).sort().slice(0, 6)) {
    const s = readStructureFile(path.join(data, id, "POSCAR"));
    for (const g of equivalentSites(s, "Cu").groups) rowsX.push(featurizer.featurizeSite(s, g[0]));
  }
  const d = featurizer.length;
  const X = { data: new Float32Array(rowsX.length * d), rows: rowsX.length, cols: d };
  rowsX.forEach((r, i) => X.data.set(r, i * d));
  const rng = createRng(11);
  const Y = { data: Float32Array.from({ length: rowsX.length * 261 }, () => rng()), rows: rowsX.length, cols: 261 };
  // one model (bundled) and a two-member seed ensemble (picked as a folder in the ensemble test)
  for (const [seed, out] of [[1, modelDir], [1, path.join(ensembleDir, "member-0")], [2, path.join(ensembleDir, "member-1")]] as const) {
    const reg = await new MlpRegressor({ ...studyConfig("quick").final.mlp, epochs: 1, seed }).fit(X, Y, { train: Array.from({ length: rowsX.length }, (_, i) => i) });
    const p = new XanesPredictor(reg.fitted(), featurizer, spectralContract({ start: 8990, step: 0.5, points: 261, relative: false }, "Cu", "K", "max"));
    await p.save(out);
    p.dispose();
  }
  // an energy calibration stored with the model, as scripts/validate-measured.ts writes it (bundled with the model)
  fs.writeFileSync(path.join(modelDir, "energy-calibration.json"), JSON.stringify({ element: "Cu", edge: "K", offset: -5.75, spread: 0.5, standards: [{ name: "CuO tenorite", shift: -5.4, sigma: 0, gamma: 1, score: 0.9 }, { name: "azurite", shift: -6.1, sigma: 0, gamma: 1, score: 0.9 }], method: "test" }));
  execFileSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "app-build.ts"), "--model", modelDir, "--out", outDir], { cwd: root, stdio: "pipe" });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1000, height: 1150 } });
  await page.route((url) => url.protocol !== "file:" && url.protocol !== "data:" && url.protocol !== "blob:", (route) => route.abort());
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await page.goto(`file://${path.join(outDir, "index.html")}`);
  await page.evaluate(() => window.xanes.ready);
});
after(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("app: loads from file:// with the bundled model and no console error", { skip }, async () => {
  const status = await page!.textContent("#model-status");
  assert.match(status ?? "", /one model, Cu K edge, 261 points.*wasm backend/);
  assert.equal(await page!.evaluate(() => window.xanes.backend), "wasm", "tfjs-backend-wasm starts from file:// (bundled .wasm as blob: URLs)");
  assert.deepEqual(consoleErrors, []);
});

test("app: a FEFF Cu K POSCAR predicts what the Node predictor predicts, per symmetry class", { skip }, async () => {
  const name = "mp-1022728-POSCAR";
  const copy = path.join(dir, name);
  fs.copyFileSync(poscar, copy);
  await page!.setInputFiles("#structure-files", copy);
  await page!.waitForFunction((n) => n in window.xanes.results || n in window.xanes.errors, name);
  const got = await page!.evaluate((n) => {
    const r = window.xanes.results[n];
    return r && { energy: Array.from(r.energy), classes: r.classes.map((c) => ({ sites: c.sites, mean: Array.from(c.band.mean) })), average: Array.from(r.average.mean) };
  }, name);
  assert.ok(got, await page!.evaluate((n) => window.xanes.errors[n], name));
  const structure = readStructureFile(copy);
  const eq = equivalentSites(structure, "Cu");
  assert.deepEqual(got.classes.map((c) => c.sites), eq.groups);
  const p = await loadPredictor(modelDir);
  try {
    assert.deepEqual(got.energy, Array.from(p.energy));
    let maxDiff = 0;
    const avg = new Float64Array(p.energy.length);
    for (const [k, g] of eq.groups.entries()) {
      const mu = p.predict(structure, g[0]).mu;
      mu.forEach((v, j) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - got.classes[k].mean[j]));
        avg[j] += (g.length / structure.species.filter((s) => s === "Cu").length) * v;
      });
    }
    assert.ok(maxDiff < 1e-4, `max |page − node| = ${maxDiff}`);
    // the comparison can fail: the two classes' spectra differ far more than the tolerance
    const classGap = Math.max(...got.classes[0].mean.map((v, j) => Math.abs(v - got.classes[1].mean[j])));
    assert.ok(classGap > 1e-2, `class spectra differ by ${classGap}`);
    avg.forEach((v, j) => assert.ok(Math.abs(v - got.average[j]) < 1e-4, `average at ${j}: ${v} vs ${got.average[j]}`));
  } finally {
    p.dispose();
  }
  // the plot is drawn, with a curve per class and the average
  await page!.waitForSelector(`section[data-file="${name}"] .plot .main-svg`);
  const traces = await page!.locator(`section[data-file="${name}"] .plot .scatterlayer .trace`).count();
  assert.equal(traces, eq.groups.length + (eq.groups.length > 1 ? 1 : 0));
  // CSV export: energy, mean, lower, upper per curve
  const [download] = await Promise.all([page!.waitForEvent("download"), page!.click(`section[data-file="${name}"] button.csv`)]);
  const csv = fs.readFileSync((await download.path())!, "utf8").trim().split("\n");
  assert.equal(csv[0], "curve,energy,mean,lower,upper");
  assert.equal(csv.length, 1 + (eq.groups.length + 1) * p.energy.length);
  const [pngDownload] = await Promise.all([page!.waitForEvent("download"), page!.click(`section[data-file="${name}"] button.png`)]);
  const png = fs.readFileSync((await pngDownload.path())!);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
  assert.equal(png.readUInt32BE(16), 1800, "900 px wide at scale 2");
  assert.equal(eq.groups.length, 2, "the test structure has two classes");
  assert.deepEqual(consoleErrors, []);
});

test("app: the same structure as a CIF and as a Materials Project JSON document predicts the same classes and spectra", { skip }, async () => {
  const s = readStructureFile(poscar);
  const files = { "mp-1022728.cif": cifText(s, "mp-1022728"), "mp-1022728.json": JSON.stringify({ material_id: "mp-1022728", structure: structureToPymatgen(s) }) };
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  await page!.setInputFiles("#structure-files", Object.keys(files).map((f) => path.join(dir, f)));
  await page!.waitForFunction((names) => names.every((n) => n in window.xanes.results || n in window.xanes.errors), Object.keys(files));
  const got = await page!.evaluate((names) => names.map((n) => window.xanes.results[n] && { sites: window.xanes.results[n].classes.map((c) => c.sites), mean: Array.from(window.xanes.results[n].average.mean), error: undefined }
    || { sites: [], mean: [], error: window.xanes.errors[n] }), [...Object.keys(files), "mp-1022728-POSCAR"]);
  const ref = got[2];
  for (const g of got.slice(0, 2)) {
    assert.equal(g.error, undefined);
    assert.deepEqual(g.sites, ref.sites);
    // CIF coordinates are written to a finite number of digits: the same spectrum to well within 1e-4
    assert.ok(g.mean.every((v, j) => Math.abs(v - ref.mean[j]) < 1e-4));
  }
});

test("app: a broken file shows the lib's error next to its name, and the page keeps working", { skip }, async () => {
  const bad = path.join(dir, "broken.cif");
  fs.writeFileSync(bad, "data_broken\n_cell_length_a 3.0\n_cell_length_b 3.0\n");
  const good = path.join(dir, "POSCAR");
  fs.copyFileSync(poscar, good);
  await page!.setInputFiles("#structure-files", [bad, good]);
  await page!.waitForFunction(() => "broken.cif" in window.xanes.errors && "POSCAR" in window.xanes.results);
  const shown = await page!.textContent('section[data-file="broken.cif"] .error');
  let expected = "";
  try {
    readStructureFile(bad);
  } catch (e) {
    expected = (e as Error).message.replace(bad, "broken.cif");
  }
  assert.ok(expected, "the lib rejects the file");
  assert.equal(shown, expected);
  assert.equal(await page!.locator('section[data-file="POSCAR"] .plot').count(), 1);
});

test("app: a computed (FEFF-scale) target and ten candidates give the same ranking as the screen CLI --computed", { skip }, async () => {
  const data = path.join(sharedDataDir(), "feff-cu-k-oxides");
  const ids = fs.readdirSync(data).filter((d) => fs.existsSync(path.join(data, d, "POSCAR"))).sort().slice(0, 10);
  // target: the FEFF spectrum of the first candidate's Cu site, shifted by 1.5 eV, as two columns
  const xmuDir = fs.readdirSync(path.join(data, ids[0])).find((d) => fs.existsSync(path.join(data, ids[0], d, "xmu.dat")))!;
  const xmu = parseXmuDat(fs.readFileSync(path.join(data, ids[0], xmuDir, "xmu.dat"), "utf8"));
  const targetText = "# energy mu\n" + Array.from(xmu.omega, (e, i) => `${e + 1.5} ${xmu.mu[i]}`).join("\n") + "\n";
  const target = path.join(dir, "target.dat");
  fs.writeFileSync(target, targetText);
  const cliOut = path.join(dir, "screen-cli");
  execFileSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "screen.ts"), "--target", target, "--computed", "--model", modelDir, "--out", cliOut,
    ...ids.flatMap((id) => ["--candidates", path.join(data, id, "POSCAR")])], { cwd: root, stdio: "pipe" });
  const cli = JSON.parse(fs.readFileSync(path.join(cliOut, "ranking.json"), "utf8")) as { rows: { id: string; score: number; shift: number }[] };
  const candidates = ids.map((id) => ({ name: `${id}/POSCAR`, text: fs.readFileSync(path.join(data, id, "POSCAR"), "utf8") }));
  await page!.evaluate(([t, c]) => window.xanes.screen(t, c, { mode: "computed" }), [{ name: "target.dat", text: targetText }, candidates] as const);
  const got = await page!.evaluate(() => ({ rows: window.xanes.screening?.rows, error: window.xanes.screenError }));
  assert.ok(got.rows, got.error);
  assert.equal(got.rows.length, 10);
  assert.deepEqual(got.rows.map((r) => r.id), cli.rows.map((r) => r.id));
  got.rows.forEach((r, i) => {
    assert.ok(Math.abs(r.score - cli.rows[i].score) < 1e-4, `${r.id}: score ${r.score} vs CLI ${cli.rows[i].score}`);
    assert.ok(Math.abs(r.shift - cli.rows[i].shift) < 1e-6, `${r.id}: shift ${r.shift} vs CLI ${cli.rows[i].shift}`);
  });
  assert.equal(await page!.locator("#screen-out table.ranking tr").count(), 11);
  await page!.waitForSelector("#screen-out .plot .main-svg");
  assert.deepEqual(consoleErrors, []);
});

test("app: a measured XDI file and ten candidates give the same ranking as npm run screen (offset, shift, broadening)", { skip }, async () => {
  const data = path.join(sharedDataDir(), "feff-cu-k-oxides");
  const ids = fs.readdirSync(data).filter((d) => fs.existsSync(path.join(data, d, "POSCAR"))).sort().slice(0, 10);
  const xdi = path.join(sharedDataDir(), "xaslib", "data", "Cu", "CuO_tenorite_13K_01.xdi");
  const cliOut = path.join(dir, "screen-measured");
  // the test model predicts max-normalised spectra, so l2 is refused (below): pearson on both sides
  execFileSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "screen.ts"), "--target", xdi, "--offset=-6", "--score", "pearson", "--model", modelDir, "--out", cliOut,
    ...ids.flatMap((id) => ["--candidates", path.join(data, id, "POSCAR")])], { cwd: root, stdio: "pipe" });
  const cli = JSON.parse(fs.readFileSync(path.join(cliOut, "ranking.json"), "utf8")) as { e0: number; rows: { id: string; score: number; shift: number; sigma: number; gamma: number; shiftAtEdge: boolean; broadeningAtEdge: boolean }[] };
  const candidates = ids.map((id) => ({ name: `${id}/POSCAR`, text: fs.readFileSync(path.join(data, id, "POSCAR"), "utf8") }));
  const bytes = Array.from(fs.readFileSync(xdi));
  const run = (opts: { offset?: number; score?: string }) =>
    page!.evaluate(async ([b, c, o]) => {
      await window.xanes.screen({ name: "CuO_tenorite_13K_01.xdi", bytes: new Uint8Array(b) }, c, o);
      return { s: window.xanes.screening, error: window.xanes.screenError };
    }, [bytes, candidates, opts] as const);
  const got = await run({ offset: -6, score: "pearson" });
  assert.ok(got.s, got.error);
  assert.equal(got.s.mode, "measured");
  assert.deepEqual(got.s.rows.map((r) => r.id), cli.rows.map((r) => r.id));
  assert.equal(got.s.measured?.e0, cli.e0);
  got.s.rows.forEach((r, i) => {
    const c = cli.rows[i];
    assert.ok(Math.abs(r.score - c.score) < 1e-4, `${r.id}: score ${r.score} vs CLI ${c.score}`);
    for (const k of ["shift", "sigma", "gamma"] as const) assert.ok(Math.abs(r[k]! - c[k]) < 1e-6, `${r.id}: ${k} ${r[k]} vs CLI ${c[k]}`);
    assert.equal(r.shiftAtEdge, c.shiftAtEdge);
    assert.equal(r.broadeningAtEdge, c.broadeningAtEdge);
  });
  // the scores separate the candidates (else the ranking comparison could not fail)
  assert.ok(got.s.rows[0].score - got.s.rows[9].score > 1e-3);
  assert.equal(await page!.locator("#screen-out table.ranking tr").count(), 11);
  assert.match((await page!.textContent("#screen-out")) ?? "", /energy offset -6 eV \(entered\)/);
  await page!.waitForSelector("#screen-out .norm-plot .main-svg");
  await page!.waitForSelector("#screen-out .overlay-plot .main-svg");
  // no offset entered: the calibration stored with the (bundled) model folder, said in the page
  const stored = await run({ score: "pearson" });
  assert.equal(stored.s?.measured?.offset, -5.75, stored.error);
  assert.match((await page!.textContent("#calibration-status")) ?? "", /stored with the model \(model\/energy-calibration\.json\): -5\.75 eV/);
  // the default score (l2) needs an edge-step model: the lib's message, as the CLI gives it
  let expected = "";
  try {
    checkScoreNormalisation("l2", "max");
  } catch (e) {
    expected = (e as Error).message;
  }
  assert.equal((await run({ offset: -6 })).error, expected);
  assert.deepEqual(consoleErrors, []);
});

test("app: a bad XDI file shows the XDI reader's message; an Athena project lists its records; a gzipped Athena record ranks as the CLI ranks it", { skip }, async () => {
  const bad = "# XDI/1.0\n# Column.1: energy eV\n# Column.2: i0\n# Column.3: itrans\n# Element.symbol: Cu\n# Element.edge: K\n#----\n# energy i0 itrans\n8980 1 0.5\n8981 1\n";
  let expected = "";
  try {
    parseMeasuredTarget(Buffer.from(bad), "bad.xdi");
  } catch (e) {
    expected = (e as Error).message;
  }
  assert.match(expected, /^bad\.xdi:10: /);
  await page!.evaluate((t) => window.xanes.screen({ name: "bad.xdi", text: t }, []), bad);
  assert.equal(await page!.evaluate(() => window.xanes.screenError), expected);
  assert.equal(await page!.textContent("#screen-out .error"), expected);
  const projects = path.join(sharedDataDir(), "athena-projects");
  const prj = fs.existsSync(projects) ? fs.readdirSync(projects).filter((f) => f.endsWith(".prj")).sort()[0] : undefined;
  if (prj) {
    const bytes = fs.readFileSync(path.join(projects, prj));
    const p = parseAthena(athenaText(bytes, prj), prj);
    await page!.setInputFiles("#target-file", path.join(projects, prj));
    await page!.waitForFunction(() => !document.getElementById("record-box")!.hidden || document.getElementById("target-error")!.textContent !== "");
    assert.equal(await page!.textContent("#target-error"), "");
    const options = await page!.locator("#record option").allTextContents();
    assert.deepEqual(options.map((o) => o.split(":")[0]), p.records.map((r) => String(r.index)));
    assert.ok(options.every((o, i) => o.includes(p.records[i].label)));
  }
  // a gzipped Athena record (Copper.prj, Cu foil; gunzipped in the page by DecompressionStream) ranks as the CLI ranks it
  const copper = path.join(projects, "Copper.prj");
  if (fs.existsSync(copper)) {
    const data = path.join(sharedDataDir(), "feff-cu-k-oxides");
    const ids = fs.readdirSync(data).filter((d) => fs.existsSync(path.join(data, d, "POSCAR"))).sort().slice(10, 14);
    const cliOut = path.join(dir, "screen-athena");
    execFileSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "screen.ts"), "--target", copper, "--record", "0", "--offset=-6", "--score", "pearson", "--broadening", "gaussian", "--model", modelDir, "--out", cliOut,
      ...ids.flatMap((id) => ["--candidates", path.join(data, id, "POSCAR")])], { cwd: root, stdio: "pipe" });
    const cli = JSON.parse(fs.readFileSync(path.join(cliOut, "ranking.json"), "utf8")) as { rows: { id: string; score: number; sigma: number }[] };
    const candidates = ids.map((id) => ({ name: `${id}/POSCAR`, text: fs.readFileSync(path.join(data, id, "POSCAR"), "utf8") }));
    const got = await page!.evaluate(async ([b, c]) => {
      await window.xanes.screen({ name: "Copper.prj", bytes: new Uint8Array(b) }, c, { offset: -6, score: "pearson", broadening: "gaussian", record: "0" });
      return { rows: window.xanes.screening?.rows, error: window.xanes.screenError };
    }, [Array.from(fs.readFileSync(copper)), candidates] as const);
    assert.ok(got.rows, got.error);
    assert.deepEqual(got.rows.map((r) => r.id), cli.rows.map((r) => r.id));
    got.rows.forEach((r, i) => {
      assert.ok(Math.abs(r.score - cli.rows[i].score) < 1e-4, `${r.id}: score ${r.score} vs CLI ${cli.rows[i].score}`);
      assert.ok(Math.abs(r.sigma! - cli.rows[i].sigma) < 1e-6, `${r.id}: σ ${r.sigma} vs CLI ${cli.rows[i].sigma}`);
    });
  }
  assert.deepEqual(consoleErrors, []);
});

test("app: dropped files are predicted; a bad target or candidate file shows the lib's message", { skip }, async () => {
  // drag and drop: a DataTransfer holding the POSCAR text, dropped on the drop zone
  const text = fs.readFileSync(poscar, "utf8");
  await page!.evaluate((t) => {
    const dt = new DataTransfer();
    dt.items.add(new File([t], "dropped.vasp"));
    document.getElementById("drop")!.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, text);
  await page!.waitForFunction(() => "dropped.vasp" in window.xanes.results || "dropped.vasp" in window.xanes.errors);
  assert.equal(await page!.evaluate(() => window.xanes.results["dropped.vasp"]?.classes.length), 2);
  // a target with one column: parseTargetText's InputError, shown in the screening section
  const badTarget = "# energy only\n8990\n8991\n8992\n8993\n8994\n8995\n";
  let expected = "";
  try {
    parseTargetText(badTarget, "bad-target.dat");
  } catch (e) {
    expected = (e as Error).message;
  }
  assert.ok(expected);
  await page!.evaluate((t) => window.xanes.screen({ name: "bad-target.dat", text: t }, []), badTarget);
  assert.equal(await page!.evaluate(() => window.xanes.screenError), expected);
  assert.equal(await page!.textContent("#screen-out .error"), expected);
  // a bad candidate is skipped and reported with the reader's message; the good one is ranked
  const goodTarget = "# e mu\n" + Array.from({ length: 300 }, (_, i) => `${8980 + i * 0.5} ${1 / (1 + Math.exp(-(i - 60) / 5))}`).join("\n");
  await page!.evaluate(([t, p]) => window.xanes.screen({ name: "edge.dat", text: t }, [{ name: "bad/POSCAR", text: "not a POSCAR" }, { name: "good/POSCAR", text: p }], { mode: "computed" }), [goodTarget, text] as const);
  const res = await page!.evaluate(() => window.xanes.screening);
  assert.deepEqual(res?.rows.map((r) => r.id), ["good"]);
  assert.equal(res?.skippedFiles.length, 1);
  let readerError = "";
  try {
    parseStructureText("not a POSCAR", "bad/POSCAR");
  } catch (e) {
    readerError = (e as Error).message;
  }
  assert.equal(res?.skippedFiles[0].reason, readerError);
  assert.match((await page!.textContent("#screen-out")) ?? "", /skipped file bad\/POSCAR: /);
  assert.deepEqual(consoleErrors, []);
});

test("app: a tampered model folder is rejected with the loader's message; the loaded model stays", { skip }, async () => {
  const tampered = path.join(dir, "tampered");
  fs.cpSync(modelDir, tampered, { recursive: true });
  const w = fs.readFileSync(path.join(tampered, "weights.bin"));
  w[10] ^= 1;
  fs.writeFileSync(path.join(tampered, "weights.bin"), w);
  await page!.setInputFiles("#model-files", ["model.json", "weights.bin", "xanes-model.json"].map((f) => path.join(tampered, f)));
  await page!.waitForFunction(() => document.getElementById("model-error")!.textContent !== "");
  assert.match((await page!.textContent("#model-error")) ?? "", /weights\.bin: content does not match xanes-model\.json integrity/);
  assert.match((await page!.textContent("#model-status")) ?? "", /^bundled model: one model/);
});

test("app: a picked ensemble folder gives the members' mean and spread, drawn as bands", { skip }, async () => {
  await page!.setInputFiles("#model-dir", ensembleDir);
  await page!.waitForFunction(() => /ensemble of 2/.test(document.getElementById("model-status")!.textContent ?? "") || document.getElementById("model-error")!.textContent !== "");
  assert.equal(await page!.textContent("#model-error"), "");
  const name = "ensemble-POSCAR";
  fs.copyFileSync(poscar, path.join(dir, name));
  await page!.setInputFiles("#structure-files", path.join(dir, name));
  await page!.waitForFunction((n) => n in window.xanes.results || n in window.xanes.errors, name);
  const got = await page!.evaluate((n) => window.xanes.results[n].classes.map((c) => ({ mean: Array.from(c.band.mean), std: Array.from(c.band.std) })), name);
  const members = await loadEnsemble(ensembleDir);
  try {
    const s = readStructureFile(poscar);
    equivalentSites(s, "Cu").groups.forEach((g, k) => {
      const [a, b] = members.map((m) => m.predict(s, g[0]).mu);
      a.forEach((v, j) => {
        assert.ok(Math.abs((v + b[j]) / 2 - got[k].mean[j]) < 1e-4, `mean at ${j}`);
        assert.ok(Math.abs(Math.abs(v - b[j]) / 2 - got[k].std[j]) < 1e-4, `std at ${j}`);
      });
    });
  } finally {
    members.forEach((m) => m.dispose());
  }
  // per class: upper edge, filled lower edge, mean; the same for the average
  const traces = await page!.locator(`section[data-file="${name}"] .plot .scatterlayer .trace`).count();
  assert.equal(traces, 3 * (got.length + 1));
  fs.mkdirSync(path.join(root, "docs"), { recursive: true });
  await page!.evaluate(() => window.scrollTo(0, 0));
  await page!.screenshot({ path: path.join(root, "docs", "app-screenshot.png"), clip: { x: 0, y: 0, width: 1000, height: 1150 } });
  assert.deepEqual(consoleErrors, []);
});

test("app: npm run app serves the same page on 127.0.0.1", { skip }, async () => {
  const server = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts", "app-serve.ts"), "--dir", outDir, "--port", "0"], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      server.stdout!.on("data", (d) => {
        out += d;
        const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
        if (m) resolve(m[0]);
      });
      server.on("exit", (code) => reject(new Error(`server exited (${code}): ${out}`)));
    });
    const p2 = await browser!.newPage();
    const errors: string[] = [];
    p2.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await p2.route((u) => u.hostname !== "127.0.0.1" && u.protocol !== "data:" && u.protocol !== "blob:", (route) => route.abort());
    await p2.goto(url);
    await p2.evaluate(() => window.xanes.ready);
    assert.match((await p2.textContent("#model-status")) ?? "", /one model, Cu K edge/);
    // a raw request (fetch would normalise the path away): nothing outside the served folder
    const status = await new Promise<number>((resolve, reject) => http.get({ host: "127.0.0.1", port: new URL(url).port, path: "/../index.html/../../package.json" }, (r) => (r.resume(), resolve(r.statusCode!))).on("error", reject));
    assert.equal(status, 404);
    assert.deepEqual(errors, []);
    await p2.close();
  } finally {
    server.kill();
  }
});
