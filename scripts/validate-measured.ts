/**
 * Validation of screening on real measurements (issue 10): for each measured Cu oxide of xaslib whose
 * structure is in the FEFF set (CuO tenorite, azurite), the rank of the true structure among the
 * validation candidates (every Cu–O binary + the required ids + 100 other Cu oxides, seed 10), with
 *   - the candidates' own FEFF spectra (the ceiling; no training), and
 *   - a model's predictions (--model DIR, or --train: a model trained here on a dataset whose mesh starts
 *     at 8983 eV, edge-step normalised; see lib/screening/model-adapter.ts).
 * The FEFF-vs-experiment offset is calibrated leave-one-out: each target is ranked with the offset
 * fitted on the other standard(s) only.
 *
 *   npm run validate:measured                     # FEFF ceiling, every score/window option
 *   npm run validate:measured -- --train --seeds 3 --epochs 60   # + a model trained here on every material
 *   npm run validate:measured -- --train --holdout               # + a second model without the true structures
 *   npm run validate:measured -- --train --heldout-only          # only the model without the true structures
 *   npm run validate:measured -- --model results/model --json results/measured-validation.json
 *   npm run validate:measured -- --model results/model --stretch-fit   # + the energy-scale stretch fitted
 *       leave-one-out with the offset (MatchOptions.stretch, −10…+4 %)
 *   npm run validate:measured -- --model results/model --shift-windows 0,0.25,0.5,1 --defaults-only
 *       # per-candidate shift windows other than ±1/±2 eV, each with its rank range over the offset ±0.5 eV
 *   npm run validate:measured -- --train --save results/model-measured   # keep the model (all materials) with
 *       its energy calibration (both standards, and leave-one-out) in its spectral contract, for `npm run screen`
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { sharedDataDir } from "../lib/config";
import * as os from "node:os";
import { parsePoscar } from "../lib/structure/poscar";
import { ensemblePredictor } from "../lib/screening/predictor";
import { loadEnsemble, saveEnsemble } from "../lib/model/ensemble";
import { predictMaterial, trainMeasuredModel } from "../lib/screening/model-validation";
import { initBackend } from "../lib/model/backend";
import {
  BROADENINGS,
  CalibrationStandard,
  DEFAULT_MATCH,
  EnergyCalibration,
  MatchOptions,
  MATCH_SCORES,
  broadeningOptions,
  calibrateOffset,
  prepareMatch,
} from "../lib/screening/match";
import { feffValidationSet } from "../lib/screening/reference";
import { MatchCandidate, rankMatches } from "../lib/screening/rank";
import { CU_MEASURED_STANDARDS, VALIDATION_MESH, calibrateModelAlignment, readMeasuredStandards } from "../lib/screening/standards";

const { values: opt } = parseArgs({
  options: {
    model: { type: "string" },
    train: { type: "boolean", default: false },
    seeds: { type: "string", default: "3" },
    epochs: { type: "string", default: "60" },
    json: { type: "string" },
    quick: { type: "boolean", default: false },
    holdout: { type: "boolean", default: false },
    save: { type: "string" },
    "defaults-only": { type: "boolean", default: false },
    "heldout-only": { type: "boolean", default: false },
    "stretch-fit": { type: "boolean", default: false },
    "shift-windows": { type: "string" },
  },
});

const loadAvg = () => os.loadavg().map((v) => v.toFixed(1)).join(" ");

async function main(): Promise<void> {
  if (opt.train || opt.model) await initBackend();
  const root = path.join(sharedDataDir(), "feff-cu-k-oxides");
  const mesh = VALIDATION_MESH;
  const t0 = performance.now();
  const required = CU_MEASURED_STANDARDS.flatMap((s) => s.trueIds);
  const { set, spectra: refs, skipped, held } = feffValidationSet(root, mesh, required, 100, 10);
  console.log(
    `candidates: ${set.ids.length} (${set.binaries.length} Cu–O binaries, ${set.others.length} others, seed 10); ${refs.size} with a FEFF average, ` +
      `${skipped.length} skipped; ${held} site runs start after ${mesh.start} eV (first value held); ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const s of skipped) console.log(`  skipped ${s}`);

  const targets = readMeasuredStandards();
  for (const t of targets) console.log(`target ${t.name}: ${t.file}, mu = ${t.measured.rule}, E0 ${t.target.preEdge.e0} eV, step ${t.target.preEdge.edgeStep.toFixed(4)}; ${t.measured.referenceCalibration?.note ?? ""}`);

  const sets: { label: string; cands: MatchCandidate[] }[] = [{ label: "FEFF", cands: [...refs].map(([id, sp]) => ({ id, members: [sp] })) }];
  if (opt.train || opt.model) {
    const seeds = Array.from({ length: Number(opt.seeds) }, (_, i) => i + 1);
    const variants: { label: string; exclude: string[] }[] = opt.model
      ? [{ label: "model", exclude: [] }]
      : [
          ...(opt["heldout-only"] ? [] : [{ label: "model", exclude: [] }]),
          ...(opt.holdout || opt["heldout-only"] ? [{ label: "model-heldout", exclude: required }] : []),
        ];
    for (const v of variants) {
      const t1 = performance.now();
      let predictor;
      let nMembers = seeds.length;
      if (opt.model) {
        const loaded = await loadEnsemble(opt.model);
        nMembers = loaded.length;
        predictor = ensemblePredictor(loaded);
      } else {
        const trained = await trainMeasuredModel({ root, mesh, seeds, epochs: Number(opt.epochs), exclude: v.exclude, maxMaterials: opt.quick ? 300 : undefined, log: (l) => console.log(`  ${v.label}: ${l}`) });
        predictor = trained.predictor;
        if (opt.save && v.exclude.length === 0) {
          await saveEnsemble(opt.save, trained.members);
          // The offset goes into every member's spectral contract (alignment), with the leave-one-out offsets.
          const cal = await calibrateModelAlignment(opt.save, { reference: "feff" });
          console.log(`saved ${seeds.length} member(s) to ${opt.save}; ${cal.report}`);
        }
      }
      if (predictor.energy.length !== mesh.points || Math.abs(predictor.energy[0] - mesh.start) > 1e-6) throw new Error(`model mesh ${predictor.energy[0]}… (${predictor.energy.length} points) is not the validation mesh`);
      const cands: MatchCandidate[] = [];
      for (const id of refs.keys()) {
        const structure = parsePoscar(fs.readFileSync(path.join(root, id, "POSCAR"), "utf8"), id);
        const p = await predictMaterial(predictor, structure);
        cands.push({ id, members: p.members, band: p.band });
      }
      console.log(`${v.label}: ${nMembers} member(s), ${cands.length} candidates predicted; ${((performance.now() - t1) / 1000).toFixed(0)} s (load ${loadAvg()})`);
      sets.push({ label: v.label, cands });
    }
  }
  // --stretch-fit: the energy-scale stretch α (MatchOptions.stretch) fitted with the offset on the
  // calibration standards over −10…+4 % (the best mean score), leave-one-out like the offset.
  const stretches = opt["stretch-fit"] ? Array.from({ length: 15 }, (_, i) => (i - 10) / 100) : [0];
  const calibrateWithStretch = (others: CalibrationStandard[], base: Omit<MatchOptions, "offset">, grid: readonly number[]) => {
    let best: { cal: EnergyCalibration; stretch: number; score: number } | undefined;
    for (const stretch of grid) {
      const cal = calibrateOffset(others, mesh, "Cu", "K", { ...base, stretch });
      const score = cal.standards.reduce((a, x) => a + x.score, 0) / cal.standards.length;
      if (!best || score > best.score) best = { cal, stretch, score };
    }
    return best!;
  };
  const report: Record<string, unknown>[] = [];
  const windows: [number, number][] = [[8990, 9120], [8975, 9060], [8985, 9120], [8990, 9080]];
  const shiftWindows = opt["shift-windows"] === undefined ? [1, 2] : opt["shift-windows"].split(",").map((v) => {
    const x = Number(v);
    if (!(x >= 0 && x <= 10)) throw new Error(`--shift-windows: "${v}" is not a shift window in 0–10 eV`);
    return x;
  });
  for (const score of MATCH_SCORES) {
    for (const window of windows) {
      for (const broadening of BROADENINGS) {
        for (const shiftWindow of shiftWindows) {
          const base = { ...DEFAULT_MATCH, score, window, shiftWindow, ...broadeningOptions(broadening) };
          // Default score, window and broadening; with --shift-windows, --defaults-only keeps them at every window given.
          const defaultButShift = score === DEFAULT_MATCH.score && window[0] === DEFAULT_MATCH.window[0] && window[1] === DEFAULT_MATCH.window[1] && broadening === "lorentzian";
          const isDefault = defaultButShift && shiftWindow === DEFAULT_MATCH.shiftWindow;
          const shiftWindowsGiven = opt["shift-windows"] !== undefined;
          const withRange = isDefault || shiftWindowsGiven;
          if (opt["defaults-only"] && !(defaultButShift && (isDefault || shiftWindowsGiven))) continue;
          const cells: string[] = [];
          for (const set of sets) {
            for (const [ti, t] of targets.entries()) {
              // Leave-one-out: the offset (and with --stretch-fit the energy stretch) comes from the other
              // standards only, against their FEFF spectra.
              const others = targets.filter((_, j) => j !== ti).map((o) => ({ name: o.name, target: o.target, reference: refs.get(o.trueIds[0])! }));
              const { cal, stretch } = calibrateWithStretch(others, base, stretches);
              const ranked = rankMatches(prepareMatch(t.target, mesh, { ...base, offset: cal.offset, stretch }), set.cands);
              const trueRows = ranked.filter((r) => t.trueIds.includes(r.id));
              const rank = Math.min(...trueRows.map((r) => r.rank));
              const edges = ranked.filter((r) => r.shiftAtEdge).length;
              const bEdges = ranked.filter((r) => r.broadeningAtEdge).length;
              // How fragile the rank is: the same ranking with the offset moved by up to ±0.5 eV (about the
              // standards' spread), since a 0.1 eV change of the energy scale can reorder near-ties at the top.
              const offsetRanks = withRange
                ? [-0.5, -0.25, 0.25, 0.5].map((d) => Math.min(...rankMatches(prepareMatch(t.target, mesh, { ...base, offset: cal.offset + d, stretch }), set.cands).filter((r) => t.trueIds.includes(r.id)).map((r) => r.rank)))
                : [];
              cells.push(`${set.label} ${t.name.split(" ")[0]} ${rank}${withRange ? ` (${Math.min(rank, ...offsetRanks)}–${Math.max(rank, ...offsetRanks)})` : ""}`);
              report.push({
                spectra: set.label, score, window, broadening, shiftWindow, isDefault, target: t.name, rank,
                trueRanks: Object.fromEntries(trueRows.map((r) => [r.id, r.rank])),
                ...(withRange ? { rankRangeOffsetPm05: [Math.min(rank, ...offsetRanks), Math.max(rank, ...offsetRanks)] } : {}),
                offset: cal.offset, stretch, offsetFrom: others.map((o) => o.name), candidates: ranked.length, shiftAtEdge: edges, broadeningAtEdge: bEdges,
                top5: ranked.slice(0, 5).map((r) => ({ id: r.id, score: r.score, scoreStd: r.scoreStd, shift: r.shift, sigma: r.sigma, gamma: r.gamma })),
              });
              if (isDefault) console.log(`  default, ${set.label}, ${t.name}: rank ${rank}; with the offset moved ±0.25/±0.5 eV: ${Math.min(rank, ...offsetRanks)}–${Math.max(rank, ...offsetRanks)}`);
              if (isDefault) console.log(`  default, ${set.label}, ${t.name}: true ${trueRows.map((r) => `${r.id} rank ${r.rank} (score ${r.score.toFixed(4)}, shift ${r.shift}, γ ${r.gamma}, σ ${r.sigma})`).join("; ")}; offset ${cal.offset.toFixed(2)} eV${stretch ? `, stretch ${(stretch * 100).toFixed(0)} %` : ""} from ${others.map((o) => o.name).join(", ")}; top 3 ${ranked.slice(0, 3).map((r) => `${r.id} ${r.score.toFixed(4)}`).join(", ")}; shift at edge ${edges}/${ranked.length}, broadening at bound ${bEdges}/${ranked.length}`);
            }
          }
          console.log(`${isDefault ? "*" : " "} ${score.padEnd(18)} ${window.join("–")} ${broadening.padEnd(10)} ±${shiftWindow} eV: ${cells.join(" | ")}`);
        }
      }
    }
  }
  if (opt.json) {
    fs.mkdirSync(path.dirname(opt.json), { recursive: true });
    fs.writeFileSync(opt.json, JSON.stringify({ mesh, candidates: set, skipped, report }, null, 1));
  }
}

main().catch((err) => {
  console.error(`validate-measured: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.XANES_DEBUG) console.error(err);
  process.exit(1);
});
