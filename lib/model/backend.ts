/**
 * tfjs backend selection. Preference: tfjs-node ("tensorflow", native libtensorflow) when it
 * really loads, else wasm (SIMD, single thread) with faster BatchMatMul/_FusedMatMul/Slice kernels
 * (BatchMatMul on OpenBLAS when the optional native/blas addon is built), else cpu.
 * `XANES_BACKEND=tensorflow|wasm|cpu` or `initBackend({ backend })` forces one.
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmKernelPatches } from "./wasm_kernels";
import { loadNativeBlas, nativeBlasStatus } from "./native_blas";

export type BackendName = "tensorflow" | "wasm" | "cpu";

export interface BackendSelection {
  /** The tfjs backend now active. */
  name: BackendName;
  /** Why it was chosen (and why better ones were not). */
  reason: string;
  /** wasm kernels replaced by lib/model/wasm_kernels (empty elsewhere). */
  kernelsPatched: string[];
}

export interface InitBackendOptions {
  /** Force a backend; overrides XANES_BACKEND. Throws if it cannot be used. */
  backend?: BackendName;
  /** wasm only: install the faster kernels (default true). false restores the stock kernels (benchmarks). */
  patchKernels?: boolean;
  /**
   * wasm only: run BatchMatMul through OpenBLAS when the optional addon (native/blas) is built.
   * Default: on when built, unless XANES_NATIVE_BLAS=0.
   */
  nativeBlas?: boolean;
}

const BACKENDS: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];
let current: BackendSelection | null = null;
/** The request that produced `current` (forced backend, kernel options), for idempotency. */
let currentKey = "";
let tfjsNodeError: string | null | undefined; // undefined: not tried yet
let wasmLoadError: string | null | undefined;

function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0];
}

/** Loads tfjs-node once; true when its native "tensorflow" backend factory is registered. */
function tryLoadTfjsNode(): boolean {
  if (tfjsNodeError === undefined) {
    try {
      // Optional dependency: its install downloads libtensorflow, which fails offline.
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      require("@tensorflow/tfjs-node");
      tfjsNodeError = tf.findBackendFactory("tensorflow") ? null : "loaded but registered no 'tensorflow' backend";
    } catch (e) {
      tfjsNodeError = errorText(e);
    }
  }
  return tfjsNodeError === null;
}

/** Loads tfjs-backend-wasm once (registers the "wasm" backend and its kernels). */
function tryLoadWasm(): boolean {
  if (wasmLoadError === undefined) {
    try {
      require("@tensorflow/tfjs-backend-wasm");
      // Threads need a worker setup that does not work in Node here; SIMD does.
      tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
      wasmLoadError = tf.findBackendFactory("wasm") ? null : "loaded but registered no 'wasm' backend";
    } catch (e) {
      wasmLoadError = errorText(e);
    }
  }
  return wasmLoadError === null;
}

async function activate(name: BackendName, patchKernels: boolean, nativeBlas: boolean): Promise<string[]> {
  let patchedNow: string[] = [];
  if (name === "wasm") patchedNow = setWasmKernelPatches(patchKernels, nativeBlas);
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
  return patchedNow;
}

function parseBackendName(value: string, origin: string): BackendName {
  const v = value.trim().toLowerCase();
  if (!(BACKENDS as readonly string[]).includes(v)) {
    throw new Error(`${origin}: unknown backend '${value}' (expected ${BACKENDS.join(", ")})`);
  }
  return v as BackendName;
}

/**
 * Selects and initialises the tfjs backend. Idempotent: repeated calls with the same request (same
 * forced backend, or none) return the current selection without re-initialising; a different
 * request switches.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendSelection> {
  const patchKernels = options.patchKernels ?? true;
  const envValue = process.env.XANES_BACKEND;
  const forced: BackendName | undefined = options.backend
    ? parseBackendName(options.backend, "initBackend({ backend })")
    : envValue
      ? parseBackendName(envValue, "XANES_BACKEND")
      : undefined;

  const nativeBlas = options.nativeBlas ?? (process.env.XANES_NATIVE_BLAS !== "0" && loadNativeBlas() !== null);
  const key = JSON.stringify([forced ?? "auto", patchKernels, nativeBlas]);
  if (current && tf.getBackend() === current.name && key === currentKey) return current;
  currentKey = ""; // set again only once a selection succeeds
  const blasNote = (patched: string[]) =>
    patched.some((k) => k.includes("openblas"))
      ? `; BatchMatMul via ${nativeBlasStatus()}`
      : patched.length > 0
        ? `; native BLAS not used (${nativeBlas ? nativeBlasStatus() : "disabled"})`
        : "";

  // Warnings like "Hi there, install tfjs-node" are noise here; prod mode also skips debug checks.
  tf.enableProdMode();

  if (forced) {
    const origin = options.backend ? "requested by initBackend({ backend })" : "forced by XANES_BACKEND";
    if (forced === "tensorflow" && !tryLoadTfjsNode()) {
      throw new Error(`backend 'tensorflow' ${origin} but @tensorflow/tfjs-node does not load: ${tfjsNodeError}`);
    }
    if (forced === "wasm" && !tryLoadWasm()) {
      throw new Error(`backend 'wasm' ${origin} but @tensorflow/tfjs-backend-wasm does not load: ${wasmLoadError}`);
    }
    const kernelsPatched = await activate(forced, patchKernels, nativeBlas);
    current = { name: forced, reason: origin + blasNote(kernelsPatched), kernelsPatched };
    currentKey = key;
    return current;
  }

  const skipped: string[] = [];
  if (tryLoadTfjsNode()) {
    try {
      await activate("tensorflow", false, false);
      current = { name: "tensorflow", reason: "tfjs-node native backend loaded", kernelsPatched: [] };
      currentKey = key;
      return current;
    } catch (e) {
      skipped.push(`tensorflow: ${errorText(e)}`);
    }
  } else {
    skipped.push(`tensorflow: @tensorflow/tfjs-node unavailable (${tfjsNodeError})`);
  }
  if (tryLoadWasm()) {
    try {
      const kernelsPatched = await activate("wasm", patchKernels, nativeBlas);
      current = { name: "wasm", reason: `wasm (SIMD) chosen; ${skipped.join("; ")}${blasNote(kernelsPatched)}`, kernelsPatched };
      currentKey = key;
      return current;
    } catch (e) {
      skipped.push(`wasm: ${errorText(e)}`);
    }
  } else {
    skipped.push(`wasm: @tensorflow/tfjs-backend-wasm unavailable (${wasmLoadError})`);
  }
  await activate("cpu", false, false);
  currentKey = key;
  current = { name: "cpu", reason: `pure-JS fallback; ${skipped.join("; ")}`, kernelsPatched: [] };
  return current;
}

/** The current selection plus tfjs version and memory, for notebooks and saved model metadata. */
export function backendInfo(): BackendSelection & { tfjsVersion: string; active: string; numTensors: number; nativeBlas: string } {
  const sel = current ?? { name: tf.getBackend() as BackendName, reason: "initBackend() not called", kernelsPatched: [] };
  return {
    ...sel,
    active: tf.getBackend(),
    tfjsVersion: tf.version.tfjs,
    numTensors: tf.memory().numTensors,
    nativeBlas: nativeBlasStatus(),
  };
}
