#!/usr/bin/python3
"""Generate lib/elements/elements.json (Z 1-94) from pymatgen's element data.

Run on a machine with Debian's python3-pymatgen (2022.11.7 here):  /usr/bin/python3 scripts/gen-elements.py
The output is committed, so CI and the TypeScript lib never need pymatgen. Sources of every column are
written into the JSON header ("columns") and lib/elements/README.md.
"""
import json
import math
import os
import re

import pymatgen.core
from pymatgen.core.periodic_table import Element
from pymatgen.analysis.molecule_structure_comparator import CovalentRadius

MAX_Z = 94  # H..Pu: every element the Materials Project contains
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib", "elements", "elements.json")
L_OF = {"s": 0, "p": 1, "d": 2, "f": 3}


def num(v):
    """pymatgen keeps missing numbers as None, NaN or "no data"; JSON gets null."""
    if v is None or v == "no data":
        return None
    v = float(v)
    return None if math.isnan(v) else v


def valence_outside_core(el):
    """s/p/d/f electron counts outside the preceding noble-gas core, read from the ground-state
    configuration string (e.g. Pb '[Xe].4f14.5d10.6s2.6p2' -> s2 p2 d10 f14, Pd '[Kr].4d10' -> d10)."""
    text = re.sub(r"</?sup>", "", el.data["Electronic structure"])
    counts = [0, 0, 0, 0]
    for part in text.split("."):
        m = re.fullmatch(r"(\d)([spdf])(\d+)", part)
        if m:
            counts[L_OF[m.group(2)]] += int(m.group(3))
        elif not re.fullmatch(r"\[[A-Z][a-z]?\]", part):
            raise ValueError(f"{el.symbol}: cannot read configuration part {part!r}")
    return counts


def ofm_occupation(el):
    """Subshell occupations used by the orbital field matrix, the rule of matminer's OrbitalFieldMatrix
    (Pham et al. 2017 reference implementation): with n_max the principal number of the last subshell of
    the full ground-state configuration, keep every subshell with n = n_max, d and f with n = n_max - 1,
    and f with n = n_max - 2. Pb -> 6s2 6p2 5d10 4f14; Cu -> 4s1 3d10; La -> 6s2 5d1."""
    conf = el.full_electronic_structure
    n_max = conf[-1][0]
    counts = [0, 0, 0, 0]
    for n, l, occ in conf:
        keep = n == n_max or (n == n_max - 1 and l in "df") or (n == n_max - 2 and l == "f")
        if keep:
            counts[L_OF[l]] = occ  # one subshell of each l survives the rule
    return counts


def main():
    records = []
    for z in range(1, MAX_Z + 1):
        el = Element.from_Z(z)
        d = el.data
        ion = d.get("Ionization energies") or []
        records.append(
            {
                "Z": z,
                "symbol": el.symbol,
                "name": d["Name"],
                "atomicMass": num(d["Atomic mass"]),
                "period": int(el.row),
                "group": int(el.group),
                "block": el.block,
                "electronegativity": num(d.get("X")),
                "covalentRadius": num(CovalentRadius.radius.get(el.symbol)),
                "atomicRadius": num(d.get("Atomic radius")),
                "ionizationEnergy": num(ion[0]) if ion else None,
                "electronAffinity": num(d.get("Electron affinity")),
                "mendeleevNumber": num(d.get("Mendeleev no")),
                "valence": valence_outside_core(el),
                "ofmOccupation": ofm_occupation(el),
            }
        )
    header = {
        "generator": "scripts/gen-elements.py",
        "pymatgen": pymatgen.core.__version__,
        "licence": "pymatgen data, MIT licence (Materials Virtual Lab); Cordero radii as tabulated in pymatgen",
        "columns": {
            "Z, symbol, name, atomicMass": "pymatgen periodic_table.json 'Atomic no', symbol, 'Name', 'Atomic mass' (u)",
            "period, group, block": "pymatgen Element.row / .group / .block (lanthanides and actinides: group 3)",
            "electronegativity": "pymatgen 'X': Pauling electronegativity; null for He, Ne, Ar",
            "covalentRadius": "Cordero et al., Dalton Trans. 2008, 2832 (Å), as pymatgen.analysis.molecule_structure_comparator.CovalentRadius (C sp2 0.73; Mn, Fe, Co mean of low/high spin)",
            "atomicRadius": "pymatgen 'Atomic radius' (Å; empirical, Slater 1964)",
            "ionizationEnergy": "pymatgen 'Ionization energies'[0] (eV, NIST)",
            "electronAffinity": "pymatgen 'Electron affinity' (eV)",
            "mendeleevNumber": "pymatgen 'Mendeleev no' (Pettifor)",
            "valence": "[s, p, d, f] electron counts outside the preceding noble-gas core, from pymatgen 'Electronic structure'",
            "ofmOccupation": "[s, p, d, f] occupations of the subshells the orbital field matrix encodes (matminer OrbitalFieldMatrix rule, see ofm_occupation)",
        },
    }
    with open(OUT, "w") as f:
        f.write("{\n")
        f.write('"header": ' + json.dumps(header, ensure_ascii=False) + ",\n")
        f.write('"elements": [\n')
        f.write(",\n".join(json.dumps(r, ensure_ascii=False) for r in records))
        f.write("\n]\n}\n")
    print(f"wrote {len(records)} elements to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
