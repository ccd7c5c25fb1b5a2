import { RpmType } from "../tags.js";
import { basicMain, type CraftEntry, craftRpm } from "./crafted-rpm.js";

const S = RpmType.STRING;
const SA = RpmType.STRING_ARRAY;
const I18N = RpmType.I18NSTRING;
const I16 = RpmType.INT16;
const I32 = RpmType.INT32;
const I64 = RpmType.INT64;

const EQ = 8;
const LT = 2;
const GT = 4;
const LE = 10;
const GE = 12;
const PREREQ = 1 << 6;
const SCRIPT_PRE = 1 << 9;
const SCRIPT_POST = 1 << 10;
const FIND_REQUIRES = 1 << 14;
const MISSINGOK = 1 << 19;
const RPMLIB = 1 << 24;
const STRONG = 1 << 27;

function deps(nameTag: number, list: [name: string, flags: number, version: string][]): CraftEntry[] {
  return [
    { tag: nameTag, type: SA, value: list.map((d) => d[0]) },
    { tag: flagsTagOf(nameTag), type: I32, value: list.map((d) => d[1]) },
    { tag: versionTagOf(nameTag), type: SA, value: list.map((d) => d[2]) },
  ];
}

/** name tag → [flags tag, version tag] for every dependency kind. */
const depTags: Record<number, [number, number]> = {
  1047: [1112, 1113],
  1049: [1048, 1050],
  1054: [1053, 1055],
  1090: [1114, 1115],
  1156: [1158, 1157],
  1159: [1161, 1160],
  5046: [5048, 5047],
  5049: [5051, 5050],
  5052: [5054, 5053],
  5055: [5057, 5056],
};
const flagsTagOf = (t: number) => depTags[t]![0];
const versionTagOf = (t: number) => depTags[t]![1];

const DIR = 0o040755;
const REG = 0o100644;

function files(list: [path: string, mode: number, flags: number][]): CraftEntry[] {
  const dirs: string[] = [];
  const indexes: number[] = [];
  const bases: string[] = [];
  for (const [path] of list) {
    const slash = path.lastIndexOf("/");
    const dir = path.slice(0, slash + 1);
    let i = dirs.indexOf(dir);
    if (i < 0) i = dirs.push(dir) - 1;
    indexes.push(i);
    bases.push(path.slice(slash + 1));
  }
  return [
    { tag: 1030, type: I16, value: list.map((f) => f[1]) },
    { tag: 1037, type: I32, value: list.map((f) => f[2]) },
    { tag: 1116, type: I32, value: indexes },
    { tag: 1117, type: SA, value: bases },
    { tag: 1118, type: SA, value: dirs },
  ];
}

function changelog(list: [time: number, author: string, text: string][]): CraftEntry[] {
  return [
    { tag: 1080, type: I32, value: list.map((c) => c[0]) },
    { tag: 1081, type: SA, value: list.map((c) => c[1]) },
    { tag: 1082, type: SA, value: list.map((c) => c[2]) },
  ];
}

export interface CraftedPackage {
  file: string;
  bytes: Buffer;
  /** What it exercises. */
  about: string;
}

/**
 * Hand-made RPMs for createrepo_c rules rpmbuild 4.18 cannot produce: legacy weak
 * dependencies, MISSINGOK requires, non-UTF-8 text, odd version strings, legacy file lists,
 * source detection without SOURCERPM, 64-bit sizes, dependency de-duplication edge cases.
 * All of them index cleanly with createrepo_c.
 */
export function craftedCorpus(): CraftedPackage[] {
  const out: CraftedPackage[] = [];
  const add = (name: string, about: string, main: CraftEntry[], signature?: CraftEntry[]) => {
    out.push({
      file: `${name}-1.0-1.noarch.rpm`,
      bytes: craftRpm({ main: basicMain(name, main), signature }),
      about,
    });
  };

  add(
    "weakdeps",
    "legacy OLDSUGGESTS/OLDENHANCES with and without STRONG, MISSINGOK requires, new-style weak deps",
    [
      ...deps(1156, [
        ["old-suggest", 0, ""],
        ["old-strong-suggest", STRONG | GE, "2.0"],
      ]),
      ...deps(1159, [
        ["old-enhance", EQ, "1:1.0-1"],
        ["old-strong-enhance", STRONG, ""],
      ]),
      ...deps(1049, [
        ["hard-req", 0, ""],
        ["missingok-req", MISSINGOK | GT, "3"],
      ]),
      ...deps(5046, [["new-recommend", LT, "4"]]),
      ...deps(5049, [["new-suggest", 0, ""]]),
      ...deps(5052, [["new-supplement", LE, "5"]]),
      ...deps(5055, [["new-enhance", GE, "6"]]),
    ],
  );

  add("latin1", "strings that are not UTF-8 are converted like ISO-8859-1, dropping C1 bytes", [
    { tag: 1004, type: I18N, value: ["Caf\xe9 cr\xe8me \x85 na\xefve"] },
    { tag: 1005, type: I18N, value: ["Line one \xe0 la\nline two \xff"] },
    { tag: 1015, type: S, value: "J\xfcrgen <j@example.invalid>" },
    ...files([
      ["/usr/share/latin1", DIR, 0],
      ["/usr/share/latin1/caf\xe9.txt", REG, 0],
      ["/usr/share/latin1/ok-\xc3\xa9.txt", REG, 0],
    ]),
    ...changelog([[1700000000, "J\xfcrgen \xe9 <j@example.invalid>", "- caf\xe9"]]),
    ...deps(1049, [["perl(Caf\xe9)", 0, ""]]),
  ]);

  add("libc", "only the highest libc.so.6 symbol version is kept, and it goes last", [
    ...deps(1049, [
      ["libc.so.6", 0, ""],
      ["libc.so.6(GLIBC_2.3.4)(64bit)", 0, ""],
      ["aaa-first", 0, ""],
      ["libc.so.6(GLIBC_2.10)(64bit)", 0, ""],
      ["libc.so.6(GLIBC_PRIVATE)(64bit)", 0, ""],
      ["libc.so.6(GLIBC_2.4)(64bit)", 0, ""],
      ["zzz-last", 0, ""],
    ]),
  ]);

  add(
    "evr",
    "version strings: bad epochs, empty parts, several dashes, flags without version and vice versa",
    [
      ...deps(1049, [
        ["bad-epoch", EQ, "x:1.0"],
        ["epoch-only", EQ, "1:"],
        ["empty-epoch", EQ, ":1.0"],
        ["dashes", GE, "1.0-2-3"],
        ["no-version", EQ, "-1"],
        ["space-epoch", EQ, " 2:3"],
        ["plus-epoch", EQ, "+5:1"],
        ["flags-no-version", GE, ""],
        ["version-no-flags", 0, "1.0"],
        ["extra-flag-bits", EQ | FIND_REQUIRES, "2.0"],
        ["", 0, ""],
        ["trailing-dash", EQ, "1.0-"],
      ]),
      ...deps(1054, [["conflict-bad-epoch", LT, "a:1"]]),
    ],
  );

  add("requires", "rpmlib, provided, primary-file, duplicate and pre requires", [
    ...files([
      ["/etc/requires.conf", REG, 0],
      ["/opt/tool/bin/run", REG, 0],
      ["/usr/lib/sendmail", REG, 0],
      ["/usr/share/requires/data", REG, 0],
    ]),
    ...deps(1047, [
      ["requires", EQ, "1.0-1"],
      ["provided-cap", EQ, "1.0"],
    ]),
    ...deps(1049, [
      ["/etc/requires.conf", 0, ""],
      ["/opt/tool/bin/run", 0, ""],
      ["/usr/lib/sendmail", 0, ""],
      ["/usr/share/requires/data", 0, ""],
      ["/etc/not-shipped.conf", 0, ""],
      ["dup", 0, ""],
      ["dup", FIND_REQUIRES, ""],
      ["dup", PREREQ, ""],
      ["dup", 0, ""],
      ["post", SCRIPT_POST, ""],
      ["pre", SCRIPT_PRE | GE, "1"],
      ["provided-cap", EQ, "1.0"],
      ["provided-cap", GE, "1.0"],
      ["rpmlib(PayloadIsXz)", RPMLIB | LE, "5.2-1"],
    ]),
  ]);

  add("legacyfiles", "a legacy OLDFILENAMES list", [
    { tag: 1027, type: SA, value: ["/usr/share/legacy", "/usr/share/legacy/a", "/usr/bin/legacy"] },
    { tag: 1030, type: I16, value: [DIR, REG, 0o100755] },
    { tag: 1037, type: I32, value: [0, 64, 0] },
  ]);

  // No SOURCERPM and no SOURCEPACKAGE: rpm decides from the file list.
  const noSourceRpm = basicMain("nosrcheuristic", [
    ...files([
      ["nosrcheuristic.spec", REG, 0],
      ["nosrcheuristic.tar.gz", REG, 0],
    ]),
  ]).filter((e) => e.tag !== 1044);
  out.push({
    file: "nosrcheuristic-1.0-1.src.rpm",
    bytes: craftRpm({ main: noSourceRpm, leadType: 1 }),
    about: "a source package recognised from its file list",
  });
  const noneSourceRpm = basicMain("nonesource", [...files([["/usr/share/nonesource", REG, 0]])]).filter(
    (e) => e.tag !== 1044,
  );
  out.push({
    file: "nonesource-1.0-1.noarch.rpm",
    bytes: craftRpm({ main: noneSourceRpm }),
    about: 'a binary package without SOURCERPM gets "(none)"',
  });
  out.push({
    file: "srcpkg-1.0-1.src.rpm",
    bytes: craftRpm({
      main: basicMain("srcpkg", [
        { tag: 1106, type: I32, value: [1] },
        { tag: 1022, type: S, value: "x86_64" },
      ]).filter((e) => e.tag !== 1044),
      leadType: 1,
    }),
    about: "SOURCEPACKAGE makes arch src",
  });

  add(
    "longsizes",
    "64-bit LONGSIZE and LONGARCHIVESIZE, an epoch, I18N strings with several locales",
    [
      { tag: 100, type: SA, value: ["C", "de"] },
      { tag: 1003, type: I32, value: [3] },
      { tag: 1004, type: I18N, value: ["English summary", "Deutsche Zusammenfassung"] },
      { tag: 5009, type: I64, value: [5_000_000_000n] },
    ],
    [{ tag: 271, type: I64, value: [6_000_000_000n] }],
  );

  add(
    "archivesize",
    "32-bit sizes: PAYLOADSIZE from the signature header",
    [],
    [{ tag: 1007, type: I32, value: [4242] }],
  );

  add("changelog", "more entries than the limit, equal timestamps, trailing spaces, CR and tabs", [
    ...changelog([
      [1700000300, "Newest <n@example.invalid> - 13", "- thirteen\r\nwith CR"],
      [1700000300, "Same <s@example.invalid> - 12", "- twelve"],
      [1700000300, "Same <s@example.invalid> - 11", "- eleven"],
      [1700000200, "Tab\there <t@example.invalid>   ", "- ten\twith tab"],
      [1700000200, "Line\nbreak <l@example.invalid>", "- nine"],
      [1700000100, "A", "- eight"],
      [1700000100, "A ", "- seven"],
      [1700000099, " ", "- six"],
      [1700000098, "", "- five"],
      [1700000097, "B <b@example.invalid>", "- four"],
      [1700000097, "B <b@example.invalid>", "- three (beyond the limit)"],
      [1700000096, "C", "- two"],
      [1700000095, "D", "- one"],
    ]),
  ]);

  add("mismatch", "dependency arrays of different lengths: createrepo_c stops at the shortest", [
    { tag: 1049, type: SA, value: ["a", "b", "c"] },
    { tag: 1048, type: I32, value: [0, GE] },
    { tag: 1050, type: SA, value: ["", "1", "2", "3"] },
  ]);

  add("emptydeps", "a dependency list whose only entry has an empty name", [...deps(1054, [["", 0, ""]])]);

  add("noncharacters", "U+FFFE in attribute values (libxml2 writes byte references)", [
    ...deps(1047, [
      ["noncharacters", EQ, "1.0-1"],
      ["odd\xef\xbf\xbename", 0, ""],
    ]),
  ]);

  return out;
}
