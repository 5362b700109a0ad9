/** Element symbols in order of atomic number (index 0 = H). */
export const ELEMENT_SYMBOLS: readonly string[] = (
  "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr " +
  "Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb " +
  "Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr " +
  "Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og"
).split(" ");

const Z_BY_SYMBOL = new Map<string, number>(ELEMENT_SYMBOLS.map((s, i) => [s, i + 1]));

/** True for a recognised element symbol (case-sensitive: "Cu", not "CU"). */
export function isElementSymbol(symbol: string): boolean {
  return Z_BY_SYMBOL.has(symbol);
}

/** Atomic number of `symbol`, or throws naming the symbol and where it came from. */
export function atomicNumber(symbol: string, where = ""): number {
  const z = Z_BY_SYMBOL.get(symbol);
  if (z === undefined) throw new Error(`unknown element symbol "${symbol}"${where ? ` (${where})` : ""}`);
  return z;
}
