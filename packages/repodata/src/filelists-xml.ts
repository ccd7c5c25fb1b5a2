import type { RpmPackage } from "@beskar-yum/rpm";
import type { PackageLocation } from "./package-location.js";
import { fileElement, packageOpening } from "./package-xml-parts.js";

/** One `<package>` of filelists.xml: every file, in header order, as createrepo_c writes it. */
export function renderFilelistsPackage(pkg: RpmPackage, loc: PackageLocation): string {
  let s = packageOpening(pkg, loc);
  for (const f of pkg.files) s += fileElement("  ", f.path, f.type);
  return `${s}</package>\n`;
}
