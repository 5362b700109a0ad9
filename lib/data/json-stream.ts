import * as fs from "node:fs";
import * as zlib from "node:zlib";
import * as crypto from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import { InputError } from "../util/errors";

/**
 * JSON.parse, plus the non-standard literals `NaN`, `Infinity` and `-Infinity` that Python's json
 * writer emits (read as the numbers they name), so one such value costs its document, not the whole
 * file or page: callers validate numbers anyway. Standard JSON takes the native path unchanged; only
 * text that fails it is scanned. Anything else invalid throws the SyntaxError of JSON.parse.
 */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const lenient = replaceNonFiniteLiterals(text);
    if (lenient === undefined) throw err;
    const { json, marker } = lenient;
    return JSON.parse(json, (_k, v) => (typeof v === "string" && v.startsWith(marker) ? Number(v.slice(marker.length)) : v));
  }
}

/** Bare NaN/Infinity/-Infinity tokens (outside strings, in value position) → unique sentinel strings; undefined when there are none. */
function replaceNonFiniteLiterals(text: string): { json: string; marker: string } | undefined {
  // A fresh random marker per call, checked absent from the text, so no real string can be mistaken for one.
  let body: string;
  do body = `nonfinite-${crypto.randomBytes(8).toString("hex")}:`;
  while (text.includes(body));
  const out: string[] = [];
  let last = 0;
  let found = false;
  let prev = 0; // last non-space character code outside strings
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
      prev = 34;
      continue;
    }
    if (c === 32 || c === 10 || c === 13 || c === 9) continue;
    if ((c === 78 /* N */ || c === 73 /* I */ || c === 45 /* - */) && (prev === 0 || prev === 91 || prev === 44 || prev === 58)) {
      const token = text.startsWith("NaN", i) ? "NaN" : text.startsWith("Infinity", i) ? "Infinity" : text.startsWith("-Infinity", i) ? "-Infinity" : undefined;
      const after = token ? text.charCodeAt(i + token.length) : NaN;
      if (token && (Number.isNaN(after) || /[\s,\]}]/.test(String.fromCharCode(after)))) {
        out.push(text.slice(last, i), `"\\u0000${body}${token}"`);
        i += token.length - 1;
        last = i + 1;
        found = true;
        prev = 34;
        continue;
      }
    }
    prev = c;
  }
  if (!found) return undefined;
  out.push(text.slice(last));
  return { json: out.join(""), marker: `\0${body}` };
}

/** Index of the first match of global regex `re` in `text` at or after `from`, or −1. */
function nextMatch(re: RegExp, text: string, from: number): number {
  re.lastIndex = from;
  const m = re.exec(text);
  return m ? m.index : -1;
}

/** A top-level document read from a stream, with the line it starts on (for messages). */
export interface StreamedValue {
  readonly value: unknown;
  readonly line: number;
}

/**
 * Split a JSON text stream into documents without holding the whole file: either one top-level array
 * (each element yielded as it completes) or a sequence of top-level objects (JSON lines, or
 * concatenated JSON; top-level values must then be objects, as a leading "[" means the array form).
 * An empty text is an InputError. Only structure is tracked here (depth, strings, escapes); each document's text
 * goes to `parseJsonText` (JSON plus NaN/Infinity literals), so memory is bounded by the largest document. Elements must be objects or arrays.
 * Inside a document a regex jumps between structural characters (native scanning, several times
 * faster than a per-character loop); newlines are counted once per document, for messages.
 */
export async function* streamJsonValues(chunks: AsyncIterable<string>, source: string): AsyncGenerator<StreamedValue> {
  const STRUCT = /[{}[\]"]/g;
  const IN_STRING = /["\\]/g;
  let mode: "start" | "array" | "values" | "done" = "start";
  let depth = 0; // nesting inside the current document
  let inString = false;
  let escape = false; // a backslash ended the previous chunk inside a string
  let inDoc = false;
  let expectComma = false; // array mode: after an element, before "," or "]"
  let line = 1;
  let docLine = 0;
  let parts: string[] = [];
  const fail = (msg: string): never => {
    throw new InputError(`${source}:${line}: ${msg}`);
  };
  const countLines = (t: string) => {
    let k = -1;
    while ((k = t.indexOf("\n", k + 1)) >= 0) line++;
  };
  const finish = (text: string): StreamedValue => {
    try {
      return { value: parseJsonText(text), line: docLine };
    } catch (err) {
      throw new InputError(`${source}:${docLine}: invalid JSON document: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  for await (const chunk of chunks) {
    const n = chunk.length;
    let docStart = inDoc ? 0 : -1;
    let i = 0;
    while (i < n) {
      if (inDoc) {
        if (inString) {
          if (escape) {
            escape = false;
            i++;
            continue;
          }
          const k = nextMatch(IN_STRING, chunk, i);
          if (k < 0) break; // the string goes on in the next chunk
          if (chunk.charCodeAt(k) === 92 /* \ */) {
            if (k + 1 >= n) escape = true;
            i = k + 2;
          } else {
            inString = false;
            i = k + 1;
          }
          continue;
        }
        const j = nextMatch(STRUCT, chunk, i);
        if (j < 0) break; // the document goes on in the next chunk
        const c = chunk.charCodeAt(j);
        i = j + 1;
        if (c === 34) inString = true;
        else if (c === 123 /* { */ || c === 91 /* [ */) depth++;
        else if (--depth === 0) {
          parts.push(chunk.slice(docStart, j + 1));
          const text = parts.join("");
          parts = [];
          inDoc = false;
          docStart = -1;
          if (mode === "array") expectComma = true;
          countLines(text);
          yield finish(text);
        }
        continue;
      }
      // Between documents: few characters, checked one by one.
      const c = chunk.charCodeAt(i);
      if (c === 10) line++;
      if (c === 32 || c === 10 || c === 13 || c === 9) {
        i++;
        continue;
      }
      if (mode === "done") fail(`unexpected text after the closing "]"`);
      if (mode === "start") {
        if (c === 91) {
          mode = "array";
          i++;
          continue;
        }
        mode = "values";
      }
      if (mode === "array") {
        if (expectComma) {
          if (c === 44 /* , */) {
            expectComma = false;
            i++;
            continue;
          }
          if (c === 93) {
            mode = "done";
            i++;
            continue;
          }
          fail(`expected "," or "]" between array elements, found "${chunk[i]}"`);
        }
        if (c === 93) {
          mode = "done"; // empty array, or a trailing comma (tolerated)
          i++;
          continue;
        }
      }
      if (c !== 123 && c !== 91) fail(`expected a JSON object, found "${chunk[i]}"`);
      inDoc = true;
      depth = 1;
      docStart = i;
      docLine = line;
      i++;
    }
    if (inDoc) parts.push(chunk.slice(docStart));
  }
  if (inDoc) throw new InputError(`${source}: truncated JSON: the document starting at line ${docLine} never closes`);
  if (mode === "array") throw new InputError(`${source}: truncated JSON: the top-level array never closes`);
  // An empty (or all-whitespace) text is far more often a file cut to nothing than an empty collection.
  if (mode === "start") throw new InputError(`${source}: empty: no JSON document`);
}

/** Text chunks of a file, gunzipped when it starts with the gzip magic bytes. */
export async function* readTextChunks(filePath: string): AsyncGenerator<string> {
  const fd = await fs.promises.open(filePath, "r");
  const head = Buffer.alloc(2);
  await fd.read(head, 0, 2, 0);
  await fd.close();
  const raw = fs.createReadStream(filePath, { highWaterMark: 1 << 20 });
  const stream = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(zlib.createGunzip()) : raw;
  if (stream !== raw) raw.on("error", (err) => stream.destroy(err));
  const decoder = new StringDecoder("utf8");
  try {
    for await (const buf of stream) yield decoder.write(buf as Buffer);
  } catch (err) {
    throw new InputError(`${filePath}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

/** Documents of a JSON array / JSON lines file (optionally gzipped), streamed. */
export function streamJsonFile(filePath: string): AsyncGenerator<StreamedValue> {
  return streamJsonValues(readTextChunks(filePath), filePath);
}
