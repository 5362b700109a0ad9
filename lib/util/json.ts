import * as fs from "node:fs";
import { InputError, errorMessage } from "./errors";

/** Parse a JSON file; an unreadable or invalid file is an InputError naming it. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new InputError(`${file}: cannot read (${errorMessage(err)})`);
  }
  return parseJsonFileText(text, file);
}

/** Parse JSON text read from `file` (no file system: also the browser's path); invalid JSON is an InputError naming it. */
export function parseJsonFileText(text: string, file: string): unknown {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte-order mark is not JSON, but editors write it
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file}: invalid JSON (${errorMessage(err)})`);
  }
}
