/**
 * Builds the app (scripts/app-build.ts, a few seconds, so the bundled model is the current
 * results/model) and serves it on 127.0.0.1 only. Options: --port N (default 8140), --dir DIR (serve
 * an existing build as is), --model DIR / --no-model (passed to the build).
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";

const root = path.resolve(__dirname, "..");
const { values } = parseArgs({ options: { port: { type: "string", default: "8140" }, dir: { type: "string" }, model: { type: "string" }, "no-model": { type: "boolean", default: false } } });
const dir = path.resolve(values.dir ?? path.join(root, "app", "dist"));
if (!values.dir) {
  const opts = values.model ? ["--model", values.model] : values["no-model"] ? ["--no-model"] : [];
  execFileSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "app-build.ts"), ...opts], { stdio: "inherit", cwd: root });
}
const types: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css", ".png": "image/png", ".wasm": "application/wasm" };

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const rel = decodeURIComponent(url.pathname === "/" ? "/index.html" : url.pathname);
  const file = path.resolve(dir, "." + rel);
  if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    return;
  }
  res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" });
  fs.createReadStream(file).pipe(res);
});
server.listen(Number(values.port), "127.0.0.1", () => {
  const port = (server.address() as { port: number }).port;
  console.log(`XANES app: http://127.0.0.1:${port}/  (serving ${path.relative(root, dir) || dir}; Ctrl-C to stop)`);
});
