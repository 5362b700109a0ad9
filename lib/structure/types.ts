/**
 * A periodic crystal structure. Plain data so it crosses JSON, workers and notebooks unchanged.
 * Immutable once built, arrays included (TypeScript cannot enforce that for typed arrays): geometry,
 * the Featurizer and screening cache results per structure object, so a structure changed in place
 * would get stale neighbours. Derive a new object instead (it may share the unchanged arrays).
 */
export interface Structure {
  /** Lattice vectors as rows, Å, row-major: [a1x a1y a1z a2x a2y a2z a3x a3y a3z]. */
  readonly lattice: Float64Array;
  /** Element symbol of each site ("O", "Cu"); ordered as in the source file. */
  readonly species: readonly string[];
  /** Fractional coordinates, site i at [3i, 3i+1, 3i+2]. Not wrapped into [0, 1). */
  readonly frac: Float64Array;
  /** Where the structure came from (file path, material id): used in error messages. */
  readonly source?: string;
  /**
   * false for a finite cluster (e.g. a feff.inp ATOMS card): neighbours and Voronoi cells then see
   * no periodic images and `lattice` is only a bounding box that carries the fractional coordinates.
   * Absent or true: periodic in all three directions.
   */
  readonly periodic?: boolean;
  /**
   * Fraction of each site that is occupied, (0, 1]; absent means every site is full (ordered).
   * A disordered (mixed) site is several entries at the same position whose occupancies sum to ≤ 1,
   * e.g. Nb 0.8 + Zr 0.2. Descriptors need ordered environments: see lib/structure/disorder.ts.
   */
  readonly occupancy?: Float64Array;
}
