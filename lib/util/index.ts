export * from "./errors";
export * from "./json";
export * from "./csv";
export * from "./numbers";
export * from "./matrix";
export * from "./random";
export * from "./progress";
export * from "./fs";
