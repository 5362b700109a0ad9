/**
 * Checks for JSON read from a model folder: each failure is an InputError naming the file and the
 * field (`<file>: <field> …`), so a tampered or truncated folder never loads with a silent change.
 */
import { InputError } from "../util/errors";

/** Where a value came from: the file and the dotted path of the field. */
export interface Where {
  readonly file: string;
  readonly field: string;
}

export function at(w: Where, key: string | number): Where {
  return { file: w.file, field: typeof key === "number" ? `${w.field}[${key}]` : w.field ? `${w.field}.${key}` : key };
}

export function fail(w: Where, problem: string): never {
  throw new InputError(`${w.file}: ${w.field || "(top level)"} ${problem}`);
}

const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v) : Array.isArray(v) ? "an array" : v === null ? "null" : typeof v === "object" ? "an object" : String(v));

export function object(v: unknown, w: Where): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(w, `must be an object, got ${show(v)}`);
  return v as Record<string, unknown>;
}

export function string(v: unknown, w: Where): string {
  if (typeof v !== "string" || v.length === 0) fail(w, `must be a non-empty string, got ${show(v)}`);
  return v;
}

export function oneOf<T extends string>(v: unknown, allowed: readonly T[], w: Where): T {
  if (!allowed.includes(v as T)) fail(w, `must be one of ${allowed.join(", ")}, got ${show(v)}`);
  return v as T;
}

export function finite(v: unknown, w: Where): number {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(w, `must be a finite number, got ${show(v)}`);
  return v;
}

export function positive(v: unknown, w: Where): number {
  const x = finite(v, w);
  if (!(x > 0)) fail(w, `must be positive, got ${x}`);
  return x;
}

export function integer(v: unknown, w: Where, min = 0): number {
  const x = finite(v, w);
  if (!Number.isInteger(x) || x < min) fail(w, `must be an integer ≥ ${min}, got ${x}`);
  return x;
}

/** A number[] of `length` (when given) finite entries (positive ones with `positiveOnly`). */
export function finiteArray(v: unknown, w: Where, length?: number, positiveOnly = false): number[] {
  if (!Array.isArray(v)) fail(w, `must be an array of numbers, got ${show(v)}`);
  if (length !== undefined && v.length !== length) fail(w, `has ${v.length} entries, expected ${length}`);
  v.forEach((x, i) => (positiveOnly ? positive(x, at(w, i)) : finite(x, at(w, i))));
  return v as number[];
}
