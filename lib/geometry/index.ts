export * from "./neighbours";
export * from "./voronoi";
export * from "./equivalence";
export * from "./symmetry";
