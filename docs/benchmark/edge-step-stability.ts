// Measures how stable edge-step normalisation is on the FEFF Cu K set: FEFF's own scale vs a
// pre-edge/post-edge line fit (results in docs/benchmark/README.md). Run: node --import tsx docs/benchmark/edge-step-stability.ts
import * as fs from "node:fs";
import * as path from "node:path";
import { listFeffSiteDirs } from "../../lib/data/feff";
import { parseXmuDat } from "../../lib/spectra/xmu";
const root = "/work/shared/data/feff-cu-k-oxides";
function linfit(x: number[], y: number[]) { const n = x.length; const mx = x.reduce((a, b) => a + b, 0) / n, my = y.reduce((a, b) => a + b, 0) / n; let sxy = 0, sxx = 0; for (let i = 0; i < n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; } const b = sxx > 0 ? sxy / sxx : 0; return { a: my - b * mx, b }; }
const post: number[] = [], stepFit: number[] = [], preAt0: number[] = [], npre: number[] = [], preRange: number[] = [], stepFitShort: number[] = [];
for (const m of fs.readdirSync(root)) {
  for (const s of listFeffSiteDirs(path.join(root, m), "Cu")) {
    const x = parseXmuDat(fs.readFileSync(path.join(s.dir, "xmu.dat"), "utf8"));
    const e = Array.from(x.e), mu = Array.from(x.mu);
    const preIdx = e.map((v, i) => i).filter((i) => e[i] <= -3);
    const postIdx = e.map((v, i) => i).filter((i) => e[i] >= 30 && e[i] <= 120);
    npre.push(preIdx.length); preRange.push(e[preIdx[preIdx.length - 1]] - e[0]);
    post.push(postIdx.reduce((a, i) => a + mu[i], 0) / postIdx.length);
    const pf = linfit(preIdx.map((i) => e[i]), preIdx.map((i) => mu[i]));
    const qf = linfit(postIdx.map((i) => e[i]), postIdx.map((i) => mu[i]));
    preAt0.push(pf.a);
    stepFit.push(qf.a - pf.a);
    // a flat pre-edge (mean of the pre-edge points) instead of a line
    const preMean = preIdx.reduce((a, i) => a + mu[i], 0) / preIdx.length;
    stepFitShort.push(qf.a - preMean);
  }
}
const q = (v: number[], p: number) => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(p * (s.length - 1))]; };
const show = (name: string, v: number[]) => console.log(name.padEnd(40), "n", v.length, "p1", q(v, 0.01).toFixed(3), "p5", q(v, 0.05).toFixed(3), "median", q(v, 0.5).toFixed(3), "p95", q(v, 0.95).toFixed(3), "p99", q(v, 0.99).toFixed(3));
show("pre-edge points (e <= -3 eV)", npre);
show("pre-edge span eV", preRange);
show("FEFF mu mean over e 30..120 eV", post);
show("pre-edge line at E0 (mu)", preAt0);
show("step: post line(E0) - pre line(E0)", stepFit);
show("step: post line(E0) - mean pre-edge", stepFitShort);
