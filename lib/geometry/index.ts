export * from "./neighbours";
export * from "./voronoi";
