/**
 * Speed of the static app (app/) in headless Chromium, driven through the page, against the same lib
 * calls in Node measured in the same run (peer):
 *   1. all Cu sites of a ~200-atom cell parsed, grouped, featurised and predicted (goal < 1 s) —
 *      a symmetric supercell (few classes) and the same cell rattled (every Cu site its own class);
 *   2. ≥ 1,000 candidate Cu sites (FEFF Cu K POSCARs) screened against a target (goal < 10 s).
 *
 *   npm run bench:app                      a study-shaped network (5 descriptors, 512-512-256, random weights)
 *   npm run bench:app -- --model results/model
 *   options: --backend wasm|cpu|webgl (the page's tfjs backend; default wasm) --repeat N (default 3)
 * Prints `uptime` before and after: the machine is shared, read figures beside the load.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { launchChromium } from "../lib/plots/export";
import { sharedDataDir } from "../lib/config";
import { initBackend } from "../lib/model/backend";
import { loadEnsemble } from "../lib/model/ensemble";
import { XanesPredictor } from "../lib/model/predictor";
import { MlpRegressor } from "../lib/model/estimator";
import { spectralContract, energyMeshOf } from "../lib/model/spectral";
import { DESCRIPTOR_NAMES, Featurizer } from "../lib/descriptors/featurizer";
import { studyConfig } from "../lib/study/config";
import { parseStructureText, readStructureFile } from "../lib/structure/read";
import { poscarText } from "../lib/structure/write";
import type { Structure } from "../lib/structure/types";
import { equivalentSites } from "../lib/geometry/equivalence";
import { createRng } from "../lib/util/random";
import { candidatesFromTexts } from "../lib/screening/sources";
import { parseTargetText } from "../lib/screening/target";
import { prepareTarget } from "../lib/screening/shift";
import { screenCandidates } from "../lib/screening/rank";
import { ensemblePredictor } from "../lib/screening/predictor";
import { parseXmuDat } from "../lib/spectra/xmu";

const root = path.resolve(__dirname, "..");
const { values } = parseArgs({ options: { model: { type: "string" }, backend: { type: "string", default: "wasm" }, repeat: { type: "string", default: "3" } } });
const repeat = Math.max(1, Number(values.repeat));
const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-app-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A model folder of the study's final shape with random weights (speed does not depend on training). */
async function studyShapedModel(dir: string): Promise<string> {
  const cfg = studyConfig("full");
  const featurizer = new Featurizer({ descriptors: DESCRIPTOR_NAMES.map((name) => ({ name })), absorber: "Cu" });
  const rows = 32;
  const m = 261;
  const rng = createRng(1);
  const X = { data: Float32Array.from({ length: rows * featurizer.length }, () => rng()), rows, cols: featurizer.length };
  const Y = { data: Float32Array.from({ length: rows * m }, () => rng()), rows, cols: m };
  const reg = await new MlpRegressor({ ...cfg.final.mlp, epochs: 1 }).fit(X, Y, { train: Array.from({ length: rows }, (_, i) => i) });
  const mesh = { start: 8990, step: 0.5, points: m, relative: false };
  await new XanesPredictor(reg.fitted(), featurizer, spectralContract(mesh, "Cu", "K", "max")).save(dir);
  return `study-shaped net ${cfg.final.mlp.hidden.join("-")}, ${featurizer.length} features (${DESCRIPTOR_NAMES.join(", ")}), random weights`;
}

/** The structure repeated na × nb × nc times; `rattle` Å of seeded random displacement (breaks all symmetry). */
function supercell(s: Structure, n: [number, number, number], rattle = 0, seed = 7): Structure {
  const [na, nb, nc] = n;
  const lattice = Float64Array.from(s.lattice, (v, i) => v * n[Math.floor(i / 3)]);
  const species: string[] = [];
  const frac: number[] = [];
  const rng = createRng(seed);
  const len = [0, 1, 2].map((r) => Math.hypot(lattice[3 * r], lattice[3 * r + 1], lattice[3 * r + 2]));
  for (let a = 0; a < na; a++) for (let b = 0; b < nb; b++) for (let c = 0; c < nc; c++) {
    s.species.forEach((el, i) => {
      species.push(el);
      const d = [a, b, c];
      for (let k = 0; k < 3; k++) frac.push((s.frac[3 * i + k] + d[k]) / n[k] + (rattle ? ((rng() - 0.5) * 2 * rattle) / len[k] : 0));
    });
  }
  return { lattice, species, frac: Float64Array.from(frac), source: s.source };
}

async function main(): Promise<void> {
  console.log(`load before: ${uptime()}`);
  await initBackend();
  const modelDir = values.model ?? path.join(tmp, "model");
  const modelWhat = values.model ? `model ${values.model}` : await studyShapedModel(modelDir);
  const members = await loadEnsemble(modelDir);
  execFileSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "app-build.ts"), "--model", modelDir, "--out", path.join(tmp, "dist")], { cwd: root, stdio: "pipe" });
  console.log(`${modelWhat}; page backend ${values.backend}; Node peer backend ${(await import("@tensorflow/tfjs")).getBackend()}; median of ${repeat} runs`);

  // 1. a ~200-atom cell
  const data = path.join(sharedDataDir(), "feff-cu-k-oxides");
  const base = readStructureFile(path.join(data, "mp-1005792", "POSCAR")); // Sm2Cu(AsO4)... 28 atoms, 4 Cu
  const rep: [number, number, number] = [2, 2, 2];
  const cells = { symmetric: supercell(base, rep), rattled: supercell(base, rep, 0.02) };
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.route((url) => url.protocol !== "file:" && url.protocol !== "data:" && url.protocol !== "blob:", (route) => route.abort());
    await page.goto(`file://${path.join(tmp, "dist", "index.html")}?backend=${values.backend}`);
    await page.evaluate(() => window.xanes.ready);
    const pageBackend = await page.evaluate(() => window.xanes.backend);
    for (const [kind, cell] of Object.entries(cells)) {
      const text = poscarText(cell, `${kind} ${rep.join("x")} supercell`);
      const nCu = cell.species.filter((s) => s === "Cu").length;
      const pageRuns: { compute: number; total: number; classes: number }[] = [];
      for (let r = 0; r < repeat; r++) {
        const name = `${kind}-${r}.vasp`;
        const t = await page.evaluate(async ([n, txt]) => {
          const t0 = performance.now();
          await window.xanes.predictFiles([{ name: n, text: txt }]);
          const res = window.xanes.results[n];
          if (!res) throw new Error(window.xanes.errors[n]);
          return { total: performance.now() - t0, compute: res.timing.featurizeMs + res.timing.predictMs, classes: res.classes.length };
        }, [name, text] as const);
        pageRuns.push(t);
      }
      const nodeRuns: number[] = [];
      for (let r = 0; r < repeat; r++) {
        const t0 = performance.now();
        const s = parseStructureText(text, `${kind}.vasp`);
        const eq = equivalentSites(s, "Cu");
        members[0].predictSites(s, eq.groups.map((g) => g[0]));
        nodeRuns.push(performance.now() - t0);
      }
      const pc = median(pageRuns.map((x) => x.compute));
      const pt = median(pageRuns.map((x) => x.total));
      const nd = median(nodeRuns);
      console.log(
        `${kind} cell: ${cell.species.length} atoms, ${nCu} Cu sites in ${pageRuns[0].classes} classes | page (${pageBackend}): ` +
          `symmetry+featurise+predict ${pc.toFixed(0)} ms, with parse and plot ${pt.toFixed(0)} ms (goal < 1000 ms: ${pt < 1000 ? "met" : "missed"}) | ` +
          `Node peer parse+symmetry+featurise+predict ${nd.toFixed(0)} ms | page/Node ${(pt / nd).toFixed(2)}`,
      );
    }

    // 2. screening ≥ 1,000 candidate sites
    const ids = fs.readdirSync(data).filter((d) => fs.existsSync(path.join(data, d, "POSCAR"))).sort();
    const candidates: { name: string; text: string }[] = [];
    let sites = 0;
    for (const id of ids) {
      if (sites >= 1000) break;
      const text = fs.readFileSync(path.join(data, id, "POSCAR"), "utf8");
      try {
        sites += equivalentSites(parseStructureText(text, `${id}/POSCAR`), "Cu").groups.length;
        candidates.push({ name: `${id}/POSCAR`, text });
      } catch {
        // unreadable candidates are reported by the page too; not counted
      }
    }
    const xmuDir = fs.readdirSync(path.join(data, ids[0])).find((d) => fs.existsSync(path.join(data, ids[0], d, "xmu.dat")))!;
    const xmu = parseXmuDat(fs.readFileSync(path.join(data, ids[0], xmuDir, "xmu.dat"), "utf8"));
    const targetText = "# energy mu\n" + Array.from(xmu.omega, (e, i) => `${e + 1.5} ${xmu.mu[i]}`).join("\n") + "\n";
    const pageRuns: { total: number; predict: number; score: number; sites: number }[] = [];
    for (let r = 0; r < repeat; r++) {
      const t = await page.evaluate(async ([tt, cs]) => {
        const t0 = performance.now();
        await window.xanes.screen({ name: "target.dat", text: tt }, cs, { mode: "computed" });
        const s = window.xanes.screening;
        if (!s) throw new Error(window.xanes.screenError);
        return { total: performance.now() - t0, predict: s.timing.predictMs, score: s.timing.scoreMs, sites: s.timing.sitesPredicted };
      }, [targetText, candidates] as const);
      pageRuns.push(t);
    }
    const nodeRuns: number[] = [];
    for (let r = 0; r < repeat; r++) {
      const t0 = performance.now();
      const target = parseTargetText(targetText, "target.dat", { kind: "material" });
      const prepared = prepareTarget(target, energyMeshOf(members[0].spectral.mesh), { normalisation: members[0].spectral.normalisation, window: 5 });
      const load = candidatesFromTexts(candidates.map((c) => ({ file: c.name, text: c.text })));
      await screenCandidates(prepared, load.candidates, ensemblePredictor(members), { element: "Cu", metric: "cosine" });
      nodeRuns.push(performance.now() - t0);
    }
    const pt = median(pageRuns.map((x) => x.total));
    const nd = median(nodeRuns);
    console.log(
      `screening: ${candidates.length} candidates, ${pageRuns[0].sites} sites predicted | page (${pageBackend}): parse+screen ${pt.toFixed(0)} ms ` +
        `(predict ${median(pageRuns.map((x) => x.predict)).toFixed(0)} ms, score ${median(pageRuns.map((x) => x.score)).toFixed(0)} ms; goal < 10000 ms: ${pt < 10000 ? "met" : "missed"}) | ` +
        `Node peer ${nd.toFixed(0)} ms | page/Node ${(pt / nd).toFixed(2)}`,
    );
  } finally {
    await browser.close();
    members.forEach((m) => m.dispose());
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`load after: ${uptime()}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
