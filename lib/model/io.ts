/**
 * Model folders: save/load of a trained XanesMlp with its spectral contract and featurizer, on any
 * backend (no tfjs-node file:// handler).
 *   model.json        tfjs layers topology + weights manifest (loadable by tf.loadLayersModel too)
 *   weights.bin       float32 weights
 *   xanes-model.json  format marker + version, the estimator state (MLP config, shape, scalers), the
 *                     spectral contract, the featurizer configuration with descriptor citations, and
 *                     caller metadata (dataset, training split…)
 *
 * Loading validates everything (issue 15): every array's shape, type and finiteness, positive
 * scales, a strictly increasing finite mesh, manifest paths inside the folder. Each error is an
 * InputError naming the file and the field. Version 1 folders (before the spectral contract) are
 * upgraded when the caller supplies what they never recorded (`legacy`), otherwise rejected with a
 * message saying what is missing; an unknown version is rejected.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { checkMlpConfig, DEFAULT_MLP_CONFIG, XanesMlp, type MlpConfig, type MlpShape } from "./mlp";
import { StandardScaler, type StandardScalerJSON } from "./scaler";
import { networkArtifacts, networkFromArtifacts } from "./estimator";
import { checkSpectralContract, type MeshKind, type SpectralContract } from "./spectral";
import { at, fail, finiteArray, integer, object, oneOf, string, type Where } from "./check";
import { InputError, errorMessage } from "../util/errors";
import { readJsonFile } from "../util/json";
import { NORMALISATIONS, type Normalisation } from "../spectra/mesh";

export const MODEL_FORMAT = "xanes-model";
export const MODEL_FORMAT_VERSION = 2;
/** Format name of version 1 folders (written before the spectral contract). */
const LEGACY_FORMAT = "xanes-mlp";

/** Free-form caller metadata stored with the model (dataset name, training split, history…). */
export type XanesModelMeta = Record<string, unknown>;

/** A descriptor as recorded in a model: its resolved options and the reference to cite. */
export interface DescriptorRecord {
  name: string;
  options: Record<string, unknown>;
  citation: string;
}

export interface XanesModelFile {
  format: typeof MODEL_FORMAT;
  version: typeof MODEL_FORMAT_VERSION;
  savedAt: string;
  /** tfjs backend the model was trained/saved on. */
  backend: string;
  tfjsVersion: string;
  estimator: { kind: "mlp"; config: MlpConfig; shape: MlpShape; inputScaler: StandardScalerJSON; outputScaler: StandardScalerJSON | null };
  /** Null only for a bare network saved without a predictor. */
  spectral: SpectralContract | null;
  /** Featurizer.toJSON(); null for a bare network. */
  featurizer: unknown;
  descriptors: DescriptorRecord[];
  meta: XanesModelMeta;
  /** Set when the file was upgraded from an older version on load. */
  upgradedFrom?: number;
  /**
   * SHA-256 of model.json, of each weight file and of this file's other fields (canonical JSON),
   * checked last on load: a change the field checks cannot see (a flipped digit, another activation
   * name, altered weight bytes) is still an error, never a silently different model. Absent in
   * upgraded version 1 files.
   */
  integrity?: Record<string, string>;
}

export interface SaveModelOptions {
  spectral?: SpectralContract | null;
  featurizer?: unknown;
  descriptors?: DescriptorRecord[];
  meta?: XanesModelMeta;
}

/** What a version 1 folder never recorded; the caller supplies it to upgrade one. */
export interface LegacyModelInfo {
  meshKind: MeshKind;
  edge: string;
  /** Default: the featurizer's absorber. */
  element?: string;
  /** Default: meta.normalisation when it names one of NORMALISATIONS. */
  normalisation?: Normalisation;
}

export interface LoadModelOptions {
  legacy?: LegacyModelInfo;
}

/** Writes model.json, weights.bin and xanes-model.json into `dir` (created if missing). */
export async function saveModel(dir: string, model: XanesMlp, opts: SaveModelOptions = {}): Promise<{ dir: string; files: string[] }> {
  fs.mkdirSync(dir, { recursive: true });
  const { topology, weightSpecs, weightData } = networkArtifacts(model.net);
  fs.writeFileSync(path.join(dir, "weights.bin"), weightData);
  const modelJson = { modelTopology: topology, format: "layers-model", generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`, convertedBy: null, weightsManifest: [{ paths: ["weights.bin"], weights: weightSpecs }] };
  const modelText = JSON.stringify(modelJson);
  fs.writeFileSync(path.join(dir, "model.json"), modelText);
  const file: XanesModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    savedAt: new Date().toISOString(),
    backend: tf.getBackend(),
    tfjsVersion: tf.version.tfjs,
    estimator: {
      kind: "mlp",
      config: model.config,
      shape: { ...model.shape },
      inputScaler: model.inputScaler.toJSON(),
      outputScaler: model.outputScaler ? model.outputScaler.toJSON() : null,
    },
    spectral: opts.spectral ?? null,
    featurizer: opts.featurizer ?? null,
    descriptors: opts.descriptors ?? [],
    meta: opts.meta ?? {},
  };
  const integrity = { "model.json": sha256(modelText), "weights.bin": sha256(weightData), "xanes-model.json": sha256(JSON.stringify(file)) };
  fs.writeFileSync(path.join(dir, "xanes-model.json"), JSON.stringify({ ...file, integrity }, null, 1));
  return { dir, files: ["model.json", "weights.bin", "xanes-model.json"].map((f) => path.join(dir, f)) };
}

const sha256 = (data: string | Uint8Array) => crypto.createHash("sha256").update(data).digest("hex");

function checkScaler(v: unknown, w: Where, columns: number): StandardScalerJSON {
  const o = object(v, w);
  const json: StandardScalerJSON = { mean: finiteArray(o.mean, at(w, "mean"), columns), scale: finiteArray(o.scale, at(w, "scale"), columns, true) };
  if (o.clipLow !== undefined || o.clipHigh !== undefined) {
    json.clipLow = finiteArray(o.clipLow, at(w, "clipLow"), columns);
    json.clipHigh = finiteArray(o.clipHigh, at(w, "clipHigh"), columns);
    json.clipLow.forEach((lo, j) => !(lo < json.clipHigh![j]) && fail(at(at(w, "clipLow"), j), `(${lo}) must be below clipHigh (${json.clipHigh![j]})`));
  }
  return json;
}

function checkConfig(v: unknown, w: Where): MlpConfig {
  const cfg = object(v, w) as unknown as MlpConfig;
  try {
    checkMlpConfig(cfg, "");
  } catch (e) {
    fail(w, errorMessage(e).replace(/^: /, ""));
  }
  return cfg;
}

/** The estimator section of a version 2 file, checked. */
function checkEstimator(v: unknown, w: Where): XanesModelFile["estimator"] {
  const o = object(v, w);
  oneOf(o.kind, ["mlp"] as const, at(w, "kind"));
  const config = checkConfig(o.config, at(w, "config"));
  const s = object(o.shape, at(w, "shape"));
  const shape = { nFeatures: integer(s.nFeatures, at(at(w, "shape"), "nFeatures"), 1), nOutputs: integer(s.nOutputs, at(at(w, "shape"), "nOutputs"), 1) };
  const inputScaler = checkScaler(o.inputScaler, at(w, "inputScaler"), shape.nFeatures);
  if ((inputScaler.clipLow !== undefined) !== (config.inputClip !== null)) fail(at(w, "inputScaler"), `clip bounds ${inputScaler.clipLow ? "present" : "absent"} but config.inputClip is ${config.inputClip}`);
  const outputScaler = o.outputScaler === null ? null : checkScaler(o.outputScaler, at(w, "outputScaler"), shape.nOutputs);
  if ((outputScaler !== null) !== (config.outputScaling === "standard")) fail(at(w, "outputScaler"), `is ${outputScaler ? "present" : "null"} but config.outputScaling is ${config.outputScaling}`);
  return { kind: "mlp", config, shape, inputScaler, outputScaler };
}

/** A version 1 file rewritten as version 2 with the caller's `legacy` facts; fails naming what is missing. */
function upgradeV1(o: Record<string, unknown>, w: Where, legacy: LegacyModelInfo | undefined): XanesModelFile {
  const mlp = object(o.mlp, at(w, "mlp"));
  const { nFeatures, nOutputs, ...rest } = mlp;
  // inputClip was absent before the option existed: those models were trained without clipping.
  const config = checkConfig({ ...rest, inputClip: rest.inputClip ?? null }, at(w, "mlp"));
  const estimator = checkEstimator({ kind: "mlp", config, shape: { nFeatures, nOutputs }, inputScaler: o.inputScaler, outputScaler: o.outputScaler }, w);
  const meta = o.meta === undefined ? {} : { ...object(o.meta, at(w, "meta")) };
  const { energyMesh, featurizer, ...otherMeta } = meta;
  let spectral: SpectralContract | null = null;
  if (energyMesh !== undefined) {
    const e = finiteArray(energyMesh, at(w, "meta.energyMesh"), estimator.shape.nOutputs);
    const step = e[1] - e[0];
    e.forEach((x, i) => {
      if (i > 0 && !(x > e[i - 1])) fail(at(at(w, "meta.energyMesh"), i), `(${x}) is not above the previous energy: the mesh must be strictly increasing`);
      if (Math.abs(x - (e[0] + i * step)) > 1e-6 * Math.max(1, Math.abs(x))) fail(at(at(w, "meta.energyMesh"), i), "breaks the equal spacing of the mesh");
    });
    const absorber = (featurizer as { absorber?: unknown } | undefined)?.absorber;
    const normalisation = legacy?.normalisation ?? (NORMALISATIONS.includes(meta.normalisation as Normalisation) ? (meta.normalisation as Normalisation) : undefined);
    const missing = [
      !legacy?.meshKind && "the mesh kind (absolute or edge-relative)",
      !legacy?.edge && "the absorption edge",
      !(legacy?.element ?? absorber) && "the absorbing element",
      !normalisation && "the normalisation",
    ].filter(Boolean);
    if (missing.length) {
      throw new InputError(`${w.file}: format version 1 does not record ${missing.join(", ")}; load it with { legacy: { meshKind, edge, element, normalisation } } to upgrade it to version ${MODEL_FORMAT_VERSION}`);
    }
    spectral = checkSpectralContract(
      { mesh: { start: e[0], step, count: e.length, kind: legacy!.meshKind, element: legacy!.element ?? absorber, edge: legacy!.edge }, normalisation, alignment: null, broadening: null },
      w,
    );
  }
  return {
    format: MODEL_FORMAT, version: MODEL_FORMAT_VERSION, savedAt: String(o.savedAt), backend: String(o.backend), tfjsVersion: String(o.tfjsVersion),
    estimator, spectral, featurizer: featurizer ?? null, descriptors: [], meta: otherMeta, upgradedFrom: 1,
  };
}

/** xanes-model.json of `dir`, checked and upgraded to the current version. */
export function readModelFile(dir: string, opts: LoadModelOptions = {}): XanesModelFile {
  const name = path.join(dir, "xanes-model.json");
  const w: Where = { file: name, field: "" };
  const o = object(readJsonFile(name), w);
  if (o.format === LEGACY_FORMAT && o.version === 1) return upgradeV1(o, w, opts.legacy);
  if (o.format !== MODEL_FORMAT) fail(at(w, "format"), `is ${JSON.stringify(o.format)}, expected "${MODEL_FORMAT}"`);
  if (o.version !== MODEL_FORMAT_VERSION) fail(at(w, "version"), `is ${JSON.stringify(o.version)}; this lib reads version ${MODEL_FORMAT_VERSION} (and upgrades version 1 "${LEGACY_FORMAT}")`);
  const descriptors = o.descriptors === undefined ? [] : (o.descriptors as unknown[]);
  if (!Array.isArray(descriptors)) fail(at(w, "descriptors"), "must be an array");
  descriptors.forEach((d, i) => {
    const r = object(d, at(at(w, "descriptors"), i));
    string(r.name, at(at(at(w, "descriptors"), i), "name"));
    string(r.citation, at(at(at(w, "descriptors"), i), "citation"));
  });
  const integrity = object(o.integrity, at(w, "integrity"));
  for (const k of ["model.json", "xanes-model.json"]) string(integrity[k], at(at(w, "integrity"), k));
  const file: XanesModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    savedAt: String(o.savedAt),
    backend: String(o.backend),
    tfjsVersion: String(o.tfjsVersion),
    estimator: checkEstimator(o.estimator, at(w, "estimator")),
    spectral: o.spectral === null || o.spectral === undefined ? null : checkSpectralContract(o.spectral, at(w, "spectral")),
    featurizer: o.featurizer ?? null,
    descriptors: descriptors as DescriptorRecord[],
    meta: o.meta === undefined ? {} : object(o.meta, at(w, "meta")),
    integrity: integrity as Record<string, string>,
  };
  if (file.spectral && file.spectral.mesh.count !== file.estimator.shape.nOutputs) {
    fail(at(w, "spectral.mesh.count"), `is ${file.spectral.mesh.count}, the network has ${file.estimator.shape.nOutputs} outputs (estimator.shape.nOutputs)`);
  }
  // Checked after the fields, so a damaged field is reported by name rather than as a hash mismatch.
  const { integrity: _, ...content } = o;
  if (sha256(JSON.stringify(content)) !== integrity["xanes-model.json"]) fail(at(w, "integrity"), "does not match the file's content (edited or damaged after saving)");
  return file;
}

/** model.json + weight files: manifest paths inside `dir`, byte counts matching the specs, finite weights. */
function readNetworkFiles(dir: string, integrity: Record<string, string> | undefined): { topology: unknown; specs: tf.io.WeightsManifestEntry[]; bytes: Uint8Array } {
  const file = path.join(dir, "model.json");
  const w: Where = { file, field: "" };
  const o = object(readJsonFile(file), w);
  const hashes: { file: string; expected: string | undefined; actual: string }[] = [];
  if (integrity) hashes.push({ file, expected: integrity["model.json"], actual: sha256(fs.readFileSync(file)) });
  const topology = object(o.modelTopology, at(w, "modelTopology"));
  const manifest = o.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length === 0) fail(at(w, "weightsManifest"), "must be a non-empty array");
  const root = path.resolve(dir);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  const starts: { file: string; start: number }[] = [];
  manifest.forEach((g, gi) => {
    const wg = at(at(w, "weightsManifest"), gi);
    const group = object(g, wg);
    if (!Array.isArray(group.paths) || group.paths.length === 0) fail(at(wg, "paths"), "must be a non-empty array of file names");
    group.paths.forEach((p, pi) => {
      const wp = at(at(wg, "paths"), pi);
      const rel = string(p, wp);
      const abs = path.resolve(root, rel);
      if (!abs.startsWith(root + path.sep)) fail(wp, `(${JSON.stringify(rel)}) points outside the model folder`);
      try {
        buffers.push(fs.readFileSync(abs));
      } catch (e) {
        fail(wp, `(${rel}) cannot be read: ${errorMessage(e)}`);
      }
      starts.push({ file: abs, start: buffers.slice(0, -1).reduce((n, b) => n + b.length, 0) });
      if (integrity) hashes.push({ file: abs, expected: integrity[rel], actual: sha256(buffers[buffers.length - 1]) });
    });
    if (!Array.isArray(group.weights)) fail(at(wg, "weights"), "must be an array of weight specs");
    group.weights.forEach((s, si) => {
      const ws = at(at(wg, "weights"), si);
      const spec = object(s, ws);
      string(spec.name, at(ws, "name"));
      oneOf(spec.dtype, ["float32"] as const, at(ws, "dtype"));
      if (!Array.isArray(spec.shape)) fail(at(ws, "shape"), "must be an array of sizes");
      spec.shape.forEach((d, k) => integer(d, at(at(ws, "shape"), k), 1));
      specs.push(spec as unknown as tf.io.WeightsManifestEntry);
    });
  });
  const bytes = Buffer.concat(buffers);
  const expected = 4 * specs.reduce((s, sp) => s + sp.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes.length !== expected) {
    throw new InputError(`${starts.map((x) => x.file).join(", ")}: hold ${bytes.length} bytes, ${file} weightsManifest lists ${expected} bytes of float32 weights (truncated or wrong file?)`);
  }
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let offset = 0;
  for (const sp of specs) {
    const n = sp.shape.reduce((a, b) => a * b, 1);
    for (let i = offset; i < offset + n; i++) {
      if (!Number.isFinite(values[i])) {
        const src = starts.filter((x) => x.start <= 4 * i).pop()!.file;
        throw new InputError(`${src}: weight "${sp.name}" entry ${i - offset} is ${values[i]} (weights must be finite)`);
      }
    }
    offset += n;
  }
  for (const h of hashes) {
    if (h.expected !== h.actual) throw new InputError(`${h.file}: content does not match xanes-model.json integrity (edited or damaged after saving)`);
  }
  return { topology, specs, bytes: new Uint8Array(values.buffer) };
}

/** Reads a model folder (saveModel, or a version 1 folder with `legacy`) into the current tfjs backend. */
export async function loadModel(dir: string, opts: LoadModelOptions = {}): Promise<{ model: XanesMlp; file: XanesModelFile }> {
  const file = readModelFile(dir, opts);
  const { topology, specs, bytes } = readNetworkFiles(dir, file.integrity);
  let net: tf.LayersModel;
  try {
    net = await networkFromArtifacts(topology, specs, bytes);
  } catch (e) {
    throw new InputError(`${path.join(dir, "model.json")}: modelTopology/weightsManifest do not form a network (${errorMessage(e)})`);
  }
  const { config, shape, inputScaler, outputScaler } = file.estimator;
  const inWidth = net.inputs[0]?.shape[1];
  const outWidth = net.outputs[0]?.shape[1];
  if (inWidth !== shape.nFeatures || outWidth !== shape.nOutputs) {
    net.dispose();
    throw new InputError(`${path.join(dir, "model.json")}: modelTopology maps ${inWidth} → ${outWidth}, xanes-model.json estimator.shape says ${shape.nFeatures} → ${shape.nOutputs}`);
  }
  const model = new XanesMlp(net, { ...DEFAULT_MLP_CONFIG, ...config }, shape, StandardScaler.fromJSON(inputScaler), outputScaler ? StandardScaler.fromJSON(outputScaler) : null);
  return { model, file };
}
