// The dependency choices environment.md explains: danfojs (not danfojs-node) works under Node with
// our tfjs, and the tree holds exactly one @tensorflow/tfjs-core (two copies would register two sets
// of backends/kernels and tensors from one would not work in the other).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");

function findPackages(dir: string, name: string, found: string[] = []): string[] {
  if (!fs.existsSync(dir)) return found;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === ".bin") continue;
    const full = path.join(dir, entry.name);
    if (entry.name.startsWith("@")) {
      for (const sub of fs.readdirSync(full, { withFileTypes: true })) {
        if (!sub.isDirectory()) continue;
        const pkgDir = path.join(full, sub.name);
        if (`${entry.name}/${sub.name}` === name) found.push(pkgDir);
        findPackages(path.join(pkgDir, "node_modules"), name, found);
      }
    } else {
      if (entry.name === name) found.push(full);
      findPackages(path.join(full, "node_modules"), name, found);
    }
  }
  return found;
}

test("exactly one @tensorflow/tfjs-core in node_modules, the version @tensorflow/tfjs pins", () => {
  const copies = findPackages(path.join(ROOT, "node_modules"), "@tensorflow/tfjs-core");
  assert.equal(copies.length, 1, `copies: ${copies.join(", ")}`);
  const core = JSON.parse(fs.readFileSync(path.join(copies[0], "package.json"), "utf8")).version;
  const tfjs = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules/@tensorflow/tfjs/package.json"), "utf8")).version;
  assert.equal(core, tfjs);
});

test("danfojs imports under Node and builds a DataFrame on the shared tfjs", () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const dfd = require("danfojs");
  const df = new dfd.DataFrame({ descriptor: ["RDF", "OFM", "CM"], mae: [0.031, 0.042, 0.047] });
  assert.deepEqual(df.shape, [3, 2]);
  assert.deepEqual(df.columns, ["descriptor", "mae"]);
  const sorted = df.sortValues("mae", { ascending: false });
  assert.deepEqual(sorted["descriptor"].values, ["CM", "OFM", "RDF"]);
  assert.ok(Math.abs(df["mae"].mean() - 0.04) < 1e-12);
  // danfojs resolves the same tfjs-core as the model code.
  const fromDanfo = require.resolve("@tensorflow/tfjs-core", { paths: [path.dirname(require.resolve("danfojs"))] });
  assert.equal(fs.realpathSync(fromDanfo), fs.realpathSync(require.resolve("@tensorflow/tfjs-core")));
});
