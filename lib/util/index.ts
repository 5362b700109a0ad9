export * from "./random";
export * from "./progress";
