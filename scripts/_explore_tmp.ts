import * as path from "node:path";
import { readXdiFile } from "../lib/spectra/xdi";
import { MatchOptions, MatchScore, MatchScorer, normaliseTarget, prepareMatch, rankMatches } from "../lib/screening/match";
import { feffMaterialSpectrum, validationCandidates } from "../lib/screening/reference";
import { CU_MEASURED_STANDARDS, VALIDATION_MESH as mesh } from "../lib/screening/standards";
const root = "/work/shared/data/feff-cu-k-oxides";
const set = validationCandidates(root, CU_MEASURED_STANDARDS.flatMap((s) => s.trueIds), 100, 10);
const refs = new Map<string, Float64Array>();
for (const id of set.ids) { const r = feffMaterialSpectrum(path.join(root, id), mesh); if (typeof r !== "string") refs.set(id, r.spectrum); }
const cands = [...refs].map(([id, s]) => ({ id, members: [s] }));
const targets = CU_MEASURED_STANDARDS.map((s) => { const m = readXdiFile(path.join("/work/shared/data/xaslib/data", s.file)); return { ...s, t: normaliseTarget(m.energy, m.mu, m.source) }; });
const grid = (lo: number, hi: number, st: number) => Array.from({ length: Math.round((hi - lo) / st) + 1 }, (_, i) => lo + i * st);
const sigmaGrid = grid(0, 4, 0.25);
const out: string[] = [];
for (const score of (process.env.SCORES ?? "pearson,l2,pearson+derivative").split(",") as MatchScore[])
for (const window of JSON.parse(process.env.WINDOWS ?? "[[8975,9060],[8990,9080],[8990,9120],[8995,9070]]") as [number, number][])
for (const sigmaMode of (process.env.MODES ?? "calibrated,cal±0.5,fit0-3,L-cal,L-fit,L-cal±0.5").split(","))
for (const sw of [0, 1, 2]) {
  const ranks: string[] = [];
  for (const [ti, t] of targets.entries()) {
    const o = targets[1 - ti];
    // calibrate offset+sigma on the other standard
    const L = sigmaMode.startsWith("L");
    const cp = prepareMatch(o.t, mesh, { score, window, offset: 0, shiftWindow: 15, shiftStep: 0.25, sigmas: L ? [0] : sigmaGrid, gammas: L ? sigmaGrid : [0] });
    const cf0 = new MatchScorer(cp).fit(refs.get(o.trueIds[0])!);
    const cf = { ...cf0, sigma: L ? cf0.gamma : cf0.sigma };
    let sigmas: number[];
    const mode = sigmaMode.replace(/^L-?/, "") || "calibrated";
    if (mode === "cal") sigmas = [cf.sigma];
    else if (mode === "calibrated") sigmas = [cf.sigma];
    else if (mode === "cal±0.5") sigmas = [cf.sigma - 0.5, cf.sigma - 0.25, cf.sigma, cf.sigma + 0.25, cf.sigma + 0.5].filter((s) => s >= 0);
    else sigmas = grid(0, 4, 0.25);
    const GL = sigmaMode === "GL-fit";
    const opts: MatchOptions = GL ? { score, window, offset: cf.shift, shiftWindow: sw, shiftStep: 0.25, sigmas: grid(0, 3, 0.5), gammas: grid(0, 3, 0.5) } : L ? { score, window, offset: cf.shift, shiftWindow: sw, shiftStep: 0.25, sigmas: [0], gammas: sigmas } : { score, window, offset: cf.shift, shiftWindow: sw, shiftStep: 0.25, sigmas };
    const ranked = rankMatches(prepareMatch(t.t, mesh, opts), cands);
    const tr = ranked.filter((r) => t.trueIds.includes(r.id));
    ranks.push(`${t.name.slice(0, 3)} ${Math.min(...tr.map((r) => r.rank))} (cal ${cf.shift.toFixed(2)}/${cf.sigma})`);
  }
  out.push(`${score.padEnd(18)} ${window.join("-")} σ:${sigmaMode.padEnd(10)} ±${sw}: ${ranks.join("  ")}`);
}
console.log(out.join("\n"));
