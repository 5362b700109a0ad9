/** Largest |fractional coordinate| accepted: beyond 10⁴ cells a coordinate has lost its position within the cell. */
export const MAX_ABS_FRAC = 1e4;
