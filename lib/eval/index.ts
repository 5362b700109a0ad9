export * from "./metrics";
export * from "./baselines";
export * from "./ablation";
export * from "./errors";
export * from "./figures";
export * from "./experiment";
export * from "./report";
export * from "./oxygen";
