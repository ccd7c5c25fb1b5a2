/**
 * Rows as aligned columns under a header, two spaces apart; the last column is not padded (no
 * trailing blanks). Cells are printed as given: callers format numbers and dates.
 */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** One object as `key  value` lines (a single repository, package or status); nested values as JSON. */
export function formatFields(object: Record<string, unknown>): string[] {
  const rows = Object.entries(object).map(([key, value]) => [key, cellText(value)]);
  const width = Math.max(0, ...rows.map(([key]) => key!.length));
  return rows.map(([key, value]) => `${key!.padEnd(width)}  ${value}`.trimEnd());
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value.includes("\n") ? JSON.stringify(value) : value;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
