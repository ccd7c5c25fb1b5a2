import { runTool } from "./run-tool.js";

const F = "\u001f";
const R = "\u001e";

const fields = [
  "NAME",
  "EPOCH",
  "VERSION",
  "RELEASE",
  "ARCH",
  "SUMMARY",
  "DESCRIPTION",
  "URL",
  "LICENSE",
  "VENDOR",
  "GROUP",
  "BUILDHOST",
  "SOURCERPM",
  "PACKAGER",
  "BUILDTIME",
  "LONGSIZE",
  "LONGARCHIVESIZE",
] as const;

export type RpmQuery = Record<(typeof fields)[number] | "SIGNATURE", string> & {
  files: { path: string; mode: number; flags: number }[];
};

const signature =
  "%|DSAHEADER?{%{DSAHEADER:pgpsig}}:{%|RSAHEADER?{%{RSAHEADER:pgpsig}}:{%|SIGGPG?{%{SIGGPG:pgpsig}}:{%|SIGPGP?{%{SIGPGP:pgpsig}}:{(none)}|}|}|}|";

/** What `rpm -qp` reports for each file (C locale, UTC), "(none)" for absent tags. */
export function rpmQuery(paths: string[]): RpmQuery[] {
  const qf = `${fields.map((f) => `%{${f}}`).join(F)}${F}${signature}${F}[%{FILENAMES}\u001d%{FILEMODES}\u001d%{FILEFLAGS}\u001c]${R}`;
  const out = runTool("rpm", ["-qp", "--nosignature", "--nodigest", "--qf", qf, ...paths], {
    env: { TZ: "UTC", LC_ALL: "C.UTF-8" },
  });
  return out
    .split(R)
    .slice(0, -1)
    .map((record) => {
      const parts = record.split(F);
      const q = Object.fromEntries(fields.map((f, i) => [f, parts[i] ?? ""])) as unknown as RpmQuery;
      q.SIGNATURE = parts[fields.length] ?? "";
      q.files = (parts[fields.length + 1] ?? "")
        .split("\u001c")
        .filter((s) => s !== "" && s !== "(none)\u001d(none)\u001d(none)")
        .map((s) => {
          const [path, mode, flags] = s.split("\u001d");
          return { path: path ?? "", mode: Number(mode), flags: Number(flags) };
        });
      return q;
    });
}
