#!/usr/bin/env node
// Installs the tslab TypeScript kernelspec INTO THE PROJECT (not machine-wide):
//   <root>/.jupyter/share/jupyter/kernels/tslab/kernel.json
// Jupyter finds it when started with JUPYTER_PATH=<root>/.jupyter/share/jupyter
// (scripts/lab.sh and scripts/run-notebooks.ts set that).
//
// We write kernel.json ourselves instead of calling `tslab install`: that command needs a Python
// with jupyter_client + IPython importable as `python3`, which is not true for a pipx JupyterLab.
// The content is what `tslab install --prefix <p> --binary <b>` writes, except that argv starts with
// the absolute path of the node that ran this script, so the kernel starts even when Jupyter is
// launched from a shell without this node on PATH (nvm, desktop launchers).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tslabBin = path.join(root, "node_modules", "tslab", "bin", "tslab");
if (!fs.existsSync(tslabBin)) {
  console.error(`kernel:install: ${tslabBin} not found; run \`npm ci\` in ${root} first.`);
  process.exit(1);
}
const jupyterPath = path.join(root, ".jupyter", "share", "jupyter");
const kernelDir = path.join(jupyterPath, "kernels", "tslab");
fs.mkdirSync(kernelDir, { recursive: true });
const spec = {
  argv: [process.execPath, tslabBin, "kernel", "--config-path", "{connection_file}"],
  display_name: "TypeScript (xanes)",
  language: "typescript",
  // Notebooks find lib/ data through lib/config.ts; pin the root so a notebook opened from a copy
  // elsewhere still resolves results/ and data/ of this project.
  env: { XANES_ROOT: root },
};
fs.writeFileSync(path.join(kernelDir, "kernel.json"), JSON.stringify(spec, null, 2) + "\n");
console.log(`Installed kernelspec "tslab" -> ${path.join(kernelDir, "kernel.json")}`);
console.log(`  node:  ${process.execPath} (${process.version})`);
console.log(`  tslab: ${tslabBin}`);
console.log(`Start Jupyter with JUPYTER_PATH=${jupyterPath} (npm run lab does this).`);
