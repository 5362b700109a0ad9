/**
 * Build a dataset on a common energy mesh and save it under data/datasets/<name>/.
 *
 *   npm run build-dataset -- --source feff                       # Cu K FEFF set (default input)
 *   npm run build-dataset -- --source columns --preset o-k-relative
 *   npm run build-dataset -- --source xas-file --input dump.jsonl.gz --preset o-k
 *   MP_API_KEY=... npm run build-dataset -- --source mp --preset o-k   # O K XANES of *-O, *-*-O, *-*-*-O
 *
 * Options: --input PATH  --name NAME  --out DIR  --preset cu-k|cu-k-relative|o-k|o-k-relative
 *   --start E --stop E --step dE [--relative]  --norm max|area|edge-step|none  --clamp
 *   --elements Cu,O --edges K --types XANES --min-elements 2 --max-elements 4
 *   --seed 42 --train 0.8 --val 0 --test 0.2  --max-materials N
 *   --mp-base-url URL --mp-page-size N --mp-max-docs N --mp-chemsys "*-O,*-*-O" --mp-element O --mp-edge K --mp-type XANES
 *   --timeout S (overall deadline of the API collection, seconds; default 4 h)
 *   --allow-incomplete (build from a collection that could not finish; it is labelled so; default: exit 1)
 * The API key is read from MP_API_KEY only (never from the command line, where `ps` would show it).
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { sharedDataDir, workDir } from "../lib/config";
import { DEFAULT_MESHES, EnergyMesh, Normalisation, meshFromWindow } from "../lib/spectra/mesh";
import { collectFeffFolders } from "../lib/data/feff";
import { collectColumnSets } from "../lib/data/columns";
import { collectXasDocumentFile, collectXasDocuments } from "../lib/data/xas-docs";
import { OXIDE_CHEMSYS_PATTERNS, collectMpXas } from "../lib/data/mp-api";
import { buildDataset, formatQualityReport } from "../lib/data/dataset";
import { loadDataset, saveDataset } from "../lib/data/store";
import type { SpectrumSource } from "../lib/data/sources";
import { Progress, progress } from "../lib/util/progress";

const list = (v: string | undefined) => (v ? v.split(",").map((s) => s.trim()).filter(Boolean) : undefined);

type Args = Record<string, string | boolean | undefined>;

/** A numeric option; a value that is not a number is an error (Number("") or NaN would slip through). */
function num(args: Args, key: string): number | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  const x = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !Number.isFinite(x)) throw new Error(`--${key}: "${String(v)}" is not a number`);
  return x;
}

const str = (args: Args, key: string) => args[key] as string | undefined;

/** Adapts the lib's progress display to an (done, total) callback. */
function progressLine(label: string): (done: number, total: number) => void {
  let bar: Progress | undefined;
  return (done, total) => {
    bar ??= progress(label, total, { stream: process.stderr });
    bar.update(done);
    if (done >= total) bar.done();
  };
}

const STRING_OPTIONS = [
  "source", "input", "name", "out", "preset", "start", "stop", "step", "norm", "elements", "edges", "types",
  "min-elements", "max-elements", "seed", "train", "val", "test", "max-materials",
  "mp-base-url", "mp-page-size", "mp-max-docs", "mp-chemsys", "mp-element", "mp-edge", "mp-type", "timeout",
] as const;
const BOOLEAN_OPTIONS = ["relative", "clamp", "allow-incomplete"] as const;

async function main(): Promise<void> {
  // strict: a misspelt option is an error, not a silent default.
  const { values: args } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    allowPositionals: false,
    options: Object.fromEntries([
      ...STRING_OPTIONS.map((k) => [k, { type: "string" as const }]),
      ...BOOLEAN_OPTIONS.map((k) => [k, { type: "boolean" as const }]),
    ]),
  }) as { values: Args };
  const timeoutS = num(args, "timeout");
  if (timeoutS !== undefined && !(timeoutS > 0)) throw new Error(`--timeout: must be a positive number of seconds, got ${timeoutS}`);
  const kind = str(args, "source") ?? "feff";
  const presetDefault = kind === "feff" ? "cu-k" : kind === "columns" ? "o-k-relative" : "o-k";
  const preset = (str(args, "preset") ?? presetDefault).toLowerCase();
  const presets: Record<string, EnergyMesh> = {
    "cu-k": DEFAULT_MESHES["Cu-K"],
    "cu-k-relative": DEFAULT_MESHES["Cu-K-relative"],
    "o-k": DEFAULT_MESHES["O-K"],
    "o-k-relative": DEFAULT_MESHES["O-K-relative"],
  };
  let mesh = presets[preset];
  if (!mesh) throw new Error(`unknown --preset ${preset} (${Object.keys(presets).join(", ")})`);
  if (args.start !== undefined || args.stop !== undefined || args.step !== undefined) {
    mesh = meshFromWindow(num(args, "start") ?? mesh.start, num(args, "stop") ?? mesh.start + (mesh.points - 1) * mesh.step, num(args, "step") ?? mesh.step, args.relative === true || mesh.relative);
  }
  const maxMaterials = num(args, "max-materials");
  let source: SpectrumSource;
  let input = str(args, "input");
  let label: string;
  if (kind === "feff") {
    input ??= path.join(sharedDataDir(), "feff-cu-k-oxides");
    source = collectFeffFolders(input, { maxMaterials, onProgress: progressLine("materials") });
    label = `FEFF folders ${input}`;
  } else if (kind === "columns") {
    input ??= path.join(sharedDataDir(), "li3feo3.5-o-k");
    source = collectColumnSets(input);
    label = `column files ${input}`;
  } else if (kind === "xas-file") {
    if (!input) throw new Error("--source xas-file needs --input FILE (JSON array or JSON lines, optionally .gz)");
    source = collectXasDocumentFile(input);
    label = `XAS document file ${input}`;
  } else if (kind === "mp") {
    const res = await collectMpXas(
      {
        absorbingElement: str(args, "mp-element") ?? "O",
        edge: str(args, "mp-edge") ?? "K",
        spectrumType: str(args, "mp-type") ?? "XANES",
        chemsys: list(str(args, "mp-chemsys")) ?? [...OXIDE_CHEMSYS_PATTERNS],
      },
      {
        baseUrl: str(args, "mp-base-url"),
        pageSize: num(args, "mp-page-size"),
        maxDocs: num(args, "mp-max-docs"),
        deadlineMs: timeoutS !== undefined ? timeoutS * 1000 : undefined,
        allowIncomplete: args["allow-incomplete"] === true,
        onProgress: progressLine("pages"),
        log: (m) => process.stderr.write(`${m}\n`),
      },
    );
    console.log(`mp-api: ${res.documents.length} documents, ${res.status} (${res.pagesFetched} pages fetched, ${res.pagesFromCache} from cache, ${res.retries} retries, ${res.duplicatesSkipped} duplicates skipped, ${res.rejected.length} invalid documents skipped)`);
    for (const m of res.missing) console.log(`mp-api: MISSING ${m}`);
    // Invalid documents enter the dataset's quality report as drops, each with its reason.
    source = [...res.rejected.map((drop) => ({ drop })), ...collectXasDocuments(res.documents, "mp-api")];
    label = `Materials Project API ${res.cacheDirs.join(", ")} (${res.status})`;
  } else throw new Error(`unknown --source ${kind} (feff, columns, xas-file, mp)`);

  const name = str(args, "name") ?? `${kind}-${preset}${maxMaterials ? `-${maxMaterials}` : ""}`;
  const t0 = performance.now();
  const ds = await buildDataset({
    name,
    sources: source,
    sourceLabel: label,
    mesh,
    normalisation: (str(args, "norm") ?? "max") as Normalisation,
    outOfWindow: args.clamp === true ? "clamp" : "drop",
    filters: {
      elements: list(str(args, "elements")),
      edges: list(str(args, "edges")),
      spectrumTypes: list(str(args, "types")),
      minElements: num(args, "min-elements"),
      maxElements: num(args, "max-elements"),
    },
    splitSeed: num(args, "seed") ?? 42,
    splitFractions: {
      train: num(args, "train") ?? 0.8,
      val: num(args, "val") ?? 0,
      test: num(args, "test") ?? 0.2,
    },
  });
  const t1 = performance.now();
  const out = str(args, "out") ?? path.join(workDir(), "datasets", name);
  saveDataset(ds, out);
  const t2 = performance.now();
  console.log(formatQualityReport(ds.config.quality));
  console.log(`mesh: ${mesh.relative ? "edge-relative" : "absolute"} ${mesh.start}…${(mesh.start + (mesh.points - 1) * mesh.step).toFixed(2)} eV, ${mesh.points} points, normalisation ${ds.config.normalisation}`);
  console.log(`splits (seed ${ds.splits.seed}): random ${ds.splits.random.train.length}/${ds.splits.random.val.length}/${ds.splits.random.test.length}, grouped ${ds.splits.grouped.train.length}/${ds.splits.grouped.val.length}/${ds.splits.grouped.test.length}`);
  const back = loadDataset(out);
  const t3 = performance.now();
  const bytes = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const identical = bytes(back.spectra).equals(bytes(ds.spectra)) && bytes(back.energy).equals(bytes(ds.energy)) && JSON.stringify(back.meta) === JSON.stringify(ds.meta);
  console.log(`loaded back in ${((t3 - t2) / 1000).toFixed(2)} s; spectra, energy and meta bit-identical: ${identical}`);
  console.log(`built ${ds.meta.length} spectra × ${mesh.points} points from ${ds.structures.size} materials in ${((t1 - t0) / 1000).toFixed(2)} s; saved to ${out} in ${((t2 - t1) / 1000).toFixed(2)} s`);
}

main().catch((err) => {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  process.exit(1);
});
