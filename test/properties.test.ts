/**
 * Property-based tests (fast-check) for the readers of the data step: the JSON stream parser, the
 * .npy writer/reader, MP document validation and the dataset folder loader. Random truncation,
 * corruption and type substitution must end in a clear InputError or the correct value, never in a
 * silently different one. Seeded; run counts keep each property well under 2 s.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { InputError } from "../lib/util/errors";
import { decodeNpy, encodeNpy } from "../lib/data/npy";
import { parseJsonText, streamJsonValues } from "../lib/data/json-stream";
import { validateMpDocument } from "../lib/data/mp-api";
import { buildDataset } from "../lib/data/dataset";
import { collectXasDocuments } from "../lib/data/xas-docs";
import { loadDataset, saveDataset } from "../lib/data/store";
import { DEFAULT_MESHES } from "../lib/spectra/mesh";
import { makeMpDocuments } from "./helpers/mp-server";
import { tempDirFactory } from "./helpers/files";

const SEED = 15;
const runs = (numRuns: number) => ({ numRuns, seed: SEED });
const tmp = tempDirFactory("prop");

/** Deep equality where NaN equals NaN and -0 differs from 0 (what a bit-faithful reader must give). */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") return Object.is(a, b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a as object), kb = Object.keys(b as object);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same((a as any)[k], (b as any)[k]));
  }
  return a === b;
}

const isInputErrorFrom = (source: string) => (e: unknown) => e instanceof InputError && e.message.startsWith(source);

// ---- .npy ------------------------------------------------------------------------------------

const npyArray = fc
  .tuple(fc.constantFrom("f4", "f8"), fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }))
  .chain(([dt, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.array(fc.double(), { minLength: n, maxLength: n }).map((v) => ({ shape, data: dt === "f4" ? Float32Array.from(v) : Float64Array.from(v) }));
  });
const bytesOf = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test("npy property: any float32/float64 array of any shape (NaN, ±0, ±Infinity included) round-trips bit-identically", () => {
  fc.assert(
    fc.property(npyArray, ({ shape, data }) => {
      const back = decodeNpy(encodeNpy(data, shape), "p.npy");
      assert.deepEqual(back.shape, shape);
      assert.equal(back.data.constructor, data.constructor);
      assert.ok(bytesOf(back.data).equals(bytesOf(data)));
    }),
    runs(200),
  );
});

test("npy property: a file cut anywhere is an InputError naming it", () => {
  fc.assert(
    fc.property(npyArray, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), ({ shape, data }, f) => {
      const buf = encodeNpy(data, shape);
      const cut = buf.subarray(0, Math.floor(f * buf.length));
      assert.throws(() => decodeNpy(Buffer.from(cut), "cut.npy"), isInputErrorFrom("cut.npy:"));
    }),
    runs(200),
  );
});

test("npy property: one damaged header byte gives an InputError or the very same array (non-empty arrays)", () => {
  fc.assert(
    fc.property(
      npyArray.filter(({ data }) => data.length > 0),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      ({ shape, data }, at, byte) => {
        const buf = Buffer.from(encodeNpy(data, shape));
        const headerEnd = buf.length - data.byteLength;
        const i = at % headerEnd;
        if (buf[i] === byte) return;
        buf[i] = byte;
        let back;
        try {
          back = decodeNpy(buf, "bad.npy");
        } catch (e) {
          assert.ok(isInputErrorFrom("bad.npy:")(e), String(e));
          return;
        }
        // Accepted: then nothing may have changed (a damaged padding space, say).
        assert.deepEqual(back.shape, shape);
        assert.equal(back.data.constructor, data.constructor);
        assert.ok(bytesOf(back.data).equals(bytesOf(data)));
      },
    ),
    runs(400),
  );
});

test("npy property: another dtype, byte order or layout in the header is refused, never reinterpreted", () => {
  fc.assert(
    fc.property(npyArray, fc.constantFrom("<i4", ">f8", ">f4", "|u1", "<f2", "<c8", "<i8", "|b1", "f8"), ({ shape, data }, dtype) => {
      const buf = encodeNpy(data, shape);
      const header = buf.toString("latin1", 10, buf.length - data.byteLength);
      const swapped = Buffer.concat([buf.subarray(0, 10), Buffer.from(header.replace(/'descr': '[^']*'/, `'descr': '${dtype}'`), "latin1"), buf.subarray(buf.length - data.byteLength)]);
      swapped.writeUInt16LE(swapped.length - 10 - data.byteLength, 8);
      assert.throws(() => decodeNpy(swapped, "t.npy"), isInputErrorFrom("t.npy:"));
      const fortran = Buffer.from(buf);
      fortran.write(header.replace("False", "True "), 10, "latin1");
      assert.throws(() => decodeNpy(fortran, "f.npy"), /Fortran-order/);
    }),
    runs(100),
  );
});

// ---- JSON stream ------------------------------------------------------------------------------

/** Documents as the stream parser takes them (objects or arrays), normalised through JSON. */
const docsArb = fc
  .array(fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 })), { maxLength: 6 })
  .map((docs) => docs.map((d) => JSON.parse(JSON.stringify(d))));

/** JSON lines hold objects (a leading "[" means the array form). */
const forForm = (docs: unknown[], form: "array" | "lines") => (form === "lines" ? docs.filter((d) => !Array.isArray(d)) : docs);

function toText(docs: unknown[], form: "array" | "lines"): { text: string; parts: string[] } {
  const parts = docs.map((d) => JSON.stringify(d));
  return { parts, text: form === "array" ? `[\n${parts.join(",\n")}\n]\n` : parts.join("\n") + (parts.length ? "\n" : "") };
}

async function streamAll(text: string, cuts: number[]): Promise<{ values: unknown[]; error?: unknown }> {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let last = 0;
  for (const p of points) {
    chunks.push(text.slice(last, p));
    last = p;
  }
  chunks.push(text.slice(last));
  async function* gen() {
    for (const c of chunks) yield c;
  }
  const values: unknown[] = [];
  try {
    for await (const { value } of streamJsonValues(gen(), "s.json")) values.push(value);
  } catch (error) {
    return { values, error };
  }
  return { values };
}

test("JSON stream property: any documents, as an array or JSON lines, in any chunking, come back exactly", async () => {
  await fc.assert(
    fc.asyncProperty(docsArb, fc.constantFrom("array" as const, "lines" as const), fc.array(fc.nat(), { maxLength: 8 }), async (all, form, cuts) => {
      const docs = forForm(all, form);
      const r = await streamAll(toText(docs, form).text, cuts);
      if (docs.length === 0 && form === "lines") {
        assert.ok(isInputErrorFrom("s.json")(r.error), "an empty text is an error");
        return;
      }
      assert.equal(r.error, undefined, String(r.error));
      assert.ok(same(r.values, docs));
    }),
    runs(150),
  );
});

test("JSON stream property: a text cut anywhere yields a prefix of the documents and then an InputError (or, for JSON lines cut between documents, exactly the whole ones)", async () => {
  await fc.assert(
    fc.asyncProperty(docsArb, fc.constantFrom("array" as const, "lines" as const), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.array(fc.nat(), { maxLength: 4 }), async (all, form, f, cuts) => {
      const docs = forForm(all, form);
      if (docs.length === 0) return;
      const { text, parts } = toText(docs, form);
      const cutText = text.slice(0, Math.floor(f * text.trimEnd().length));
      const r = await streamAll(cutText, cuts);
      assert.ok(same(r.values, docs.slice(0, r.values.length)), "only whole, unchanged documents are yielded");
      if (r.error !== undefined) assert.ok(isInputErrorFrom("s.json")(r.error), String(r.error));
      else {
        assert.equal(form, "lines", "a cut array must fail");
        assert.ok(r.values.length > 0, "an empty text is an error");
        assert.equal(parts.slice(0, r.values.length).join("\n"), cutText.trimEnd(), "nothing partial was dropped silently");
      }
    }),
    runs(200),
  );
});

test("JSON stream property: one damaged character gives an InputError or exactly what a JSON parser reads from the damaged text", async () => {
  await fc.assert(
    fc.asyncProperty(docsArb.filter((d) => d.length > 0), fc.nat(), fc.constantFrom("{", "}", "[", "]", '"', ",", ":", "\\", "x", "1", " ", "\n", "N", "-"), async (docs, at, ch) => {
      const { text } = toText(docs, "array");
      const i = at % text.length;
      const bad = text.slice(0, i) + ch + text.slice(i + 1);
      let oracle: unknown;
      try {
        oracle = parseJsonText(bad);
      } catch {
        oracle = undefined;
      }
      const r = await streamAll(bad, []);
      if (r.error !== undefined) {
        assert.ok(isInputErrorFrom("s.json")(r.error), String(r.error));
        return;
      }
      // Accepted: it must be what the damaged text says, element by element.
      assert.ok(Array.isArray(oracle), `accepted text that is not a JSON array: ${JSON.stringify(bad)}`);
      assert.ok(same(r.values, oracle), `stream and JSON.parse differ on ${JSON.stringify(bad)}`);
    }),
    runs(400),
  );
});

test("JSON property: Python's NaN/Infinity/-Infinity literals are read as those numbers; everything else as JSON.parse reads it", () => {
  const withNonFinite = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.constantFrom(NaN, Infinity, -Infinity),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
      fc.string({ maxLength: 8 }),
      fc.constantFrom("NaN", "Infinity", "-Infinity", null, true),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 5 }), tie("value"), { maxKeys: 3 }),
    ),
  })).value;
  const pyDumps = (v: unknown): string =>
    typeof v === "number" ? (Number.isNaN(v) ? "NaN" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : JSON.stringify(v))
    : Array.isArray(v) ? `[${v.map(pyDumps).join(", ")}]`
    : v && typeof v === "object" ? `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pyDumps(x)}`).join(", ")}}`
    : JSON.stringify(v);
  fc.assert(
    fc.property(withNonFinite, (v) => {
      const got = parseJsonText(pyDumps(v));
      assert.ok(same(got, v), `${pyDumps(v)} read as ${JSON.stringify(got)}`);
    }),
    runs(300),
  );
});

// ---- Readers: MP documents and dataset folders -------------------------------------------------

const BASE_DOC = makeMpDocuments(1, 50)[0];
const O_SITE = BASE_DOC.spectrum.structure.sites.findIndex((s: any) => s.species[0].element === "O");
const WRONG = [null, true, false, "1", "abc", "", [], {}, [1], NaN, Infinity, -Infinity] as const;

test("reader property: an MP document with any validated field replaced by a value of the wrong type is rejected with a reason, never kept", () => {
  const nsites = BASE_DOC.spectrum.structure.sites.length;
  const npts = BASE_DOC.spectrum.x.length;
  const pathArb = fc.oneof(
    fc.nat(npts - 1).map((i) => ["spectrum", "x", i]),
    fc.nat(npts - 1).map((i) => ["spectrum", "y", i]),
    fc.constant(["spectrum", "absorbing_index"]),
    fc.tuple(fc.nat(2), fc.nat(2)).map(([r, c]) => ["spectrum", "structure", "lattice", "matrix", r, c]),
    fc.tuple(fc.nat(nsites - 1), fc.nat(2)).map(([k, c]) => ["spectrum", "structure", "sites", k, "abc", c]),
    fc.nat(nsites - 1).map((k) => ["spectrum", "structure", "sites", k, "species", 0, "element"]),
    fc.constant(["spectrum", "x"]),
    fc.constant(["spectrum", "structure"]),
  );
  fc.assert(
    fc.property(pathArb, fc.constantFrom(...WRONG, 1.5, -1, nsites, "11", 8), fc.boolean(), (p, value, siteResolved) => {
      const doc = JSON.parse(JSON.stringify(BASE_DOC));
      if (siteResolved) doc.spectrum.absorbing_index = O_SITE;
      const last = p[p.length - 1];
      const isIndex = last === "absorbing_index";
      const isElement = last === "element";
      const isNumberSlot = !isIndex && !isElement && typeof last === "number";
      // Values that are right for the slot are not substitutions: skip them.
      if (isIndex && (value === null || (typeof value === "number" && Number.isInteger(value) && value === O_SITE))) return;
      if (isNumberSlot && typeof value === "number" && Number.isFinite(value)) return;
      let o = doc;
      for (const k of p.slice(0, -1)) o = o[k];
      o[last] = value;
      const bad = validateMpDocument(doc, "mp:doc");
      assert.ok(bad, `kept with ${p.join(".")} = ${JSON.stringify(value)}`);
      assert.ok(bad.message.includes("mp:doc") && bad.reason.length > 0, bad.message);
    }),
    runs(300),
  );
  assert.equal(validateMpDocument(BASE_DOC, "mp:doc"), undefined, "the unchanged document is valid");
});

test("reader property: a dataset folder with a cut file or a field of the wrong type fails with an InputError naming the file, or loads unchanged", async () => {
  const ds = await buildDataset({ name: "p", sources: collectXasDocuments(makeMpDocuments(5, 51)), mesh: DEFAULT_MESHES["O-K"] });
  const dir = path.join(tmp("ds"), "p");
  saveDataset(ds, dir, { log: () => undefined });
  const files = ["spectra.npy", "energy.npy", "meta.json", "structures.json", "splits.json", "dataset.json"];
  const original = new Map(files.map((f) => [f, fs.readFileSync(path.join(dir, f))]));
  const reference = JSON.stringify(loadDataset(dir, { log: () => undefined }).meta);
  const restore = () => original.forEach((b, f) => fs.writeFileSync(path.join(dir, f), b));
  const expectErrorOrSame = (file: string) => {
    try {
      const back = loadDataset(dir, { log: () => undefined });
      assert.equal(JSON.stringify(back.meta), reference, `${file}: loaded something different`);
      assert.ok(bytesOf(back.spectra).equals(bytesOf(ds.spectra)));
    } catch (e) {
      assert.ok(e instanceof InputError && e.message.includes(file), `${file}: ${String(e)}`);
    }
  };
  fc.assert(
    fc.property(fc.constantFrom(...files), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (file, f) => {
      const b = original.get(file)!;
      fs.writeFileSync(path.join(dir, file), b.subarray(0, Math.floor(f * b.length)));
      try {
        expectErrorOrSame(file);
      } finally {
        restore();
      }
    }),
    runs(60),
  );
  // The field checks below guard a folder without recorded hashes (saved before them); with hashes any
  // edit is refused first, by the sha256 check (test/data.test.ts). So they run on an unhashed folder.
  const { integrity: _hashes, ...unhashed } = JSON.parse(original.get("dataset.json")!.toString());
  original.set("dataset.json", Buffer.from(JSON.stringify(unhashed)));
  restore();
  const metaFields = ["materialId", "formula", "site", "multiplicity", "element", "edge", "spectrumType", "nelements", "elements", "e0", "source"];
  fc.assert(
    fc.property(fc.nat(ds.meta.length - 1), fc.constantFrom(...metaFields), fc.constantFrom(...WRONG, 1.5, -2, "3", 99), (row, field, value) => {
      const meta = JSON.parse(original.get("meta.json")!.toString());
      const was = meta[row][field];
      if (JSON.stringify(was) === JSON.stringify(value)) return; // Infinity and NaN are written as null
      if (typeof was === "string" && typeof value === "string") return; // a different name is not a type error
      if (field === "multiplicity" && value === 99) return; // a wrong count of the right type is not re-derived on load
      meta[row][field] = value;
      fs.writeFileSync(path.join(dir, "meta.json"), JSON.stringify(meta));
      try {
        assert.throws(() => loadDataset(dir, { log: () => undefined }), (e: unknown) => e instanceof InputError && e.message.includes("meta.json") && e.message.includes(`row ${row}`));
      } finally {
        restore();
      }
    }),
    runs(80),
  );
  fc.assert(
    fc.property(fc.constantFrom("lattice", "abc", "splits"), fc.constantFrom(...WRONG), (where, value) => {
      if (where === "splits") {
        const sp = JSON.parse(original.get("splits.json")!.toString());
        if (sp.random.train.length === 0) return;
        sp.random.train[0] = value;
        fs.writeFileSync(path.join(dir, "splits.json"), JSON.stringify(sp));
      } else {
        const st = JSON.parse(original.get("structures.json")!.toString());
        const first = Object.values(st)[0] as any;
        if (where === "lattice") first.lattice.matrix[1][1] = value;
        else first.sites[0].abc[2] = value;
        fs.writeFileSync(path.join(dir, "structures.json"), JSON.stringify(st));
      }
      try {
        assert.throws(() => loadDataset(dir, { log: () => undefined }), (e: unknown) => e instanceof InputError && /(structures|splits)\.json/.test(e.message));
      } finally {
        restore();
      }
    }),
    runs(40),
  );
});
