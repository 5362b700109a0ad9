// Flat public API for notebooks (`import { ... } from "@xanes/lib"`). Each folder owns its index.
export * from "./config";
export * from "./structure";
export * from "./geometry";
export * from "./elements";
export * from "./descriptors";
export * from "./spectra";
export * from "./data";
export * from "./model";
export * from "./eval";
export * from "./study";
export * from "./plots";
export * from "./screening";
export * from "./util";
