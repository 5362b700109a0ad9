export * from "./config";
export * from "./features";
export * from "./final";
export * from "./ablation";
export * from "./oxygen";
export * from "./tables";
export * from "./study";
export * from "./findings";
