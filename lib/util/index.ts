export * from "./random";
export * from "./progress";
export * from "./fs";
