import type { RpmPackage } from "@beskar-yum/rpm";
import type { PackageLocation } from "./package-location.js";
import { escapeAttr, escapeText } from "./xml-escape.js";

/** `<file>` as createrepo_c writes it: no type attribute for plain files. */
export function fileElement(indent: string, path: string, type: RpmPackage["files"][number]["type"]): string {
  const attr = type === "file" ? "" : ` type="${type}"`;
  return `${indent}<file${attr}>${escapeText(path, "file")}</file>\n`;
}

/** `<package pkgid name arch>` + `<version/>`, shared by filelists.xml and other.xml. */
export function packageOpening(pkg: RpmPackage, loc: PackageLocation): string {
  return (
    `<package pkgid="${escapeAttr(loc.pkgid)}" name="${escapeAttr(pkg.name)}" arch="${escapeAttr(pkg.arch)}">\n` +
    `  <version epoch="${pkg.epoch}" ver="${escapeAttr(pkg.version)}" rel="${escapeAttr(pkg.release)}"/>\n`
  );
}
