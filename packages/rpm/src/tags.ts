/**
 * RPM header data types and the tags this package reads (numbers from rpm's `rpmtag.h`).
 */
export const RpmType = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;
export type RpmTypeCode = (typeof RpmType)[keyof typeof RpmType];

export const rpmTypeNames: readonly string[] = [
  "NULL",
  "CHAR",
  "INT8",
  "INT16",
  "INT32",
  "INT64",
  "STRING",
  "BIN",
  "STRING_ARRAY",
  "I18NSTRING",
];

/** Size in bytes of one element of a fixed-size type (0: variable or unusable). */
export const rpmTypeSizes: readonly number[] = [0, 1, 1, 2, 4, 8, 0, 1, 0, 0];

/** Tags of the main header. */
export const Tag = {
  HEADERIMAGE: 61,
  HEADERSIGNATURES: 62,
  HEADERIMMUTABLE: 63,
  HEADERI18NTABLE: 100,
  LONGARCHIVESIZE: 271,
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  DESCRIPTION: 1005,
  BUILDTIME: 1006,
  BUILDHOST: 1007,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  PACKAGER: 1015,
  GROUP: 1016,
  URL: 1020,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  FILEMODES: 1030,
  FILEFLAGS: 1037,
  SOURCERPM: 1044,
  ARCHIVESIZE: 1046,
  PROVIDENAME: 1047,
  REQUIREFLAGS: 1048,
  REQUIRENAME: 1049,
  REQUIREVERSION: 1050,
  CONFLICTFLAGS: 1053,
  CONFLICTNAME: 1054,
  CONFLICTVERSION: 1055,
  CHANGELOGTIME: 1080,
  CHANGELOGNAME: 1081,
  CHANGELOGTEXT: 1082,
  OBSOLETENAME: 1090,
  SOURCEPACKAGE: 1106,
  PROVIDEFLAGS: 1112,
  PROVIDEVERSION: 1113,
  OBSOLETEFLAGS: 1114,
  OBSOLETEVERSION: 1115,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  OLDSUGGESTSNAME: 1156,
  OLDSUGGESTSVERSION: 1157,
  OLDSUGGESTSFLAGS: 1158,
  OLDENHANCESNAME: 1159,
  OLDENHANCESVERSION: 1160,
  OLDENHANCESFLAGS: 1161,
  LONGSIZE: 5009,
  /** Digest of the payload as stored (compressed), hex; algorithm in PAYLOADDIGESTALGO. */
  PAYLOADDIGEST: 5092,
  PAYLOADDIGESTALGO: 5093,
  /** Digest of the uncompressed payload (rpm 4.16+): not checked, it needs decompression. */
  PAYLOADDIGESTALT: 5097,
  RECOMMENDNAME: 5046,
  RECOMMENDVERSION: 5047,
  RECOMMENDFLAGS: 5048,
  SUGGESTNAME: 5049,
  SUGGESTVERSION: 5050,
  SUGGESTFLAGS: 5051,
  SUPPLEMENTNAME: 5052,
  SUPPLEMENTVERSION: 5053,
  SUPPLEMENTFLAGS: 5054,
  ENHANCENAME: 5055,
  ENHANCEVERSION: 5056,
  ENHANCEFLAGS: 5057,
} as const;

/** Tags of the signature header (`RPMSIGTAG_*`). */
export const SigTag = {
  HEADERSIGNATURES: 62,
  DSA: 267,
  RSA: 268,
  SHA1: 269,
  LONGSIZE: 270,
  LONGARCHIVESIZE: 271,
  SHA256: 273,
  FILESIGNATURES: 274,
  FILESIGNATURELENGTH: 275,
  VERITYSIGNATURES: 276,
  VERITYSIGNATUREALGO: 277,
  OPENPGP: 278,
  SIZE: 1000,
  PGP: 1002,
  MD5: 1004,
  GPG: 1005,
  PAYLOADSIZE: 1007,
  RESERVEDSPACE: 1008,
} as const;

const S = RpmType.STRING;
const SA = RpmType.STRING_ARRAY;
const I18N = RpmType.I18NSTRING;
const I16 = RpmType.INT16;
const I32 = RpmType.INT32;
const I64 = RpmType.INT64;
const BIN = RpmType.BIN;

interface TagInfo {
  name: string;
  type: RpmTypeCode;
}

function table(entries: [number, string, RpmTypeCode][]): ReadonlyMap<number, TagInfo> {
  return new Map(entries.map(([tag, name, type]) => [tag, { name, type }]));
}

/** Expected types of the main-header tags we read (rpm's tag table, `rpmtag.h` comments). */
export const mainTagInfo = table([
  [Tag.LONGARCHIVESIZE, "LONGARCHIVESIZE", I64],
  [Tag.NAME, "NAME", S],
  [Tag.VERSION, "VERSION", S],
  [Tag.RELEASE, "RELEASE", S],
  [Tag.EPOCH, "EPOCH", I32],
  [Tag.SUMMARY, "SUMMARY", I18N],
  [Tag.DESCRIPTION, "DESCRIPTION", I18N],
  [Tag.BUILDTIME, "BUILDTIME", I32],
  [Tag.BUILDHOST, "BUILDHOST", S],
  [Tag.SIZE, "SIZE", I32],
  [Tag.VENDOR, "VENDOR", S],
  [Tag.LICENSE, "LICENSE", S],
  [Tag.PACKAGER, "PACKAGER", S],
  [Tag.GROUP, "GROUP", I18N],
  [Tag.URL, "URL", S],
  [Tag.ARCH, "ARCH", S],
  [Tag.OLDFILENAMES, "OLDFILENAMES", SA],
  [Tag.FILEMODES, "FILEMODES", I16],
  [Tag.FILEFLAGS, "FILEFLAGS", I32],
  [Tag.SOURCERPM, "SOURCERPM", S],
  [Tag.ARCHIVESIZE, "ARCHIVESIZE", I32],
  [Tag.PROVIDENAME, "PROVIDENAME", SA],
  [Tag.REQUIREFLAGS, "REQUIREFLAGS", I32],
  [Tag.REQUIRENAME, "REQUIRENAME", SA],
  [Tag.REQUIREVERSION, "REQUIREVERSION", SA],
  [Tag.CONFLICTFLAGS, "CONFLICTFLAGS", I32],
  [Tag.CONFLICTNAME, "CONFLICTNAME", SA],
  [Tag.CONFLICTVERSION, "CONFLICTVERSION", SA],
  [Tag.CHANGELOGTIME, "CHANGELOGTIME", I32],
  [Tag.CHANGELOGNAME, "CHANGELOGNAME", SA],
  [Tag.CHANGELOGTEXT, "CHANGELOGTEXT", SA],
  [Tag.OBSOLETENAME, "OBSOLETENAME", SA],
  [Tag.SOURCEPACKAGE, "SOURCEPACKAGE", I32],
  [Tag.PROVIDEFLAGS, "PROVIDEFLAGS", I32],
  [Tag.PROVIDEVERSION, "PROVIDEVERSION", SA],
  [Tag.OBSOLETEFLAGS, "OBSOLETEFLAGS", I32],
  [Tag.OBSOLETEVERSION, "OBSOLETEVERSION", SA],
  [Tag.DIRINDEXES, "DIRINDEXES", I32],
  [Tag.BASENAMES, "BASENAMES", SA],
  [Tag.DIRNAMES, "DIRNAMES", SA],
  [Tag.OLDSUGGESTSNAME, "OLDSUGGESTSNAME", SA],
  [Tag.OLDSUGGESTSVERSION, "OLDSUGGESTSVERSION", SA],
  [Tag.OLDSUGGESTSFLAGS, "OLDSUGGESTSFLAGS", I32],
  [Tag.OLDENHANCESNAME, "OLDENHANCESNAME", SA],
  [Tag.OLDENHANCESVERSION, "OLDENHANCESVERSION", SA],
  [Tag.OLDENHANCESFLAGS, "OLDENHANCESFLAGS", I32],
  [Tag.LONGSIZE, "LONGSIZE", I64],
  [Tag.PAYLOADDIGEST, "PAYLOADDIGEST", SA],
  [Tag.PAYLOADDIGESTALGO, "PAYLOADDIGESTALGO", I32],
  [Tag.PAYLOADDIGESTALT, "PAYLOADDIGESTALT", SA],
  [Tag.RECOMMENDNAME, "RECOMMENDNAME", SA],
  [Tag.RECOMMENDVERSION, "RECOMMENDVERSION", SA],
  [Tag.RECOMMENDFLAGS, "RECOMMENDFLAGS", I32],
  [Tag.SUGGESTNAME, "SUGGESTNAME", SA],
  [Tag.SUGGESTVERSION, "SUGGESTVERSION", SA],
  [Tag.SUGGESTFLAGS, "SUGGESTFLAGS", I32],
  [Tag.SUPPLEMENTNAME, "SUPPLEMENTNAME", SA],
  [Tag.SUPPLEMENTVERSION, "SUPPLEMENTVERSION", SA],
  [Tag.SUPPLEMENTFLAGS, "SUPPLEMENTFLAGS", I32],
  [Tag.ENHANCENAME, "ENHANCENAME", SA],
  [Tag.ENHANCEVERSION, "ENHANCEVERSION", SA],
  [Tag.ENHANCEFLAGS, "ENHANCEFLAGS", I32],
]);

/**
 * Signature-header tags with the type and count rpm insists on when it merges them into the
 * main header (`xlateTags` in rpm's lib/package.c); count 0 means "any".
 */
export const sigTagInfo: ReadonlyMap<number, TagInfo & { count: number }> = new Map(
  (
    [
      [SigTag.SIZE, "SIZE", I32, 1],
      [SigTag.PGP, "PGP", BIN, 0],
      [SigTag.MD5, "MD5", BIN, 16],
      [SigTag.GPG, "GPG", BIN, 0],
      [SigTag.PAYLOADSIZE, "PAYLOADSIZE", I32, 1],
      [SigTag.FILESIGNATURES, "FILESIGNATURES", SA, 0],
      [SigTag.FILESIGNATURELENGTH, "FILESIGNATURELENGTH", I32, 1],
      [SigTag.VERITYSIGNATURES, "VERITYSIGNATURES", SA, 0],
      [SigTag.VERITYSIGNATUREALGO, "VERITYSIGNATUREALGO", I32, 1],
      [SigTag.SHA1, "SHA1", S, 1],
      [SigTag.SHA256, "SHA256", S, 1],
      [SigTag.DSA, "DSAHEADER", BIN, 0],
      [SigTag.RSA, "RSAHEADER", BIN, 0],
      [SigTag.LONGSIZE, "LONGSIZE", I64, 1],
      [SigTag.LONGARCHIVESIZE, "LONGARCHIVESIZE", I64, 1],
    ] as [number, string, RpmTypeCode, number][]
  ).map(([tag, name, type, count]) => [tag, { name, type, count }]),
);

/** "1004 (SUMMARY)" for messages. */
export function describeTag(tag: number, kind: "main" | "signature"): string {
  const info = kind === "main" ? mainTagInfo.get(tag) : sigTagInfo.get(tag);
  return info ? `${tag} (${info.name})` : String(tag);
}

export function typeName(type: number): string {
  return rpmTypeNames[type] ?? `unknown type ${type}`;
}

export function isStringType(type: number): boolean {
  return type === RpmType.STRING || type === RpmType.STRING_ARRAY || type === RpmType.I18NSTRING;
}
