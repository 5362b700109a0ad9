/**
 * Builds the static app (app/ → app/dist/) with esbuild from the same lib modules the CLI uses.
 *   npm run app:build                     bundles results/model when it exists
 *   npm run app:build -- --model DIR      bundles that model (or ensemble) folder
 *   npm run app:build -- --no-model       the user picks a model folder in the page
 * The page is one script (app.js: lib + tfjs + plotly + moyo's .wasm inlined) and needs no server:
 * open app/dist/index.html from file://, or `npm run app` to serve it on 127.0.0.1.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { build, type Plugin } from "esbuild";

const root = path.resolve(__dirname, "..");
const { values } = parseArgs({
  options: {
    model: { type: "string" },
    "no-model": { type: "boolean", default: false },
    out: { type: "string", default: path.join(root, "app", "dist") },
    minify: { type: "boolean", default: true },
  },
});

/**
 * Node built-ins the lib imports for its file-reading entry points (readStructureFile, loadModel…),
 * which the page never calls: an empty module, so a stray call fails loudly rather than silently.
 */
const nodeBuiltinsStub: Plugin = {
  name: "node-builtins-stub",
  setup(b) {
    const filter = /^(node:)?(fs|path|crypto|os|url|util|worker_threads|child_process|zlib)$|^@tensorflow\/tfjs-node$|^danfojs$/;
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: "node-stub" }));
    b.onLoad({ filter: /.*/, namespace: "node-stub" }, (args) => ({
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${args.path} is not available in the browser`)}); };
module.exports = new Proxy({}, { get: (_, k) => (k === "__esModule" ? false : k === "default" ? module.exports : fail) });`,
      loader: "js",
    }));
  },
};

/** results/model inside the project, else the folder's own name (no machine paths in the page). */
function modelName(dir: string): string {
  const rel = path.relative(root, path.resolve(dir));
  return rel && !rel.startsWith("..") ? rel : path.basename(path.resolve(dir));
}

/** model-bundle.js: the model folder's files as base64, so the page works from file:// (no fetch). */
function writeModelBundle(outDir: string): string {
  const file = path.join(outDir, "model-bundle.js");
  const dir = values["no-model"] ? undefined : values.model ?? (fs.existsSync(path.join(root, "results", "model")) ? path.join(root, "results", "model") : undefined);
  if (!dir) {
    fs.writeFileSync(file, "// no model bundled: the page asks for a model folder\n");
    return "no model bundled";
  }
  const files: { path: string; base64: string }[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = path.join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(abs, r);
      else if (/^(model\.json|xanes-model\.json|energy-calibration\.json|.*\.bin)$/.test(e.name)) files.push({ path: r, base64: fs.readFileSync(abs).toString("base64") });
    }
  };
  walk(dir, path.basename(path.resolve(dir)));
  if (!files.some((f) => f.path.endsWith("xanes-model.json"))) throw new Error(`${dir}: no xanes-model.json (not a model folder)`);
  fs.writeFileSync(file, `window.XANES_BUNDLED_MODEL = ${JSON.stringify({ name: modelName(dir), files })};\n`);
  return `model ${dir} (${files.length} files)`;
}

async function main(): Promise<void> {
  const outDir = path.resolve(values.out!);
  fs.mkdirSync(outDir, { recursive: true });
  const t0 = Date.now();
  await build({
    entryPoints: [path.join(root, "app", "main.ts")],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    outfile: path.join(outDir, "app.js"),
    minify: values.minify,
    loader: { ".wasm": "binary" },
    plugins: [nodeBuiltinsStub],
    // tfjs checks process.env; the page has no process
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
  for (const f of ["index.html", "style.css"]) fs.copyFileSync(path.join(root, "app", f), path.join(outDir, f));
  const what = writeModelBundle(outDir);
  const size = fs.statSync(path.join(outDir, "app.js")).size;
  console.log(`app built in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${path.relative(root, outDir)}/index.html (app.js ${(size / 1e6).toFixed(1)} MB; ${what})`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
