/**
 * Strict number tokens for every text reader (POSCAR, feff.inp, XDI, Athena, column files): one rule,
 * so "0x1", "Infinity", "1e999" and "1,5" are refused everywhere, where `Number()` would read some.
 */
/** A plain decimal number as Fortran codes write it: sign, digits with optional point, exponent E or D. */
const FORTRAN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][+-]?\d+)?$/;

/**
 * The value of a number token, or NaN when it is not a plain finite decimal:
 * hex ("0x1"), "Infinity", "1e999" (overflow), "1,5" and empty tokens are NaN, where `Number()` would
 * have read some of them as numbers.
 */
export function strictNumber(tok: string | undefined): number {
  if (tok === undefined || !FORTRAN_NUMBER.test(tok)) return NaN;
  const v = Number(tok.replace(/[dD]/, "e"));
  return Number.isFinite(v) ? v : NaN;
}

/** A non-negative integer token written as digits only ("12"; not "1e1", "12.0", "0x1"), else NaN. */
export function strictCount(tok: string | undefined): number {
  return tok !== undefined && /^\+?\d+$/.test(tok) ? Number(tok) : NaN;
}
