export * from "./types";
export * from "./eigen";
export * from "./composition";
export * from "./atomic";
export * from "./rdf";
export * from "./coulomb";
export * from "./ofm";
export * from "./featurizer";
