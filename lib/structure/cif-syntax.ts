import { InputError } from "../util/errors";

/** One CIF value or word, with the 1-based line it starts on. */
export interface CifToken {
  readonly text: string;
  readonly line: number;
  /** Quoted string or ;-text field: never a tag, keyword or number-like placeholder. */
  readonly quoted: boolean;
  /** A tag written without a value (the tag's own line): an error only if the value is read. */
  readonly missing?: boolean;
}

/** A loop_: its tags (normalised, see normaliseTag) and rows of values. */
export interface CifLoop {
  readonly tags: readonly string[];
  readonly rows: readonly (readonly CifToken[])[];
  /** Line of the `loop_` keyword. */
  readonly line: number;
}

/** Where a tag's value(s) live in a block. */
export interface CifTagRef {
  /** Index into `loops`, or −1 for a single item. */
  readonly loop: number;
  readonly column: number;
  /** Line of the tag itself. */
  readonly line: number;
}

/** One data_ block: single items and loops; every tag appears once (either as an item or in a loop). */
export interface CifBlock {
  readonly name: string;
  /** Line of the data_ keyword. */
  readonly line: number;
  readonly items: ReadonlyMap<string, CifToken>;
  readonly loops: readonly CifLoop[];
  /** Every tag of the block (items and loop columns). */
  readonly tags: ReadonlyMap<string, CifTagRef>;
  /**
   * The first syntax error inside this block (a loop whose values are not a multiple of its tags, a
   * tag given twice), if any; parsing resumed at the next data_ block. A structure is never built
   * from a block with an error, but a broken block without a structure (a Pauling File powder
   * pattern with a missing value) does not stop reading the other blocks.
   */
  readonly error?: string;
}

/**
 * Tag as looked up: lower case, DDLm/mmCIF `.` separators as `_` (`_atom_site.fract_x` and
 * `_atom_site_fract_x` are one tag), so readers accept both dictionaries' spellings.
 */
export function normaliseTag(tag: string): string {
  return tag.toLowerCase().replace(/\./g, "_");
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 11 || c === 12 || c === 13;

/**
 * CIF 1.1 tokens: whitespace-separated words, '…' and "…" strings (closed by the quote followed by
 * whitespace or the end of a line; a string whose closing quote is on a later line is read across
 * lines, as pymatgen and many hand-written files do, unless a continuation line starts with a tag,
 * `loop_`, `data_` or `;`: then the quote was left open by mistake and that is an error), ;-text fields (a line starting with `;` to the
 * next such line), `#` comments where a token could start. A leading UTF-8 byte-order mark is dropped.
 * Errors name the source and the line where the unclosed string or field starts.
 */
export function tokenizeCif(text: string, source: string): CifToken[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split("\n");
  const out: CifToken[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.startsWith(";")) {
      const start = i;
      const parts = [line.slice(1)];
      i++;
      while (i < lines.length && !lines[i].startsWith(";")) parts.push(lines[i++].replace(/\r$/, ""));
      if (i >= lines.length) throw new InputError(`${source}:${start + 1}: ;-text field never closed (no line starting with ";" after it)`);
      out.push({ text: parts.join("\n").trim(), line: start + 1, quoted: true });
      // anything after the closing ';' on its line is read as further tokens
      line = lines[i].replace(/\r$/, "").slice(1);
      i = scanLine(line, i, lines, out, source);
      continue;
    }
    i = scanLine(line, i, lines, out, source);
  }
  return out;
}

/** Tokens of one line into `out`; returns the index of the last line consumed (a quoted string may span lines). */
function scanLine(line: string, i: number, lines: string[], out: CifToken[], source: string): number {
  let p = 0;
  while (p < line.length) {
    const c = line.charCodeAt(p);
    if (isSpace(c)) { p++; continue; }
    if (c === 35 /* # */) break;
    if (c === 39 /* ' */ || c === 34 /* " */) {
      const start = i;
      const quote = line[p];
      let q = p + 1;
      let acc = "";
      for (;;) {
        while (q < line.length && !(line[q] === quote && (q + 1 === line.length || isSpace(line.charCodeAt(q + 1))))) q++;
        if (q < line.length) break;
        // not closed on this line: continue on the next (multi-line quoted string)
        acc += line.slice(p + 1) + "\n";
        i++;
        if (i >= lines.length) throw new InputError(`${source}:${start + 1}: quoted string (${quote}) never closed`);
        line = lines[i].replace(/\r$/, "");
        // a line that reads as CIF structure (a tag, loop_, data_, a text field) is not string content:
        // the quote was left open by mistake, and swallowing those lines would change the structure silently
        if (/^\s*(_|loop_|data_|save_)/i.test(line) || line.startsWith(";")) {
          throw new InputError(`${source}:${start + 1}: quoted string (${quote}) never closed (line ${i + 1} starts a new item)`);
        }
        p = -1;
        q = 0;
      }
      out.push({ text: (acc + line.slice(p + 1, q)).trim(), line: start + 1, quoted: true });
      p = q + 1;
      continue;
    }
    let q = p;
    while (q < line.length && !isSpace(line.charCodeAt(q))) q++;
    out.push({ text: line.slice(p, q), line: i + 1, quoted: false });
    p = q;
  }
  return i;
}

const isTag = (t: CifToken) => !t.quoted && t.text.startsWith("_");
const isKeyword = (t: CifToken) => !t.quoted && /^(loop_|data_|save_|global_|stop_)/i.test(t.text);

/**
 * Every data_ block of a CIF, in file order. A tag given twice in one block (as items, in loops, or
 * both) is an error naming both lines: a file with two `_cell_length_a` or two `_atom_site` loops is
 * contradictory, and taking either would be a silent guess. Such block-level errors are recorded in
 * `block.error` (thrown when the block is used); unclosed strings and text fields, which leave no
 * block boundary to trust, throw at once. `save_` frames and `global_` are skipped.
 */
export function parseCifBlocks(text: string, source: string): CifBlock[] {
  const tokens = tokenizeCif(text, source);
  const blocks: CifBlock[] = [];
  type Mutable = { name: string; line: number; items: Map<string, CifToken>; loops: CifLoop[]; tags: Map<string, CifTagRef>; error?: string };
  let cur: Mutable | undefined;
  class BlockError extends Error {}
  const addTag = (tag: string, ref: CifTagRef) => {
    const prev = cur!.tags.get(tag);
    if (prev) throw new BlockError(`${source}:${ref.line}: ${tag} given twice in data_${cur!.name} (first at line ${prev.line})`);
    cur!.tags.set(tag, ref);
  };
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i];
    if (!t.quoted && /^data_/i.test(t.text)) {
      cur = { name: t.text.slice(5), line: t.line, items: new Map(), loops: [], tags: new Map() };
      blocks.push(cur);
      i++;
      continue;
    }
    if (!cur) {
      if (isKeyword(t)) { i++; continue; } // global_ before the first block
      throw new InputError(`${source}:${t.line}: "${t.text}" before the first data_ block`);
    }
    try {
      i = parseStatement(tokens, i, cur, addTag, source, BlockError);
    } catch (err) {
      if (!(err instanceof BlockError)) throw err;
      cur.error ??= err.message;
      i++;
      while (i < tokens.length && !(!tokens[i].quoted && /^data_/i.test(tokens[i].text))) i++;
    }
  }
  if (blocks.length === 0) throw new InputError(`${source}: no data_ block (not a CIF?)`);
  return blocks;
}

/** One item, loop or keyword of a block starting at tokens[i]; returns the index after it. */
function parseStatement(
  tokens: CifToken[], i: number, cur: { name: string; items: Map<string, CifToken>; loops: CifLoop[] },
  addTag: (tag: string, ref: CifTagRef) => void, source: string, BlockError: new (m: string) => Error,
): number {
  const t = tokens[i];
  if (!t.quoted && /^loop_$/i.test(t.text)) {
    i++;
    const tags: string[] = [];
    const tagLines: number[] = [];
    while (i < tokens.length && isTag(tokens[i])) { tags.push(normaliseTag(tokens[i].text)); tagLines.push(tokens[i].line); i++; }
    if (tags.length === 0) throw new BlockError(`${source}:${t.line}: loop_ without tags`);
    const values: CifToken[] = [];
    while (i < tokens.length && !isTag(tokens[i]) && !isKeyword(tokens[i])) values.push(tokens[i++]);
    if (values.length % tags.length !== 0) {
      // loops usually hold one row per line: point at the first line that does not
      const perLine = new Map<number, number>();
      for (const v of values) perLine.set(v.line, (perLine.get(v.line) ?? 0) + 1);
      const bad = [...perLine].find(([, c]) => c % tags.length !== 0);
      throw new BlockError(`${source}:${bad ? bad[0] : t.line}: loop of ${tags.length} tags (${tags[0]} …, line ${t.line}) has ${values.length} values, not a multiple of ${tags.length}`);
    }
    const rows: CifToken[][] = [];
    for (let r = 0; r < values.length; r += tags.length) rows.push(values.slice(r, r + tags.length));
    const k = cur.loops.length;
    cur.loops.push({ tags, rows, line: t.line });
    tags.forEach((tag, c) => addTag(tag, { loop: k, column: c, line: tagLines[c] }));
    return i;
  }
  if (isTag(t)) {
    const v = tokens[i + 1];
    const tag = normaliseTag(t.text);
    addTag(tag, { loop: -1, column: 0, line: t.line });
    if (!v || isTag(v) || isKeyword(v)) {
      cur.items.set(tag, { text: "", line: t.line, quoted: false, missing: true });
      return i + 1;
    }
    cur.items.set(tag, v);
    return i + 2;
  }
  if (isKeyword(t)) return i + 1;
  throw new BlockError(`${source}:${t.line}: unexpected value "${t.text}" (not after a tag or in a loop)`);
}

/**
 * The single value of `tag` in `block`: an item, or a loop column with exactly one row (a one-tag
 * loop like `loop_ _cell_angle_alpha 90` is an item in disguise). Undefined when absent; an error
 * when the tag holds several values.
 */
export function cifItem(block: CifBlock, tag: string, source: string): CifToken | undefined {
  const ref = block.tags.get(tag);
  if (!ref) return undefined;
  if (ref.loop < 0) {
    const v = block.items.get(tag)!;
    if (v.missing) throw new InputError(`${source}:${v.line}: ${tag} has no value`);
    return v;
  }
  const loop = block.loops[ref.loop];
  if (loop.rows.length !== 1) throw new InputError(`${source}:${ref.line}: ${tag} has ${loop.rows.length} values in a loop; expected one`);
  return loop.rows[0][ref.column];
}

/** All values of `tag`: a loop column, or a single item as a one-element list; [] when absent. */
export function cifColumn(block: CifBlock, tag: string, source: string): CifToken[] {
  const ref = block.tags.get(tag);
  if (!ref) return [];
  if (ref.loop < 0) {
    const v = block.items.get(tag)!;
    if (v.missing) throw new InputError(`${source}:${v.line}: ${tag} has no value`);
    return [v];
  }
  return block.loops[ref.loop].rows.map((r) => r[ref.column]);
}

/** CIF number: optional sign, digits with optional point ("90." is 90), optional exponent, optional standard uncertainty "(5)". */
const CIF_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?:\(\d+\))?$/;

/**
 * A CIF numeric value, or undefined for `?` (unknown) and `.` (inapplicable). Anything that is not
 * a CIF number (hex "0x1", "1,5", "abc", overflow to ±Infinity) is an InputError naming the line.
 */
export function cifNumber(tok: CifToken, what: string, source: string): number | undefined {
  const t = tok.text;
  if (!tok.quoted && (t === "?" || t === ".")) return undefined;
  if (!CIF_NUMBER.test(t)) throw new InputError(`${source}:${tok.line}: ${what}: "${t}" is not a number`);
  const v = Number(t.replace(/\(\d+\)$/, ""));
  if (!Number.isFinite(v)) throw new InputError(`${source}:${tok.line}: ${what}: "${t}" is out of range`);
  return v;
}
