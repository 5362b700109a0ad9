/**
 * A dense row-major float32 matrix: features (rows = sites) or spectra (rows = spectra, cols = mesh
 * points). One type through the model, baselines, evaluation and screening, so no signature carries
 * a flat array and its width separately.
 */
export interface Matrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** A Matrix over `data` (not copied); throws if the length does not match. */
export function matrix(data: Float32Array, rows: number, cols: number): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || data.length !== rows * cols) {
    throw new Error(`matrix: ${data.length} values cannot be ${rows}×${cols}`);
  }
  return { data, rows, cols };
}

/** Row i as a view (no copy). */
export function rowView(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}
