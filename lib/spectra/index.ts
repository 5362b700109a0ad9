export * from "./types";
export * from "./xmu";
export * from "./mesh";
export * from "./normalize";
