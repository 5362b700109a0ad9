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
 *   npm run validate:measured -- --train --seeds 3 --epochs 60   # + a model trained here
 *   npm run validate:measured -- --model results/model --json results/measured-validation.json
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { sharedDataDir } from "../lib/config";
import { meshFromWindow } from "../lib/spectra/mesh";
import { readXdiFile } from "../lib/spectra/xdi";
import {
  DEFAULT_MATCH,
  MATCH_SCORES,
  MatchCandidate,
  MatchOptions,
  MatchScore,
  calibrateOffset,
  normaliseTarget,
  prepareMatch,
  rankMatches,
} from "../lib/screening/match";
import { feffMaterialSpectrum, validationCandidates } from "../lib/screening/reference";
import { CU_MEASURED_STANDARDS, VALIDATION_MESH } from "../lib/screening/standards";

const { values: opt } = parseArgs({
  options: {
    model: { type: "string" },
    train: { type: "boolean", default: false },
    seeds: { type: "string", default: "3" },
    epochs: { type: "string", default: "60" },
    json: { type: "string" },
    quick: { type: "boolean", default: false },
  },
});

async function main(): Promise<void> {
  const root = path.join(sharedDataDir(), "feff-cu-k-oxides");
  const xaslib = path.join(sharedDataDir(), "xaslib", "data");
  const mesh = VALIDATION_MESH;
  const t0 = performance.now();
  const required = CU_MEASURED_STANDARDS.flatMap((s) => s.trueIds);
  const set = validationCandidates(root, required, 100, 10);
  const refs = new Map<string, Float64Array>();
  const skipped: string[] = [];
  let held = 0;
  for (const id of set.ids) {
    const r = feffMaterialSpectrum(path.join(root, id), mesh);
    if (typeof r === "string") skipped.push(r);
    else {
      refs.set(id, r.spectrum);
      held += r.held;
    }
  }
  console.log(
    `candidates: ${set.ids.length} (${set.binaries.length} Cu–O binaries, ${set.others.length} others, seed 10); ${refs.size} with a FEFF average, ` +
      `${skipped.length} skipped; ${held} site runs start after ${mesh.start} eV (first value held); ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const s of skipped) console.log(`  skipped ${s}`);

  const targets = CU_MEASURED_STANDARDS.map((s) => {
    const m = readXdiFile(path.join(xaslib, s.file));
    return { ...s, target: normaliseTarget(m.energy, m.mu, m.source), rule: m.rule };
  });
  for (const t of targets) console.log(`target ${t.name}: ${t.file}, mu = ${t.rule}, E0 ${t.target.preEdge.e0} eV, step ${t.target.preEdge.edgeStep.toFixed(4)}`);

  const feffCands: MatchCandidate[] = [...refs].map(([id, s]) => ({ id, members: [s] }));
  const report: Record<string, unknown>[] = [];
  const windows: [number, number][] = [[8975, 9060], [8975, 9120], [8983, 9040]];
  const scores: MatchScore[] = [...MATCH_SCORES];
  const run = (label: string, cands: MatchCandidate[], refOf: (id: string) => ArrayLike<number>) => {
    for (const score of scores) {
      for (const window of windows) {
        const base = { ...DEFAULT_MATCH, score, window };
        const cells: string[] = [];
        for (const [ti, t] of targets.entries()) {
          // Leave-one-out: the offset comes from the other standards only.
          const others = targets.filter((_, j) => j !== ti).map((o) => ({ name: o.name, target: o.target, reference: refOf(o.trueIds[0]) }));
          const cal = calibrateOffset(others, mesh, "Cu", "K", base);
          const options: MatchOptions = { ...base, offset: cal.offset };
          const ranked = rankMatches(prepareMatch(t.target, mesh, options), cands);
          const trueRows = ranked.filter((r) => t.trueIds.includes(r.id));
          const rank = Math.min(...trueRows.map((r) => r.rank));
          const edges = ranked.filter((r) => r.shiftAtEdge).length;
          const sEdges = ranked.filter((r) => r.sigmaAtEdge).length;
          cells.push(`${t.name} rank ${trueRows.map((r) => `${r.id}:${r.rank}`).join(",")} (offset ${cal.offset.toFixed(2)}; top ${ranked.slice(0, 3).map((r) => r.id).join(" ")}; shift-edge ${edges}, σ-edge ${sEdges})`);
          report.push({
            spectra: label, score, window, target: t.name, rank, trueRanks: Object.fromEntries(trueRows.map((r) => [r.id, r.rank])),
            offset: cal.offset, offsetFrom: others.map((o) => o.name), candidates: ranked.length, shiftAtEdge: edges, sigmaAtEdge: sEdges,
            top5: ranked.slice(0, 5).map((r) => ({ id: r.id, score: r.score, shift: r.shift, sigma: r.sigma })),
          });
        }
        console.log(`${label} ${score.padEnd(18)} ${window.join("–")}: ${cells.join(" | ")}`);
      }
    }
  };
  run("FEFF", feffCands, (id) => refs.get(id)!);
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
