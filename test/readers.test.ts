import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { sharedDataDir } from "../lib/config";
import { InputError, errorMessage } from "../lib/util/errors";
import { parseXdi, readXdiFile, xdiSpectrum, checkElementEdge } from "../lib/spectra/xdi";
import { athenaRecord, athenaSpectrum, averageAthenaRecords, readAthenaFile } from "../lib/spectra/athena";
import { parseColumnExpression } from "../lib/spectra/expression";
import { preEdgeNormalize } from "../lib/spectra/normalize";

const XASLIB = path.join(sharedDataDir(), "xaslib", "data");
const PRJ = path.join(sharedDataDir(), "athena-projects");
const CUO = path.join(XASLIB, "Cu", "CuO_tenorite_13K_01.xdi");

function walk(d: string, out: string[] = []): string[] {
  for (const f of fs.readdirSync(d).sort()) {
    const p = path.join(d, f);
    if (fs.statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const is = (re: RegExp) => (e: Error) => e instanceof InputError && re.test(e.message);

test("every one of the 275 xaslib XDI files reads (mu by rule) and normalises, or fails with an InputError naming it", () => {
  const files = walk(XASLIB);
  assert.equal(files.length, 275);
  const rules = new Map<string, number>();
  const rejected: string[] = [];
  let normalised = 0;
  for (const f of files) {
    try {
      const s = readXdiFile(f);
      rules.set(s.rule, (rules.get(s.rule) ?? 0) + 1);
      assert.equal(s.energy.length, s.mu.length);
      preEdgeNormalize(s.energy, s.mu, {}, f);
      normalised++;
    } catch (e) {
      assert.ok(e instanceof InputError, `${f}: ${errorMessage(e)}`);
      assert.ok(errorMessage(e).startsWith(f), `error does not name the file: ${errorMessage(e)}`);
      rejected.push(errorMessage(e));
    }
  }
  console.log(`xaslib: ${files.length} files, ${normalised} read and normalised, ${rejected.length} rejected; rules ${JSON.stringify([...rules])}`);
  for (const r of rejected) console.log(`  rejected: ${r}`);
  // Measured on this data: all 275 read (208 ln(i0/itrans), 34 mutrans, 33 ifluor/i0) and normalise.
  assert.equal(normalised + rejected.length, 275);
  assert.equal(normalised, 275);
  assert.equal(rules.get("ln(i0/itrans)"), 208);
  assert.equal(rules.get("ifluor/i0"), 33);
  assert.equal(rules.get("mutrans"), 34);
});

test("XDI CuO tenorite: header, columns, transmission rule, element and edge; Cu checks pass, Fe is refused", () => {
  const s = readXdiFile(CUO);
  assert.equal(s.rule, "ln(i0/itrans)");
  assert.match(s.ruleReason, /transmission/);
  assert.equal(s.element, "Cu");
  assert.equal(s.edge, "K");
  // First data row of the file: 8760.0190  46739.301000  214243.319029
  assert.equal(s.energy[0], 8760.019);
  assert.ok(Math.abs(s.mu[0] - Math.log(46739.301 / 214243.319029)) < 1e-12);
  assert.equal(s.lines![0], 27);
  checkElementEdge(s, "Cu", "K");
  assert.throws(() => checkElementEdge(s, "Fe", "K"), is(/CuO_tenorite_13K_01\.xdi: spectrum of Cu K, but the model predicts Fe K/));
  assert.throws(() => checkElementEdge(s, "Cu", "L3"), is(/K edge, but the model predicts the Cu L3 edge/));
  // An override is used as given; an unknown column lists the file's columns.
  assert.equal(xdiSpectrum(parseXdi(fs.readFileSync(CUO, "latin1"), CUO), { mu: "ln(i0/irefer)" }).rule, "ln(i0/irefer)");
  assert.throws(() => xdiSpectrum(parseXdi(fs.readFileSync(CUO, "latin1"), CUO), { mu: "ifluor/i0" }), is(/unknown column "ifluor".*columns are: energy, i0, itrans, irefer/));
});

const MINI = (energyCol: string, rows: string[], extra = "") =>
  ["# XDI/1.0", `# Column.1: ${energyCol}`, "# Column.2: i0", "# Column.3: itrans", "# Element.symbol: Cu", "# Element.edge: K", extra, "#----", "# energy i0 itrans", ...rows]
    .filter((l) => l !== "")
    .join("\n");

test("XDI energies: keV and monochromator angle (Mono.d_spacing) converted; undeclared small values and missing d refused", () => {
  const rows = ["8.970 100 50", "8.980 100 40", "8.990 100 30"];
  const kev = xdiSpectrum(parseXdi(MINI("energy keV", rows), "k.xdi"));
  assert.deepEqual(Array.from(kev.energy), [8970, 8980, 8990]);
  assert.equal(kev.energyNote, "keV × 1000");
  assert.throws(() => xdiSpectrum(parseXdi(MINI("energy", rows), "e.xdi")), is(/^e\.xdi:9: energies 8\.97–8\.99 read as eV/));
  // Si(111) d = 3.13551 Å: θ = 12.7° → E = hc / (2 d sin θ)
  const ang = ["12.8 100 50", "12.7 100 40", "12.6 100 30"];
  const a = xdiSpectrum(parseXdi(MINI("angle deg", ang, "# Mono.d_spacing: 3.13551"), "a.xdi"));
  assert.ok(Math.abs(a.energy[1] - 12398.419843320026 / (2 * 3.13551 * Math.sin((12.7 * Math.PI) / 180))) < 1e-9);
  assert.ok(a.energy[0] < a.energy[2]); // the angle falls as the energy rises
  assert.throws(() => xdiSpectrum(parseXdi(MINI("angle deg", ang), "nod.xdi")), is(/^nod\.xdi: energy is a monochromator angle .* "Mono\.d_spacing" is missing/));
});

test("XDI bad input: hex energy 0x2318, NaN, duplicated and non-monotonic energies, ln of a negative ratio, not XDI — each names file and line", () => {
  const ok = ["8970 100 50", "8980 100 40", "8990 100 30"];
  assert.throws(() => parseXdi(MINI("energy eV", [...ok, "0x2318 100 20"]), "h.xdi"), is(/^h\.xdi:12: column 1 \(energy\): "0x2318" is not a decimal number/));
  assert.throws(() => parseXdi(MINI("energy eV", [...ok, "9000 NaN 20"]), "n.xdi"), is(/^n\.xdi:12: column 2 \(i0\): "NaN"/));
  assert.throws(() => xdiSpectrum(parseXdi(MINI("energy eV", [...ok, "8990 100 20"]), "d.xdi")), is(/^d\.xdi:12: repeated energy 8990/));
  assert.throws(() => xdiSpectrum(parseXdi(MINI("energy eV", [...ok, "8985 100 20"]), "m.xdi")), is(/^m\.xdi:12: energies are not monotonic/));
  assert.throws(() => xdiSpectrum(parseXdi(MINI("energy eV", [...ok, "9000 -100 20"]), "l.xdi")), is(/^l\.xdi:12: mu = ln\(i0\/itrans\) is not finite/));
  assert.throws(() => parseXdi("energy mu\n1 2\n", "plain.txt"), is(/^plain\.txt:1: not an XDI file/));
  assert.throws(() => parseXdi(MINI("energy eV", [...ok, "9000 100"]), "c.xdi"), is(/^c\.xdi:12: 2 values, but the first data row has 3/));
  const noMu = "# XDI/1.0\n# Column.1: energy eV\n# Column.2: i0\n# Column.3: irefer\n#---\n8970 1 2\n8980 1 2\n";
  assert.throws(() => xdiSpectrum(parseXdi(noMu, "r.xdi")), is(/^r\.xdi: no column rule gives mu \(columns: energy, i0, irefer\); give an expression/));
});

test("column expressions: arithmetic, functions, errors with position", () => {
  const e = parseColumnExpression("-log(itrans / I0) + 2*0.5", ["energy", "i0", "itrans"]);
  assert.deepEqual([...e.columns].sort(), ["i0", "itrans"]);
  const v = e.evaluate(new Map([["i0", [10]], ["itrans", [5]]]), 1);
  assert.ok(Math.abs(v[0] - (Math.log(2) + 1)) < 1e-12);
  assert.throws(() => parseColumnExpression("ln(i0/itrans", ["i0", "itrans"], "x"), is(/^x: missing \)/));
  assert.throws(() => parseColumnExpression("i0 itrans", ["i0", "itrans"], "x"), is(/unexpected "i"/));
});

/** Independent parse of @x / @y of one record with Python's gzip and re (no shared code). */
function pythonArrays(file: string, index: number): { x: number[]; y: number[]; label: string } {
  const py = `
import gzip, re, sys, json
raw = open(sys.argv[1], 'rb').read()
t = (gzip.decompress(raw) if raw[:2] == b'\\x1f\\x8b' else raw).decode('latin-1')
rec = t.split('$old_group')[1 + int(sys.argv[2])]
arr = lambda n: [float(v) for v in re.findall(r"'([^']*)'", re.search(r'^@' + n + r' = \\((.*?)\\);', rec, re.M | re.S).group(1))]
label = re.search(r"'label','([^']*)'", rec).group(1)
print(json.dumps({'x': arr('x'), 'y': arr('y'), 'label': label}))
`;
  return JSON.parse(execFileSync("/usr/bin/python3", ["-c", py, file, String(index)], { encoding: "utf8" }));
}

test("every record of the 8 Athena projects reads; energies and mu match an independent Python parse for the first and last record of each", () => {
  const files = fs.readdirSync(PRJ).filter((f) => f.endsWith(".prj")).sort();
  assert.equal(files.length, 8);
  let records = 0;
  const counts: string[] = [];
  for (const f of files) {
    const p = readAthenaFile(path.join(PRJ, f));
    counts.push(`${f} ${p.records.length}`);
    for (const r of p.records) {
      const s = athenaSpectrum(p, r);
      assert.ok(s.energy.length > 200, `${f} ${r.label}`);
      records++;
    }
    for (const r of [p.records[0], p.records[p.records.length - 1]]) {
      const ref = pythonArrays(path.join(PRJ, f), r.index);
      assert.equal(r.label, ref.label);
      const s = athenaSpectrum(p, r);
      const shift = Number(r.args.get("bkg_eshift") ?? 0);
      assert.equal(s.energy.length, ref.x.length);
      for (let i = 0; i < ref.x.length; i++) {
        assert.ok(Math.abs(s.energy[i] - (ref.x[i] + shift)) < 1e-9, `${f} ${r.label} energy ${i}`);
        assert.equal(s.mu[i], ref.y[i], `${f} ${r.label} mu ${i}`);
      }
    }
  }
  console.log(`athena: ${records} mu(E) records in 8 projects (${counts.join(", ")})`);
  assert.equal(records, 31);
});

test("larch pre_edge reference on the Cu foil of Copper.prj: E0, step, ranges and norm/flat values agree", () => {
  // larch.xafs.pre_edge with default parameters on this Cu foil mu(E) (612 points), as published in the
  // test data of the feffit crate (tests/data/ref_preedge.txt: "pre_edge reference (larch, default params)").
  const p = readAthenaFile(path.join(PRJ, "Copper.prj"));
  const s = athenaSpectrum(p, athenaRecord(p, "cu.012"));
  const r = preEdgeNormalize(s.energy, s.mu, {}, s.source);
  assert.equal(r.e0, 8977.58);
  assert.ok(Math.abs(r.edgeStep - 2.2987522766566517) < 1e-6);
  assert.deepEqual([r.pre1, r.pre2, r.norm1, r.nnorm], [-180, -90, 25, 2]);
  assert.ok(Math.abs(r.norm2 - 2384.89) < 1e-6);
  const norm: [number, number][] = [[0, 0.006099431461700137], [100, 0.2913552634158474], [150, 1.0704552306991935], [300, 0.8877159814322771], [600, 0.6922710962382068]];
  const flat: [number, number][] = [[150, 1.077575867676603], [300, 0.980869109629343], [450, 1.0005932435664078], [600, 0.9935485069896435]];
  for (const [i, v] of norm) assert.ok(Math.abs(r.norm[i] - v) < 1e-6, `norm ${i}: ${r.norm[i]} vs ${v}`);
  for (const [i, v] of flat) assert.ok(Math.abs(r.flat[i] - v) < 1e-6, `flat ${i}: ${r.flat[i]} vs ${v}`);
});

test("Athena: pick by label or index, refuse unknown picks listing records, average aligned scans, refuse misaligned ones", () => {
  const p = readAthenaFile(path.join(PRJ, "Eu_standards_athena.prj"));
  assert.equal(athenaRecord(p, 6).label, "EuO_eu_l3.001");
  assert.equal(athenaRecord(p, "EuO_eu_l3.002").index, 7);
  assert.throws(() => athenaRecord(p, "EuO"), is(/no record labelled "EuO"; records are 0: "EuTiO3_eu_l3\.001" \(mu\)/));
  assert.throws(() => athenaRecord(p, 12), is(/no record 12/));
  const euo = [6, 7, 8, 9].map((i) => athenaRecord(p, i));
  const avg = averageAthenaRecords(p, euo);
  assert.equal(avg.e0s.length, 4);
  assert.ok(Math.max(...avg.e0s) - Math.min(...avg.e0s) <= 0.5);
  // The mean lies between the scans at every point.
  const specs = euo.map((r) => athenaSpectrum(p, r));
  for (let i = 0; i < avg.energy.length; i += 20) {
    const j = specs[0].energy.indexOf(avg.energy[i]);
    const vals = specs.map((s) => s.mu[j]);
    assert.ok(avg.mu[i] >= Math.min(...vals) - 1e-12 && avg.mu[i] <= Math.max(...vals) + 1e-12);
  }
  // EuO (E0 6971) with Eu2O3 (E0 6979.5): not aligned.
  assert.throws(() => averageAthenaRecords(p, [athenaRecord(p, 2), athenaRecord(p, 6)]), is(/are not aligned: E0 6979\.50, 6971\.00 eV/));
});
