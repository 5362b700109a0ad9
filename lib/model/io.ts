/**
 * Save/load of a trained XanesMlp as plain files, on any backend (no tfjs-node file:// handler):
 *   model.json      tfjs layers topology + weights manifest (loadable by tf.loadLayersModel too)
 *   weights.bin     float32 weights
 *   xanes-model.json  our descriptor: MLP config, scalers, backend, plus caller metadata
 *                     (featurizer configuration, energy mesh, normalisation, training history…)
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { MlpConfig, XanesMlp } from "./mlp";
import { StandardScaler, StandardScalerJSON } from "./scaler";
import { readJsonFile } from "../util/json";

export const MODEL_FORMAT = "xanes-mlp";
export const MODEL_FORMAT_VERSION = 1;

/** Caller metadata stored with the model; the predictor uses `featurizer` and `energyMesh`. */
export interface XanesModelMeta {
  /** Featurizer.toJSON(): rebuilds the descriptor pipeline at load time. */
  featurizer?: unknown;
  /** Energy of each output, eV. */
  energyMesh?: number[];
  /** How target spectra were normalised before training (free-form, documented by the caller). */
  normalisation?: unknown;
  [key: string]: unknown;
}

export interface XanesModelFile {
  format: typeof MODEL_FORMAT;
  version: number;
  savedAt: string;
  /** tfjs backend the model was trained/saved on. */
  backend: string;
  tfjsVersion: string;
  mlp: MlpConfig;
  inputScaler: StandardScalerJSON;
  outputScaler: StandardScalerJSON | null;
  meta: XanesModelMeta;
}

function joinWeightData(data: ArrayBuffer | ArrayBuffer[] | undefined): ArrayBuffer {
  if (!data) throw new Error("saveModel: tfjs produced no weight data");
  if (!Array.isArray(data)) return data;
  const total = data.reduce((s, b) => s + b.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), o);
    o += b.byteLength;
  }
  return out.buffer;
}

/** Writes model.json, weights.bin and xanes-model.json into `dir` (created if missing). */
export async function saveModel(dir: string, model: XanesMlp, meta: XanesModelMeta = {}): Promise<{ dir: string; files: string[] }> {
  fs.mkdirSync(dir, { recursive: true });
  await model.net.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = joinWeightData(artifacts.weightData as ArrayBuffer | ArrayBuffer[] | undefined);
      fs.writeFileSync(path.join(dir, "weights.bin"), Buffer.from(weights));
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
      };
      fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON", weightDataBytes: weights.byteLength } };
    }),
  );
  const file: XanesModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    savedAt: new Date().toISOString(),
    backend: tf.getBackend(),
    tfjsVersion: tf.version.tfjs,
    mlp: model.config,
    inputScaler: model.inputScaler.toJSON(),
    outputScaler: model.outputScaler ? model.outputScaler.toJSON() : null,
    meta,
  };
  fs.writeFileSync(path.join(dir, "xanes-model.json"), JSON.stringify(file, null, 1));
  return { dir, files: ["model.json", "weights.bin", "xanes-model.json"].map((f) => path.join(dir, f)) };
}


/** Reads a directory written by saveModel into the current tfjs backend. */
export async function loadModel(dir: string): Promise<{ model: XanesMlp; meta: XanesModelMeta; file: XanesModelFile }> {
  const descPath = path.join(dir, "xanes-model.json");
  const desc = readJsonFile(descPath) as XanesModelFile;
  if (desc.format !== MODEL_FORMAT) throw new Error(`loadModel: ${descPath} has format '${desc.format}', expected '${MODEL_FORMAT}'`);
  if (desc.version > MODEL_FORMAT_VERSION) throw new Error(`loadModel: ${descPath} is version ${desc.version}; this lib reads ≤ ${MODEL_FORMAT_VERSION}`);
  const modelJson = readJsonFile(path.join(dir, "model.json")) as any;
  const manifest = modelJson.weightsManifest as { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  if (!Array.isArray(manifest)) throw new Error(`loadModel: ${path.join(dir, "model.json")} has no weightsManifest`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const bytes = Buffer.concat(buffers);
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const net = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData }));
  const model = new XanesMlp(
    net,
    desc.mlp,
    StandardScaler.fromJSON(desc.inputScaler),
    desc.outputScaler ? StandardScaler.fromJSON(desc.outputScaler) : null,
  );
  return { model, meta: desc.meta ?? {}, file: desc };
}
