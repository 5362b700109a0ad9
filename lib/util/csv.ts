function csvField(v: unknown): string {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV text (RFC 4180 quoting; null/undefined → empty field) of `records`, header row first. */
export function recordsToCsv<T>(records: readonly T[], columns: readonly (keyof T & string)[]): string {
  const lines = [columns.join(",")];
  for (const r of records) lines.push(columns.map((c) => csvField(r[c])).join(","));
  return lines.join("\n") + "\n";
}
