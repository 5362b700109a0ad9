// Composes model-selection.json and the markdown table of docs/benchmark/README.md ("Model options")
// from the search reports in runs/search/ (node docs/benchmark/compose-model-selection.js).
// Criterion: the validation eta of the 2-seed ensemble (seeds 1, 2); test figures are not read.
const fs = require("fs");
const path = require("path");
const R = path.join(__dirname, "runs", "search");
const stages = [
  ["A: schedule × weight decay", "stage-a.json"],
  ["B: width / depth", "stage-b.json"],
  ["C: output representation", "stage-c.json"],
  ["D: follow-up", "stage-d.json"],
];
const fmtSched = (s) => (s.kind === "constant" ? "constant" : s.kind === "cosine" ? `cosine → ${s.minFactor}${s.warmupEpochs ? `, warm-up ${s.warmupEpochs}` : ""}` : `step ×${s.factor} / ${s.everyEpochs} ep.`);
const rows = [];
for (const [stage, file] of stages) {
  if (!fs.existsSync(path.join(R, file))) continue;
  const rep = JSON.parse(fs.readFileSync(path.join(R, file), "utf8"));
  for (const r of rep.runs) {
    const s = r.mlp.settings;
    rows.push({
      stage,
      label: r.grid ?? r.label,
      source: `runs/search/${file}`,
      settings: { hidden: s.hidden, lrSchedule: s.lrSchedule, weightDecay: s.weightDecay, epochs: s.epochs, patience: s.patience, dropout: s.dropout, outputScaling: s.outputScaling, pcaComponents: s.pcaComponents },
      seeds: r.mlp.seeds,
      memberValEta: r.mlp.members.map((m) => m.valEta),
      bestEpochs: r.mlp.members.map((m) => `${m.bestEpoch}/${m.epochsRun}`),
      ensembleValEta: r.mlp.ensemble.valEta,
      nVal: r.mlp.ensemble.nVal,
    });
  }
}
const best = rows.reduce((a, b) => (b.ensembleValEta > a.ensembleValEta ? b : a), rows[0]);
// Confirmation with 5 seeds: the stage winner (runs/omnixas-final.json), the next three (stage E) and
// the reproduction's settings (runs/omnixas-extended-before.json); criterion: 5-member ensemble val eta.
const five = [];
const addFive = (file, label, pick) => {
  const f = path.join(__dirname, "runs", file);
  if (!fs.existsSync(f)) return;
  for (const r of JSON.parse(fs.readFileSync(f, "utf8")).runs.filter(pick)) {
    five.push({ label: label ?? r.grid, source: `runs/${file}`, seeds: r.mlp.seeds, memberValEta: r.mlp.members.map((m) => m.valEta), ensembleValEta: r.mlp.ensemble.valEta, settings: r.mlp.settings });
  }
};
addFive("omnixas-final.json", `${best.label} (stage winner)`, (r) => r.preset === "extended");
addFive("search/stage-e.json", null, () => true);
addFive("omnixas-extended-before.json", "constant, wd 0 (the reproduction's settings)", () => true);
const bestFive = five.length ? five.reduce((a, b) => (b.ensembleValEta > a.ensembleValEta ? b : a), five[0]) : null;
fs.writeFileSync(
  path.join(__dirname, "model-selection.json"),
  JSON.stringify(
    {
      protocol: "OmniXAS split (train 2992, val 372 lines found here), extended preset. Stages A-D: MLP seeds 1 and 2, criterion val eta of their 2-member ensemble. Confirmation: seeds 1-5, criterion val eta of the 5-member ensemble. Test figures were not used.",
      candidates: rows,
      stageWinner: best.label,
      confirmationWith5Seeds: five,
      chosen: bestFive ? bestFive.label : best.label,
    },
    null,
    1,
  ) + "\n",
);
const lines = ["| stage | candidate | hidden | schedule | weight decay | outputs | best/run epochs | member val eta | **ensemble val eta** |", "|---|---|---|---|---:|---|---|---|---:|"];
for (const r of rows) {
  const s = r.settings;
  const out = s.outputScaling === "pca" ? `PCA ${s.pcaComponents}` : s.outputScaling;
  const cell = (v) => (r === best ? `**${v}**` : v);
  lines.push(`| ${r.stage.split(":")[0]} | ${cell(r.label)} | ${s.hidden.join("-")} | ${fmtSched(s.lrSchedule)}${s.lrSchedule.kind !== "constant" ? ` (${s.epochs} ep.)` : ""} | ${s.weightDecay} | ${out} | ${r.bestEpochs.join(", ")} | ${r.memberValEta.map((v) => v.toFixed(3)).join(", ")} | ${cell(r.ensembleValEta.toFixed(3))} |`);
}
console.log(lines.join("\n"));
console.log(`\nwinner of stages A-D (2 seeds): ${best.label} (val eta ${best.ensembleValEta.toFixed(3)})`);
if (five.length) {
  const t = ["| candidate (5 seeds) | member val eta | **ensemble val eta** |", "|---|---|---:|"];
  for (const r of five) t.push(`| ${r === bestFive ? `**${r.label}**` : r.label} | ${r.memberValEta.map((v) => v.toFixed(3)).join(", ")} | ${r === bestFive ? `**${r.ensembleValEta.toFixed(3)}**` : r.ensembleValEta.toFixed(3)} |`);
  console.log("\n" + t.join("\n"));
  console.log(`\nchosen with 5 seeds: ${bestFive.label} (val eta ${bestFive.ensembleValEta.toFixed(3)})`);
}
