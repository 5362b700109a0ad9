export * from "./metrics";
export * from "./baselines";
export * from "./evaluation";
export * from "./errors";
export * from "./figures";
export * from "./report";
export * from "./uncertainty";
