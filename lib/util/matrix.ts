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

/** Rows `rows` of `m`, copied into a new compact matrix. */
export function takeRows(m: Matrix, rows: ArrayLike<number>): Matrix {
  const w = m.cols;
  const out = new Float32Array(rows.length * w);
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r];
    if (!(i >= 0 && i < m.rows)) throw new RangeError(`takeRows: row ${i} out of range 0..${m.rows - 1}`);
    out.set(m.data.subarray(i * w, (i + 1) * w), r * w);
  }
  return { data: out, rows: rows.length, cols: w };
}

/** Columns `cols` of `m` (all rows), copied into a new matrix. */
export function takeColumns(m: Matrix, cols: ArrayLike<number>): Matrix {
  const w = m.cols;
  const c = cols.length;
  const out = new Float32Array(m.rows * c);
  for (let i = 0; i < m.rows; i++) {
    const o = i * w;
    for (let k = 0; k < c; k++) out[i * c + k] = m.data[o + cols[k]];
  }
  return { data: out, rows: m.rows, cols: c };
}

/** `row` repeated `n` times: an n × row.length matrix. */
export function tileRow(row: Float32Array, n: number): Matrix {
  const out = new Float32Array(n * row.length);
  for (let i = 0; i < n; i++) out.set(row, i * row.length);
  return { data: out, rows: n, cols: row.length };
}
