export * from "./types";
export * from "./xmu";
export * from "./mesh";
export * from "./normalize";
export * from "./expression";
export * from "./xdi";
export * from "./athena";
export * from "./energy-calibration";
