import { escapeDocumentAttr } from "./xml-escape.js";

/** Where a package's file is: `<location href>` and, optionally, `xml:base`. */
export interface PackageHref {
  href: string;
  base?: string | undefined;
}

/** One attribute of a start tag as written: name, value with its quotes, and the whitespace before it. */
const attribute = /(\s+)([^\s=/>]+)(\s*=\s*)("[^"]*"|'[^']*')/g;

/**
 * `tag` (a `<location .../>` start tag exactly as upstream wrote it) with `href` replaced and
 * `xml:base` set, replaced or removed as `to` says. Every other byte stays as written (attribute
 * order, quotes, spacing), so the rewritten document differs from upstream's in this attribute
 * only; an attribute added (a base where there was none) goes last.
 */
export function rewriteLocationTag(tag: string, to: PackageHref): string {
  let baseDone = to.base === undefined;
  let out = tag.replace(attribute, (whole, space: string, name: string, eq: string, quoted: string) => {
    const quote = quoted[0]!;
    const escaped = (v: string) => {
      const e = escapeDocumentAttr(v);
      return quote === "'" ? e.replaceAll("'", "&apos;") : e;
    };
    const value = (v: string) => `${space}${name}${eq}${quote}${escaped(v)}${quote}`;
    if (name === "href") return value(to.href);
    if (name !== "xml:base") return whole;
    if (to.base === undefined) return "";
    baseDone = true;
    return value(to.base);
  });
  if (!baseDone) {
    const end = out.endsWith("/>") ? out.length - 2 : out.length - 1;
    out = `${out.slice(0, end)} xml:base="${escapeDocumentAttr(to.base!)}"${out.slice(end)}`;
  }
  return out;
}
