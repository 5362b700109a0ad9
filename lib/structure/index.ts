export * from "./types";
export * from "./lattice";
export * from "./poscar";
export * from "./pymatgen";
export * from "./feff";
export * from "./cif";
export * from "./validate";
export * from "./read";
