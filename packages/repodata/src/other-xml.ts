import type { RpmPackage } from "@beskar-yum/rpm";
import type { PackageLocation } from "./package-location.js";
import { packageOpening } from "./package-xml-parts.js";
import { escapeAttr, escapeText } from "./xml-escape.js";

/** One `<package>` of other.xml: the changelog entries `pkg` carries, in order. */
export function renderOtherPackage(pkg: RpmPackage, loc: PackageLocation): string {
  let s = packageOpening(pkg, loc);
  for (const c of pkg.changelogs) {
    s += `  <changelog author="${escapeAttr(c.author, "changelog author")}" date="${c.date}">${escapeText(c.text, "changelog")}</changelog>\n`;
  }
  return `${s}</package>\n`;
}
