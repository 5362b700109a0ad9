import * as fs from "node:fs";
import { InputError } from "../util/errors";

/**
 * Minimal NumPy .npy (format 1.0) writer/reader for C-order float32/float64 arrays, so datasets
 * open with `numpy.load` and load back here without copies of the data through JSON.
 */
export type NpyArray = Float32Array | Float64Array;

export interface NpyData<T extends NpyArray = NpyArray> {
  readonly data: T;
  readonly shape: number[];
}

function dtypeOf(a: NpyArray): "<f4" | "<f8" {
  return a instanceof Float32Array ? "<f4" : "<f8";
}

/** Encode an array as .npy bytes (little-endian, header padded to a multiple of 64 bytes). */
export function encodeNpy(data: NpyArray, shape: readonly number[]): Buffer {
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new RangeError(`npy: shape [${shape}] must hold non-negative integers`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`npy: shape [${shape}] does not match length ${data.length}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${dtypeOf(data)}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const pre = 10; // magic(6) + version(2) + header length(2)
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = header + " ".repeat(total - pre - header.length - 1) + "\n";
  const buf = Buffer.alloc(total + data.byteLength);
  buf.write("\x93NUMPY", 0, "latin1");
  buf[6] = 1;
  buf[7] = 0;
  buf.writeUInt16LE(header.length, 8);
  buf.write(header, pre, "latin1");
  // Typed arrays are little-endian on every platform Node supports.
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(buf, total);
  return buf;
}

/** Decode .npy bytes written by `encodeNpy` or NumPy ('<f4'/'<f8', C order, v1/v2 header). */
export function decodeNpy(buf: Buffer, source = "array.npy"): NpyData {
  if (buf.length < 10 || buf.toString("latin1", 0, 6) !== "\x93NUMPY") throw new InputError(`${source}: not a .npy file (bad magic)`);
  const major = buf[6];
  let hlen: number;
  let pre: number;
  if (major === 1) {
    hlen = buf.readUInt16LE(8);
    pre = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new InputError(`${source}: truncated .npy header`);
    hlen = buf.readUInt32LE(8);
    pre = 12;
  } else throw new InputError(`${source}: unsupported .npy version ${major}`);
  if (buf.length < pre + hlen) throw new InputError(`${source}: truncated .npy header`);
  const header = buf.toString("latin1", pre, pre + hlen);
  // The whole header must be the dict NumPy writes (keys in any order, padding spaces, one newline):
  // a damaged header is an error, never a different array.
  const body = /^\{(.*)\}\s*$/s.exec(header.replace(/\n$/, ""))?.[1];
  const entries = body === undefined ? [] : [...body.matchAll(/\s*'(descr|fortran_order|shape)':\s*('[^']*'|True|False|\([\d,\s]*\))\s*(,|$)/g)];
  const fields = new Map(entries.map((m) => [m[1], m[2]]));
  if (body === undefined || entries.map((m) => m[0]).join("").trim() !== body.trim() || fields.size !== 3 || entries.length !== 3) {
    throw new InputError(`${source}: unreadable .npy header "${header.trim()}"`);
  }
  const descr = fields.get("descr")!.replace(/'/g, "");
  const fortran = fields.get("fortran_order")!;
  const shapeStr = fields.get("shape")!.slice(1, -1);
  if (fortran === "True") throw new InputError(`${source}: Fortran-order arrays are not supported`);
  if (fortran !== "False") throw new InputError(`${source}: unreadable .npy header "${header.trim()}"`);
  if (descr !== "<f4" && descr !== "<f8") throw new InputError(`${source}: dtype ${descr} not supported (need <f4 or <f8)`);
  const dims = shapeStr.split(",").map((x) => x.trim());
  // "(3,)", "(3, 4)", "()": a one-number tuple needs its trailing comma; no empty entries elsewhere.
  if (dims.length > 1 && dims[dims.length - 1] === "") dims.pop();
  if (dims.length === 1 && dims[0] === "") dims.pop();
  if (!dims.every((d) => /^\d+$/.test(d)) || (dims.length === 1 && !/,\s*$/.test(shapeStr))) {
    throw new InputError(`${source}: unreadable .npy shape "(${shapeStr})"`);
  }
  const shape = dims.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const width = descr === "<f4" ? 4 : 8;
  const offset = pre + hlen;
  if (buf.length - offset !== count * width) {
    throw new InputError(`${source}: expected ${count * width} data bytes for shape [${shape}], found ${buf.length - offset}`);
  }
  // Copy into a fresh aligned buffer: the file buffer's offset need not be a multiple of 8.
  const bytes = new Uint8Array(count * width);
  bytes.set(buf.subarray(offset));
  const data = width === 4 ? new Float32Array(bytes.buffer) : new Float64Array(bytes.buffer);
  return { data, shape };
}

export function writeNpy(path: string, data: NpyArray, shape: readonly number[]): void {
  fs.writeFileSync(path, encodeNpy(data, shape));
}

export function readNpy(path: string): NpyData {
  return decodeNpy(fs.readFileSync(path), path);
}
