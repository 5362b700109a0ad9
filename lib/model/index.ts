export * from "./backend";
export { setWasmKernelPatches, wasmKernelPatches } from "./wasm_kernels";
export * from "./scaler";
export * from "./mlp";
export * from "./io";
export * from "./predictor";
