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
 *
 * A model with outputScaling "pca" also stores its basis (estimator.outputPca: mean, orthonormal
 * components, explained-variance ratios); other models' files are as before. Configs saved before
 * lrSchedule, weightDecay and pcaComponents existed load with the values they were trained with
 * (withConfigDefaults). Older readers reject a "pca" model at its outputScaling, never misread it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { checkMlpConfig, DEFAULT_MLP_CONFIG, withConfigDefaults, XanesMlp, type MlpConfig, type MlpShape } from "./mlp";
import { PcaBasis, type PcaBasisJSON } from "./pca";
import { StandardScaler, type StandardScalerJSON } from "./scaler";
import { networkArtifacts, networkFromArtifacts } from "./estimator";
import { checkSpectralContract, type MeshKind, type SpectralAlignment, type SpectralContract } from "./spectral";
import { at, fail, finiteArray, integer, object, oneOf, string, type Where } from "./check";
import { InputError, errorMessage } from "../util/errors";
import { parseJsonFileText, readJsonFile } from "../util/json";
import { sha256Hex } from "../util/fs";
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
  estimator: {
    kind: "mlp"; config: MlpConfig; shape: MlpShape; inputScaler: StandardScalerJSON; outputScaler: StandardScalerJSON | null;
    /** The output basis of an outputScaling "pca" model (absent otherwise). */
    outputPca?: PcaBasisJSON;
  };
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
      ...(model.outputPca ? { outputPca: model.outputPca.toJSON() } : {}),
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

const sha256 = sha256Hex;

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
  const cfg = withConfigDefaults(object(v, w)) as unknown as MlpConfig;
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
  if ((outputScaler !== null) !== (config.outputScaling !== "none")) fail(at(w, "outputScaler"), `is ${outputScaler ? "present" : "null"} but config.outputScaling is ${config.outputScaling}`);
  const pca = o.outputPca === undefined || o.outputPca === null ? undefined : checkPca(o.outputPca, at(w, "outputPca"), shape.nOutputs, config);
  if ((pca !== undefined) !== (config.outputScaling === "pca")) fail(at(w, "outputPca"), `is ${pca ? "present" : "absent"} but config.outputScaling is ${config.outputScaling}`);
  return { kind: "mlp", config, shape, inputScaler, outputScaler, ...(pca ? { outputPca: pca } : {}) };
}

/** Largest |uᵢ·uⱼ − δᵢⱼ| accepted between stored components (float64 values written as JSON: ~1e-15). */
const PCA_ORTHONORMAL_TOL = 1e-6;

/** An output PCA basis: finite arrays of the right lengths, orthonormal components, ratios in [0, 1], k as configured. */
function checkPca(v: unknown, w: Where, columns: number, config: MlpConfig): PcaBasisJSON {
  const o = object(v, w);
  const mean = finiteArray(o.mean, at(w, "mean"), columns);
  if (!Array.isArray(o.components) || o.components.length === 0 || o.components.length > columns) fail(at(w, "components"), `must be an array of 1..${columns} components`);
  const components = o.components.map((c, i) => finiteArray(c, at(at(w, "components"), i), columns));
  const k = components.length;
  const ratio = finiteArray(o.explainedVarianceRatio, at(w, "explainedVarianceRatio"), k);
  ratio.forEach((r, i) => !(r >= 0 && r <= 1) && fail(at(at(w, "explainedVarianceRatio"), i), `(${r}) must be in [0, 1]`));
  const spec = config.pcaComponents!;
  if (spec >= 1 && k !== Math.min(spec, columns)) fail(at(w, "components"), `holds ${k} components, config.pcaComponents is ${spec}`);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let q = 0; q < columns; q++) dot += components[i][q] * components[j][q];
      if (Math.abs(dot - (i === j ? 1 : 0)) > PCA_ORTHONORMAL_TOL) fail(at(at(w, "components"), i), `is not orthonormal to component ${j} (dot product ${dot})`);
    }
  }
  return { mean, components, explainedVarianceRatio: ratio };
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

/**
 * A SHA-256 comparison left to the caller: the checks below are pure (no file system, no hashing),
 * so Node (node:crypto, synchronous) and the browser (SubtleCrypto, asynchronous) run the same
 * validation and each hashes with what it has. Run them in order after the field checks.
 */
export interface HashCheck {
  readonly data: string | Uint8Array;
  readonly expected: string | undefined;
  /** Throws the InputError for a mismatch. */
  readonly mismatch: () => never;
}

/** Run hash checks with a synchronous hash (Node). */
export function verifyHashes(checks: readonly HashCheck[], hash: (data: string | Uint8Array) => string = sha256): void {
  for (const c of checks) if (hash(c.data) !== c.expected) c.mismatch();
}

/** xanes-model.json of `dir`, checked and upgraded to the current version. */
export function readModelFile(dir: string, opts: LoadModelOptions = {}): XanesModelFile {
  const name = path.join(dir, "xanes-model.json");
  const { file, checks } = checkModelFileJson(readJsonFile(name), name, opts);
  verifyHashes(checks);
  return file;
}

/**
 * The parsed content of a xanes-model.json (named `name` in errors), checked and upgraded; the
 * integrity comparison is returned in `checks` (see HashCheck), not run.
 */
export function checkModelFileJson(json: unknown, name: string, opts: LoadModelOptions = {}): { file: XanesModelFile; checks: HashCheck[] } {
  const w: Where = { file: name, field: "" };
  const o = object(json, w);
  if (o.format === LEGACY_FORMAT && o.version === 1) return { file: upgradeV1(o, w, opts.legacy), checks: [] };
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
  const checks: HashCheck[] = [
    { data: JSON.stringify(content), expected: integrity["xanes-model.json"] as string, mismatch: () => fail(at(w, "integrity"), "does not match the file's content (edited or damaged after saving)") },
  ];
  return { file, checks };
}

/** The files of a model folder as bytes: how Node (fs) and the browser (File objects) hand them to the checks. */
export interface ModelFolderReader {
  /** Display name of a file of the folder (a path in Node, "folder/file" in the browser). */
  name(rel: string): string;
  /** Bytes of a file given by its path relative to the folder; undefined when the path leaves the folder. Throws when unreadable. */
  read(rel: string): Uint8Array | undefined;
}

/** A folder on disk (Node). */
function diskFolder(dir: string): ModelFolderReader {
  const root = path.resolve(dir);
  return {
    name: (rel) => path.join(dir, rel),
    read: (rel) => {
      const abs = path.resolve(root, rel);
      if (!abs.startsWith(root + path.sep)) return undefined;
      // A link inside the folder may point outside it: the resolved paths must nest too.
      const real = fs.realpathSync(abs);
      if (!real.startsWith(fs.realpathSync(root) + path.sep)) return undefined;
      return fs.readFileSync(real);
    },
  };
}

const utf8 = new TextDecoder();

/**
 * model.json + weight files: manifest paths inside the folder, byte counts matching the specs, finite
 * weights. Pure over the reader; the integrity comparisons are returned in `checks`, not run.
 */
export function checkNetworkFiles(folder: ModelFolderReader, integrity: Record<string, string> | undefined): { topology: unknown; specs: tf.io.WeightsManifestEntry[]; bytes: Uint8Array; checks: HashCheck[] } {
  const file = folder.name("model.json");
  const w: Where = { file, field: "" };
  let modelBytes: Uint8Array | undefined;
  try {
    modelBytes = folder.read("model.json");
  } catch (err) {
    throw new InputError(`${file}: cannot read (${errorMessage(err)})`);
  }
  if (!modelBytes) throw new InputError(`${file}: cannot read`);
  const o = object(parseJsonFileText(utf8.decode(modelBytes), file), w);
  const hashes: { file: string; expected: string | undefined; data: Uint8Array }[] = [];
  if (integrity) hashes.push({ file, expected: integrity["model.json"], data: modelBytes });
  const topology = object(o.modelTopology, at(w, "modelTopology"));
  const manifest = o.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length === 0) fail(at(w, "weightsManifest"), "must be a non-empty array");
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  const starts: { file: string; start: number }[] = [];
  manifest.forEach((g, gi) => {
    const wg = at(at(w, "weightsManifest"), gi);
    const group = object(g, wg);
    if (!Array.isArray(group.paths) || group.paths.length === 0) fail(at(wg, "paths"), "must be a non-empty array of file names");
    group.paths.forEach((p, pi) => {
      const wp = at(at(wg, "paths"), pi);
      const rel = string(p, wp);
      let data: Uint8Array | undefined;
      try {
        data = folder.read(rel);
      } catch (e) {
        fail(wp, `(${rel}) cannot be read: ${errorMessage(e)}`);
      }
      if (!data) fail(wp, `(${JSON.stringify(rel)}) points outside the model folder`);
      starts.push({ file: folder.name(rel), start: buffers.reduce((n, b) => n + b.length, 0) });
      buffers.push(data);
      if (integrity) hashes.push({ file: folder.name(rel), expected: integrity[rel], data });
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
  const total = buffers.reduce((n, b) => n + b.length, 0);
  const expected = 4 * specs.reduce((s, sp) => s + sp.shape.reduce((a, b) => a * b, 1), 0);
  if (total !== expected) {
    throw new InputError(`${starts.map((x) => x.file).join(", ")}: hold ${total} bytes, ${file} weightsManifest lists ${expected} bytes of float32 weights (truncated or wrong file?)`);
  }
  // A fresh aligned copy: Float32Array needs 4-byte alignment, which a file buffer need not have.
  const bytes = new Uint8Array(total);
  buffers.reduce((off, b) => (bytes.set(b, off), off + b.length), 0);
  const values = new Float32Array(bytes.buffer);
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
  const checks: HashCheck[] = hashes.map((h) => ({
    data: h.data,
    expected: h.expected,
    mismatch: () => {
      throw new InputError(`${h.file}: content does not match xanes-model.json integrity (edited or damaged after saving)`);
    },
  }));
  return { topology, specs, bytes, checks };
}

/** The checked network and file as a model on the current tfjs backend (shared by Node and browser loading). */
export async function modelFromChecked(file: XanesModelFile, net: { topology: unknown; specs: tf.io.WeightsManifestEntry[]; bytes: Uint8Array }, modelJsonName: string): Promise<{ model: XanesMlp; file: XanesModelFile }> {
  let layers: tf.LayersModel;
  try {
    layers = await networkFromArtifacts(net.topology, net.specs, net.bytes);
  } catch (e) {
    throw new InputError(`${modelJsonName}: modelTopology/weightsManifest do not form a network (${errorMessage(e)})`);
  }
  const { config, shape, inputScaler, outputScaler, outputPca } = file.estimator;
  const inWidth = layers.inputs[0]?.shape[1];
  const outWidth = layers.outputs[0]?.shape[1];
  const netOut = outputPca ? outputPca.components.length : shape.nOutputs;
  if (inWidth !== shape.nFeatures || outWidth !== netOut) {
    layers.dispose();
    const says = outputPca ? `${shape.nFeatures} → ${netOut} (estimator.outputPca components)` : `${shape.nFeatures} → ${shape.nOutputs}`;
    throw new InputError(`${modelJsonName}: modelTopology maps ${inWidth} → ${outWidth}, xanes-model.json estimator says ${says}`);
  }
  const model = new XanesMlp(
    layers, { ...DEFAULT_MLP_CONFIG, ...config }, shape, StandardScaler.fromJSON(inputScaler), outputScaler ? StandardScaler.fromJSON(outputScaler) : null,
    outputPca ? PcaBasis.fromJSON(outputPca) : null,
  );
  return { model, file };
}

/** Reads a model folder (saveModel, or a version 1 folder with `legacy`) into the current tfjs backend. */
export async function loadModel(dir: string, opts: LoadModelOptions = {}): Promise<{ model: XanesMlp; file: XanesModelFile }> {
  const file = readModelFile(dir, opts);
  const net = checkNetworkFiles(diskFolder(dir), file.integrity);
  verifyHashes(net.checks);
  return modelFromChecked(file, net, path.join(dir, "model.json"));
}

/**
 * The model folders of `dir`: itself when it holds a xanes-model.json, else its sub-folders that do
 * (an ensemble), in name order. Error when there are none.
 */
export function modelFolders(dir: string): string[] {
  if (fs.existsSync(path.join(dir, "xanes-model.json"))) return [dir];
  let subs: string[];
  try {
    subs = fs.readdirSync(dir).sort().map((s) => path.join(dir, s)).filter((s) => fs.existsSync(path.join(s, "xanes-model.json")));
  } catch (err) {
    throw new InputError(`${dir}: cannot read the model folder (${(err as Error).message})`);
  }
  if (subs.length === 0) throw new InputError(`${dir}: no xanes-model.json, nor sub-folders with one (not a model or ensemble folder)`);
  return subs;
}

/**
 * Store `alignment` (or null to remove it) in the spectral contract of every model of `dir` (a model or
 * an ensemble folder), and renew each file's integrity hash. Each file is read and checked first (a
 * damaged or edited file is an error, never re-hashed as if it were sound); the alignment must be for
 * the model's element and edge. Version 1 folders must be re-saved first. Returns the files written.
 */
export function writeModelAlignment(dir: string, alignment: SpectralAlignment | null): string[] {
  const out: string[] = [];
  const folders = modelFolders(dir);
  for (const d of folders) {
    const file = readModelFile(d);
    const name = path.join(d, "xanes-model.json");
    if (file.upgradedFrom !== undefined) throw new InputError(`${name}: format version ${file.upgradedFrom}; re-save the model before storing an alignment`);
    if (!file.spectral) throw new InputError(`${name}: spectral is null (a bare network): no contract to store an alignment in`);
    const raw = readJsonFile(name) as Record<string, unknown> & { spectral: Record<string, unknown> };
    raw.spectral.alignment = alignment;
    // The same checks as loading, so what is written loads.
    checkSpectralContract(raw.spectral, { file: name, field: "spectral" });
    const { integrity, ...content } = raw;
    const text = JSON.stringify({ ...content, integrity: { ...(integrity as Record<string, string>), "xanes-model.json": sha256(JSON.stringify(content)) } }, null, 1);
    out.push(name);
    fs.writeFileSync(name, text);
  }
  return out;
}
