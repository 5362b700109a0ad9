/**
 * Browser entry of model loading: a model folder (or an ensemble folder of them) given as files
 * (a directory picker's File objects, or bytes bundled into a page) instead of a path. The checks are
 * the Node loader's (checkModelFileJson, checkNetworkFiles, predictorFromModel); only reading and
 * hashing differ (SubtleCrypto instead of node:crypto).
 */
import { checkModelFileJson, checkNetworkFiles, modelFromChecked, type HashCheck, type LoadModelOptions, type ModelFolderReader } from "./io";
import { predictorFromModel, type XanesPredictor } from "./predictor";
import { InputError } from "../util/errors";
import { parseJsonFileText } from "../util/json";

/** One file of a picked folder: its path relative to the picked folder ("results/model/member-0/model.json"). */
export interface FolderFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

const hex = (buf: ArrayBuffer) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

/** Runs integrity checks with SubtleCrypto (asynchronous, available on file:// and 127.0.0.1 pages). */
export async function verifyHashesAsync(checks: readonly HashCheck[]): Promise<void> {
  for (const c of checks) {
    const data = typeof c.data === "string" ? new TextEncoder().encode(c.data) : c.data;
    const digest = hex(await crypto.subtle.digest("SHA-256", data as BufferSource));
    if (digest !== c.expected) c.mismatch();
  }
}

/** Path normalised to "a/b/c" (no ".", no empty parts); undefined when ".." leaves the root. */
function normalise(p: string): string | undefined {
  const out: string[] = [];
  for (const part of p.replace(/\\/g, "/").split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out.join("/");
}

function folderReader(files: ReadonlyMap<string, Uint8Array>, dir: string): ModelFolderReader {
  const prefix = dir ? dir + "/" : "";
  return {
    name: (rel) => prefix + rel,
    read: (rel) => {
      const r = normalise(rel);
      if (r === undefined || r === "") return undefined;
      const bytes = files.get(prefix + r);
      if (!bytes) throw new Error("no such file among the picked files");
      return bytes;
    },
  };
}

/** Loads one model folder `dir` ("" = the root) from `files` (keys: normalised paths). */
async function loadFolder(files: ReadonlyMap<string, Uint8Array>, dir: string, options: LoadModelOptions): Promise<XanesPredictor> {
  const reader = folderReader(files, dir);
  const descName = reader.name("xanes-model.json");
  const { file, checks } = checkModelFileJson(parseJsonFileText(new TextDecoder().decode(files.get(descName)!), descName), descName, options);
  await verifyHashesAsync(checks);
  const net = checkNetworkFiles(reader, file.integrity);
  await verifyHashesAsync(net.checks);
  const { model } = await modelFromChecked(file, net, reader.name("model.json"));
  return predictorFromModel(model, file, descName);
}

/**
 * The predictors of picked files, as loadEnsemble reads a folder: the folder holding
 * xanes-model.json nearest the root is one model; otherwise every sub-folder holding one is a member
 * (in name order). A directory picker's paths start with the picked folder's name; files picked
 * one by one have bare names (the root).
 */
export async function loadEnsembleFromFiles(list: readonly FolderFile[], options: LoadModelOptions = {}): Promise<XanesPredictor[]> {
  const files = new Map<string, Uint8Array>();
  for (const f of list) {
    const p = normalise(f.path);
    if (p) files.set(p, f.bytes);
  }
  const dirs = [...files.keys()].filter((p) => p === "xanes-model.json" || p.endsWith("/xanes-model.json")).map((p) => p.slice(0, -"xanes-model.json".length).replace(/\/$/, ""));
  if (dirs.length === 0) throw new InputError(`${list.length ? list[0].path.split("/")[0] : "picked files"}: no xanes-model.json among the ${list.length} picked files (pick a folder saved by XanesPredictor.save, e.g. results/model)`);
  const depth = (d: string) => (d === "" ? 0 : d.split("/").length);
  const top = Math.min(...dirs.map(depth));
  // The shallowest folder(s) holding a model: one is a single model, several are ensemble members.
  const chosen = dirs.filter((d) => depth(d) === top).sort();
  const out: XanesPredictor[] = [];
  try {
    for (const d of chosen) out.push(await loadFolder(files, d, options));
  } catch (e) {
    out.forEach((p) => p.dispose());
    throw e;
  }
  return out;
}
