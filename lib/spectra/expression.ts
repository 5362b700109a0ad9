/**
 * Column arithmetic for absorption: "ln(i0/itrans)", "ifluor/i0", "-log(itrans/i0)", "mutrans".
 * A tiny recursive-descent parser (numbers, column names, + − * /, unary −, ln/log/log10/exp/sqrt/abs)
 * so a user can override the rule that picks mu from a file's columns without code.
 * `log` is the natural logarithm, as in Athena's and larch's column expressions.
 */
import { InputError } from "../util/errors";

type Node =
  | { k: "num"; v: number }
  | { k: "col"; name: string }
  | { k: "neg"; a: Node }
  | { k: "bin"; op: "+" | "-" | "*" | "/"; a: Node; b: Node }
  | { k: "fn"; name: string; a: Node };

const FUNCTIONS: Record<string, (x: number) => number> = {
  ln: Math.log,
  log: Math.log,
  log10: Math.log10,
  exp: Math.exp,
  sqrt: Math.sqrt,
  abs: Math.abs,
};

/** A parsed column expression: the columns it uses and an evaluator over named columns. */
export interface ColumnExpression {
  readonly text: string;
  readonly columns: readonly string[];
  evaluate(columns: ReadonlyMap<string, ArrayLike<number>>, rows: number): Float64Array;
}

/** Parse `text`; column names are matched case-insensitively against `known` (errors list them). */
export function parseColumnExpression(text: string, known: readonly string[], where = "expression"): ColumnExpression {
  const src = text.trim();
  let pos = 0;
  const used = new Set<string>();
  const lower = new Map(known.map((k) => [k.toLowerCase(), k]));
  const fail = (msg: string): never => {
    throw new InputError(`${where}: ${msg} in "${src}" at character ${pos + 1}`);
  };
  const skip = () => {
    while (pos < src.length && /\s/.test(src[pos])) pos++;
  };
  const primary = (): Node => {
    skip();
    const c = src[pos];
    if (c === "(") {
      pos++;
      const e = sum();
      skip();
      if (src[pos] !== ")") fail("missing )");
      pos++;
      return e;
    }
    if (c === "-") {
      pos++;
      return { k: "neg", a: primary() };
    }
    if (c === "+") {
      pos++;
      return primary();
    }
    const num = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(pos));
    if (num) {
      pos += num[0].length;
      return { k: "num", v: Number(num[0]) };
    }
    const id = /^[A-Za-z_$][\w.$]*/.exec(src.slice(pos));
    if (!id) return fail("expected a number, a column name or (");
    pos += id[0].length;
    const name = id[0].toLowerCase();
    skip();
    if (src[pos] === "(" && FUNCTIONS[name]) {
      pos++;
      const a = sum();
      skip();
      if (src[pos] !== ")") fail("missing )");
      pos++;
      return { k: "fn", name, a };
    }
    const col = lower.get(name);
    if (col === undefined) {
      throw new InputError(`${where}: unknown column "${id[0]}" in "${src}"; the file's columns are: ${known.join(", ")}`);
    }
    used.add(col);
    return { k: "col", name: col };
  };
  const product = (): Node => {
    let a = primary();
    for (;;) {
      skip();
      const op = src[pos];
      if (op !== "*" && op !== "/") return a;
      pos++;
      a = { k: "bin", op, a, b: primary() };
    }
  };
  const sum = (): Node => {
    let a = product();
    for (;;) {
      skip();
      const op = src[pos];
      if (op !== "+" && op !== "-") return a;
      pos++;
      a = { k: "bin", op, a, b: product() };
    }
  };
  if (src === "") fail("empty expression");
  const root = sum();
  skip();
  if (pos < src.length) fail(`unexpected "${src[pos]}"`);
  const evalAt = (n: Node, cols: ReadonlyMap<string, ArrayLike<number>>, i: number): number => {
    switch (n.k) {
      case "num":
        return n.v;
      case "col":
        return (cols.get(n.name) as ArrayLike<number>)[i];
      case "neg":
        return -evalAt(n.a, cols, i);
      case "fn":
        return FUNCTIONS[n.name](evalAt(n.a, cols, i));
      case "bin": {
        const a = evalAt(n.a, cols, i);
        const b = evalAt(n.b, cols, i);
        return n.op === "+" ? a + b : n.op === "-" ? a - b : n.op === "*" ? a * b : a / b;
      }
    }
  };
  return {
    text: src,
    columns: [...used],
    evaluate(cols, rows) {
      for (const c of used) if (!cols.has(c)) throw new InputError(`${where}: column "${c}" has no data`);
      const out = new Float64Array(rows);
      for (let i = 0; i < rows; i++) out[i] = evalAt(root, cols, i);
      return out;
    },
  };
}

