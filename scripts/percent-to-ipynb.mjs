#!/usr/bin/env node
// Convert between a jupytext-style "percent" TypeScript file and a tslab notebook.
//
//   node scripts/percent-to-ipynb.mjs draft.ts [notebooks/NN-name.ipynb]   .ts  -> .ipynb (outputs empty)
//   node scripts/percent-to-ipynb.mjs notebooks/NN-name.ipynb [draft.ts]   .ipynb -> .ts (to edit)
//   node scripts/percent-to-ipynb.mjs --clear notebooks/*.ipynb             clear outputs in place
//
// Percent format: a line `// %% [markdown]` starts a markdown cell whose lines are `// text`
// comments (the `// ` is stripped); a line `// %%` starts a code cell. Text before the first marker
// must be blank. Commit only the .ipynb (outputs cleared; test/notebooks.test.ts checks that).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const TSLAB_METADATA = {
  kernelspec: { name: "tslab", display_name: "TypeScript (xanes)", language: "typescript" },
  language_info: {
    name: "typescript",
    codemirror_mode: { name: "javascript", typescript: true },
    file_extension: ".ts",
    mimetype: "text/typescript",
  },
};

function trimBlankEdges(lines) {
  let a = 0;
  let b = lines.length;
  while (a < b && lines[a].trim() === "") a++;
  while (b > a && lines[b - 1].trim() === "") b--;
  return lines.slice(a, b);
}

/** Parse percent-format text into an nbformat 4.5 notebook object. */
export function percentToNotebook(text, sourceName = "<input>") {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const cells = [];
  let current = null;
  const flush = () => {
    if (!current) return;
    let body = trimBlankEdges(current.lines);
    if (current.type === "markdown") {
      body = body.map((l, i) => {
        if (l.trim() === "") return "";
        const m = /^\s*\/\/ ?(.*)$/.exec(l);
        if (!m) throw new Error(`${sourceName}:${current.start + 1 + i}: markdown cell lines must start with "//", got: ${l}`);
        return m[1];
      });
    }
    const source = body.join("\n");
    const id = `cell-${cells.length}`;
    cells.push(
      current.type === "markdown"
        ? { cell_type: "markdown", id, metadata: {}, source }
        : { cell_type: "code", id, metadata: {}, execution_count: null, outputs: [], source },
    );
  };
  lines.forEach((line, i) => {
    const m = /^\/\/ %%(.*)$/.exec(line);
    if (m) {
      flush();
      const rest = m[1].trim();
      current = { type: /^\[markdown\]|^\[md\]/.test(rest) ? "markdown" : "code", lines: [], start: i + 1 };
    } else if (current) current.lines.push(line);
    else if (line.trim() !== "") throw new Error(`${sourceName}:${i + 1}: text before the first "// %%" cell marker`);
  });
  flush();
  if (cells.length === 0) throw new Error(`${sourceName}: no "// %%" cells found`);
  return { cells, metadata: TSLAB_METADATA, nbformat: 4, nbformat_minor: 5 };
}

/** Render a notebook object back to percent-format text (outputs are dropped). */
export function notebookToPercent(nb) {
  return (
    nb.cells
      .map((c) => {
        const src = Array.isArray(c.source) ? c.source.join("") : c.source;
        if (c.cell_type === "markdown") return `// %% [markdown]\n${src.split("\n").map((l) => (l ? `// ${l}` : "//")).join("\n")}`;
        return `// %%\n${src}`;
      })
      .join("\n\n") + "\n"
  );
}

/** Drop outputs and execution counts (what gets committed). Returns true when something changed. */
export function clearOutputs(nb) {
  let changed = false;
  for (const c of nb.cells) {
    if (c.cell_type !== "code") continue;
    if ((c.outputs ?? []).length > 0 || c.execution_count != null) changed = true;
    c.outputs = [];
    c.execution_count = null;
  }
  return changed;
}

function main() {
  if (process.argv[2] === "--clear") {
    for (const file of process.argv.slice(3)) {
      const nb = JSON.parse(fs.readFileSync(file, "utf8"));
      if (clearOutputs(nb)) {
        fs.writeFileSync(file, JSON.stringify(nb, null, 1) + "\n");
        console.log(`cleared ${file}`);
      }
    }
    return;
  }
  const [input, output] = process.argv.slice(2);
  if (!input) {
    console.error("usage: percent-to-ipynb.mjs <file.ts|file.ipynb> [output]");
    process.exit(2);
  }
  if (input.endsWith(".ipynb")) {
    const out = output ?? input.replace(/\.ipynb$/, ".ts");
    fs.writeFileSync(out, notebookToPercent(JSON.parse(fs.readFileSync(input, "utf8"))));
    console.log(`wrote ${out}`);
  } else {
    const out = output ?? path.join("notebooks", path.basename(input).replace(/\.[cm]?[tj]s$/, "") + ".ipynb");
    const nb = percentToNotebook(fs.readFileSync(input, "utf8"), input);
    fs.writeFileSync(out, JSON.stringify(nb, null, 1) + "\n");
    console.log(`wrote ${out} (${nb.cells.length} cells)`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
