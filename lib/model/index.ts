export * from "./backend";
export { setWasmKernelPatches, wasmKernelPatches } from "./wasm_kernels";
export { nativeBlasStatus } from "./native_blas";
export { createAdam, AdamStepper } from "./optimizer";
export * from "./scaler";
export * from "./mlp";
export * from "./io";
export * from "./predictor";
