import { YumError } from "@beskar-yum/errors";
import { unescapeXml } from "./xml-unescape.js";

const OPEN = "<package ";
const CLOSE = "</package>";
const PACKAGE_PKGID = '<package pkgid="';

/**
 * Calls `visit` with the byte range of every `<package ...>...</package>` element of an
 * uncompressed primary, filelists or other document (with the newline after it). The search
 * runs on a latin1 view of the bytes, where string offsets are byte offsets and `indexOf`
 * costs no call into C++. XML escapes `<` in text and attributes, so these markers only ever
 * start or end an element; `<package>` elements do not nest. Throws REPODATA_INVALID on an
 * unterminated element.
 */
function scanPackages(
  doc: Buffer,
  what: string,
  visit: (text: string, start: number, end: number) => void,
): void {
  const text = doc.toString("latin1");
  let pos = text.indexOf(OPEN);
  while (pos >= 0) {
    const close = text.indexOf(CLOSE, pos + OPEN.length);
    if (close < 0) {
      throw new YumError("REPODATA_INVALID", `${what}: <package> at byte ${pos} is never closed`, {
        offset: pos,
      });
    }
    let end = close + CLOSE.length;
    if (text.charCodeAt(end) === 0x0a) end++;
    visit(text, pos, end);
    pos = text.indexOf(OPEN, end);
  }
}

/**
 * The `<package ...>...</package>` elements of an uncompressed primary, filelists or other
 * document, each with the newline that follows it, as views into `doc` (nothing is copied).
 */
export function packageFragments(doc: Buffer, what = "metadata"): Buffer[] {
  const out: Buffer[] = [];
  scanPackages(doc, what, (_, start, end) => out.push(doc.subarray(start, end)));
  return out;
}

/** A `<package>` element of filelists.xml or other.xml and its pkgid. */
export interface PkgidFragment {
  bytes: Buffer;
  pkgid: string;
}

/** `packageFragments` of a filelists or other document, with each package's pkgid. */
export function pkgidFragments(doc: Buffer, what = "metadata"): PkgidFragment[] {
  const out: PkgidFragment[] = [];
  scanPackages(doc, what, (text, start, end) => {
    const bytes = doc.subarray(start, end);
    let pkgid: string | undefined;
    if (text.startsWith(PACKAGE_PKGID, start)) {
      const close = text.indexOf('"', start + PACKAGE_PKGID.length);
      if (close > start + PACKAGE_PKGID.length && close < end)
        pkgid = text.slice(start + PACKAGE_PKGID.length, close);
    }
    out.push({ bytes, pkgid: pkgid ?? fragmentPkgid(bytes) });
  });
  return out;
}

/** A `<package>` element of primary.xml and what `--update` keys on. */
export interface PrimaryFragment {
  bytes: Buffer;
  info: PrimaryFragmentInfo;
}

/** `packageFragments` of a primary document, each read with `primaryFragmentInfo`. */
export function primaryFragments(doc: Buffer, what = "primary.xml"): PrimaryFragment[] {
  const out: PrimaryFragment[] = [];
  visitPrimaryFragments(doc, (start, end, info) => out.push({ bytes: doc.subarray(start, end), info }), what);
  return out;
}

/**
 * `primaryFragments` without building views: `visit` gets each fragment's byte range in `doc`
 * and its fields (for a caller that keeps offsets of thousands of packages).
 */
export function visitPrimaryFragments(
  doc: Buffer,
  visit: (start: number, end: number, info: PrimaryFragmentInfo) => void,
  what = "primary.xml",
): void {
  scanPackages(doc, what, (text, start, end) => {
    visit(start, end, createrepoLayoutInfo(doc, text, start, end) ?? anyLayoutInfo(doc.subarray(start, end)));
  });
}

/** What `--update` needs to know about a package from its primary.xml fragment. */
export interface PrimaryFragmentInfo {
  pkgid: string;
  /** `checksum type`, "sha" normalised to "sha1". */
  checksumType: string;
  /** `location href`, unescaped. */
  href: string;
  /** `location xml:base`, unescaped, when present. */
  base?: string;
  /** `size package`. */
  fileSize: number;
  /** `time file`. */
  fileTime: number;
}

const attributePatterns = new Map<string, RegExp>();

function attribute(attrs: string, name: string): string | undefined {
  let pattern = attributePatterns.get(name);
  if (!pattern) {
    pattern = new RegExp(`(?:^|\\s)${name}="([^"]*)"`);
    attributePatterns.set(name, pattern);
  }
  const m = pattern.exec(attrs);
  if (!m) return undefined;
  return unescapeXml(m[1]!);
}

/**
 * Reads pkgid, checksum type, location and file size/time from a primary.xml `<package>`
 * fragment. createrepo_c's own layout (ours too) is read with a few byte searches; anything
 * else falls back to decoding the part before `<format>` and matching attributes in any order.
 * Throws REPODATA_INVALID naming what is missing.
 */
export function primaryFragmentInfo(fragment: Buffer): PrimaryFragmentInfo {
  return (
    createrepoLayoutInfo(fragment, fragment.toString("latin1"), 0, fragment.length) ?? anyLayoutInfo(fragment)
  );
}

/** Digits from `at` up to a closing quote, or NaN. */
function digitsAt(text: string, at: number): number {
  let n = 0;
  let i = at;
  for (; i < text.length && i < at + 16; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) break;
    if (c < 0x30 || c > 0x39) return Number.NaN;
    n = n * 10 + (c - 0x30);
  }
  return i > at && text.charCodeAt(i) === 0x22 ? n : Number.NaN;
}

const CHECKSUM_TYPE = '<checksum type="';
const PKGID_YES = '" pkgid="YES">';
const TIME_FILE = '<time file="';
const SIZE_PACKAGE = '<size package="';
const LOCATION_HREF = '<location href="';
const NON_ASCII = /[\x80-\xff]/;

/**
 * The fields in createrepo_c's own layout (ours too), found by plain string searches in the
 * latin1 `text` of the document between `start` and `<format>`; undefined for anything else.
 */
function createrepoLayoutInfo(
  doc: Buffer,
  text: string,
  start: number,
  end: number,
): PrimaryFragmentInfo | undefined {
  let formatAt = text.indexOf("<format>", start);
  if (formatAt < 0 || formatAt > end) formatAt = end;
  // A sliced string: searches in it stay within this package whatever is missing.
  const head = text.slice(start, formatAt);
  const c = head.indexOf(CHECKSUM_TYPE);
  const yes = c < 0 ? -1 : head.indexOf(PKGID_YES, c);
  const idEnd = yes < 0 ? -1 : head.indexOf("<", yes + PKGID_YES.length);
  const t = head.indexOf(TIME_FILE);
  const sz = head.indexOf(SIZE_PACKAGE);
  const l = head.indexOf(LOCATION_HREF);
  const hrefStart = l + LOCATION_HREF.length;
  const hrefEnd = l < 0 ? -1 : head.indexOf('"', hrefStart);
  if (idEnd < 0 || t < 0 || sz < 0 || hrefEnd < 0) return undefined;
  // `<location href=... xml:base=...>` is not createrepo_c's order; let the general path read it.
  if (head.charCodeAt(hrefEnd + 1) !== 0x2f) return undefined;
  const fileTime = digitsAt(head, t + TIME_FILE.length);
  const fileSize = digitsAt(head, sz + SIZE_PACKAGE.length);
  if (Number.isNaN(fileTime) || Number.isNaN(fileSize)) return undefined;
  let href = head.slice(hrefStart, hrefEnd);
  if (NON_ASCII.test(href)) href = doc.toString("utf8", start + hrefStart, start + hrefEnd);
  if (href.includes("&")) {
    const unescaped = unescapeXml(href);
    if (unescaped === undefined) return undefined;
    href = unescaped;
  }
  const type = checksumTypeName(head.slice(c + CHECKSUM_TYPE.length, yes));
  if (!href || !type) return undefined;
  return {
    pkgid: head.slice(yes + PKGID_YES.length, idEnd),
    checksumType: type,
    href,
    fileSize,
    fileTime,
  };
}

/** The usual names as constants (not views into a whole document), "sha" as "sha1". */
function checksumTypeName(type: string): string {
  switch (type) {
    case "sha256":
      return "sha256";
    case "sha1":
    case "sha":
      return "sha1";
    case "sha512":
      return "sha512";
    default:
      return type;
  }
}

function anyLayoutInfo(fragment: Buffer): PrimaryFragmentInfo {
  const formatAt = fragment.indexOf("<format>");
  const head = fragment.toString("utf8", 0, formatAt < 0 ? fragment.length : formatAt);
  const bad = (what: string) =>
    new YumError("REPODATA_INVALID", `primary.xml: ${what} in "${head.slice(0, 200)}"`);
  const checksum = /<checksum\b([^>]*)>([^<]*)<\/checksum>/.exec(head);
  if (!checksum || attribute(checksum[1]!, "pkgid") !== "YES") throw bad('no <checksum pkgid="YES">');
  const type = attribute(checksum[1]!, "type");
  if (!type) throw bad("<checksum> without type");
  const location = /<location\b([^>]*?)\/?>/.exec(head);
  const href = location ? attribute(location[1]!, "href") : undefined;
  if (!href) throw bad("no <location href>");
  const time = /<time\b([^>]*?)\/?>/.exec(head);
  const size = /<size\b([^>]*?)\/?>/.exec(head);
  const fileTime = time ? attribute(time[1]!, "file") : undefined;
  const fileSize = size ? attribute(size[1]!, "package") : undefined;
  if (!fileTime || !/^\d+$/.test(fileTime)) throw bad("no <time file>");
  if (!fileSize || !/^\d+$/.test(fileSize)) throw bad("no <size package>");
  const info: PrimaryFragmentInfo = {
    pkgid: checksum[2]!.trim(),
    checksumType: type === "sha" ? "sha1" : type,
    href,
    fileSize: Number(fileSize),
    fileTime: Number(fileTime),
  };
  const base = attribute(location![1]!, "xml:base");
  if (base !== undefined) info.base = base;
  return info;
}

/** The `pkgid` attribute of a filelists.xml or other.xml `<package>` fragment. */
export function fragmentPkgid(fragment: Buffer): string {
  const end = fragment.indexOf(">");
  const open = fragment.toString("latin1", 0, end < 0 ? Math.min(fragment.length, 512) : end);
  const pkgid = attribute(open, "pkgid");
  if (!pkgid) {
    throw new YumError("REPODATA_INVALID", `<package> without pkgid: "${open.slice(0, 200)}"`);
  }
  return pkgid;
}
