import { type DependencyFlag, flagToString, isPreDependency, RpmSense } from "./dependency-flags.js";
import { splitEvr } from "./evr.js";
import type { RpmHeader } from "./header-reader.js";
import { isPrimaryFile } from "./primary-files.js";
import { rpmVersionCompare } from "./rpm-version-compare.js";
import { Tag } from "./tags.js";

/** A dependency as createrepo_c keeps it, strings still binary (one code unit per byte). */
export interface RawDependency {
  name: string;
  flags?: DependencyFlag;
  epoch?: string;
  version?: string;
  release?: string;
  pre?: boolean;
}

export const dependencyKinds = [
  "provides",
  "requires",
  "conflicts",
  "obsoletes",
  "suggests",
  "enhances",
  "recommends",
  "supplements",
] as const;
export type DependencyKind = (typeof dependencyKinds)[number];
export type RawDependencies = Record<DependencyKind, RawDependency[]>;

type Source =
  | "provides"
  | "conflicts"
  | "obsoletes"
  | "requires"
  | "suggests"
  | "enhances"
  | "recommends"
  | "supplements"
  | "oldsuggests"
  | "oldenhances";

/** createrepo_c's processing order (`dep_items` in parsehdr.c): provides first, so requires can skip them. */
const sources: [Source, number, number, number][] = [
  ["provides", Tag.PROVIDENAME, Tag.PROVIDEFLAGS, Tag.PROVIDEVERSION],
  ["conflicts", Tag.CONFLICTNAME, Tag.CONFLICTFLAGS, Tag.CONFLICTVERSION],
  ["obsoletes", Tag.OBSOLETENAME, Tag.OBSOLETEFLAGS, Tag.OBSOLETEVERSION],
  ["requires", Tag.REQUIRENAME, Tag.REQUIREFLAGS, Tag.REQUIREVERSION],
  ["suggests", Tag.SUGGESTNAME, Tag.SUGGESTFLAGS, Tag.SUGGESTVERSION],
  ["enhances", Tag.ENHANCENAME, Tag.ENHANCEFLAGS, Tag.ENHANCEVERSION],
  ["recommends", Tag.RECOMMENDNAME, Tag.RECOMMENDFLAGS, Tag.RECOMMENDVERSION],
  ["supplements", Tag.SUPPLEMENTNAME, Tag.SUPPLEMENTFLAGS, Tag.SUPPLEMENTVERSION],
  ["oldsuggests", Tag.OLDSUGGESTSNAME, Tag.OLDSUGGESTSFLAGS, Tag.OLDSUGGESTSVERSION],
  ["oldenhances", Tag.OLDENHANCESNAME, Tag.OLDENHANCESFLAGS, Tag.OLDENHANCESVERSION],
];

const LIBC = "libc.so.6";

/**
 * createrepo_c's `cr_compare_dependency` for two `libc.so.6(...)` names: true when `b` carries
 * the higher symbol version (createrepo_c keeps only the highest libc.so.6 requirement).
 */
function libcIsHigher(a: string, b: string): boolean {
  if (a === b) return false;
  let p1 = a.indexOf("(");
  let p2 = b.indexOf("(");
  if (p1 < 0 && p2 < 0) return false;
  if (p1 < 0) return true;
  if (p2 < 0) return false;
  const e1 = a.indexOf(")", p1);
  const e2 = b.indexOf(")", p2);
  if (e1 < 0 && e2 < 0) return false;
  if (e1 < 0) return true;
  if (e2 < 0) return false;
  p1++;
  p2++;
  if (p1 === e1 && p2 === e2) return false;
  if (p1 === e1) return true;
  if (p2 === e2) return false;
  const isDigit = (s: string, k: number) => s.charCodeAt(k) >= 0x30 && s.charCodeAt(k) <= 0x39;
  while (p1 < a.length && !isDigit(a, p1)) p1++;
  while (p2 < b.length && !isDigit(b, p2)) p2++;
  if (p1 > e1 && p2 > e2) return false;
  if (p1 > e1) return true;
  if (p2 > e2) return false;
  return rpmVersionCompare(a.slice(p1, e1), b.slice(p2, e2)) === -1;
}

/**
 * Dependencies exactly as createrepo_c 0.17 puts them in primary.xml (`cr_package_from_header`):
 * - requires drop `rpmlib(...)`, absolute paths the package itself ships when they are "primary"
 *   files (/etc/..., *bin/..., /usr/lib/sendmail), and anything the package provides with the
 *   same name, flags and version (e.g. `config(x) = v`);
 * - a require identical (flags, version, pre) to the previous require of the same name is dropped;
 * - `pre` for PREREQ / %pre / %post requirements;
 * - of all `libc.so.6*` requires only the highest symbol version is kept, and it goes last;
 * - requires flagged MISSINGOK become recommends; legacy OLDSUGGESTS/OLDENHANCES become
 *   recommends/suggests and supplements/enhances depending on the STRONG bit;
 * - a dependency whose version has a non-numeric epoch is dropped.
 * @param packageFiles full paths of the package's files (binary strings)
 */
export function collectDependencies(header: RpmHeader, packageFiles: ReadonlySet<string>): RawDependencies {
  const out: RawDependencies = {
    provides: [],
    requires: [],
    conflicts: [],
    obsoletes: [],
    suggests: [],
    enhances: [],
    recommends: [],
    supplements: [],
  };
  const provided = new Set<string>();
  const lastRequire = new Map<string, { flags: string | undefined; version: string; pre: boolean }>();

  for (const [source, nameTag, flagsTag, versionTag] of sources) {
    const names = header.strings(nameTag);
    const flagsList = header.numbers(flagsTag);
    const versions = header.strings(versionTag);
    if (!names || !flagsList || !versions) continue;
    const n = Math.min(names.length, flagsList.length, versions.length);
    let libcHighest: RawDependency | undefined;
    for (let i = 0; i < n; i++) {
      const name = names[i]!;
      const numFlags = flagsList[i]!;
      const fullVersion = versions[i]!;
      const flags = flagToString(numFlags);
      const nfv = name + (flags ?? "") + fullVersion;
      let pre = false;
      if (source === "requires") {
        if (name.startsWith("rpmlib(")) continue;
        if (name.startsWith("/") && packageFiles.has(name) && isPrimaryFile(name)) continue;
        if (provided.has(nfv)) continue;
        pre = isPreDependency(numFlags);
        const last = lastRequire.get(name);
        if (last && last.flags === flags && last.version === fullVersion && last.pre === pre) continue;
      }
      const evr = splitEvr(fullVersion);
      if (evr === null) continue;
      const dep: RawDependency = { name };
      if (flags) dep.flags = flags;
      if (evr.epoch !== undefined) dep.epoch = evr.epoch;
      if (evr.version !== undefined) dep.version = evr.version;
      if (evr.release !== undefined) dep.release = evr.release;
      switch (source) {
        case "provides":
          provided.add(nfv);
          out.provides.push(dep);
          break;
        case "requires":
          if (numFlags & RpmSense.MISSINGOK) {
            out.recommends.push(dep);
            break;
          }
          if (pre) dep.pre = true;
          if (name.startsWith(LIBC)) {
            if (!libcHighest || libcIsHigher(libcHighest.name, name)) libcHighest = dep;
            break;
          }
          out.requires.push(dep);
          lastRequire.set(name, { flags, version: fullVersion, pre });
          break;
        case "oldsuggests":
          (numFlags & RpmSense.STRONG ? out.recommends : out.suggests).push(dep);
          break;
        case "oldenhances":
          (numFlags & RpmSense.STRONG ? out.supplements : out.enhances).push(dep);
          break;
        default:
          out[source].push(dep);
      }
    }
    if (libcHighest) out.requires.push(libcHighest);
  }
  return out;
}
