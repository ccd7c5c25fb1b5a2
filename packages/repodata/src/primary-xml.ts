import {
  type DependencyKind,
  dependencyKinds,
  isPrimaryFile,
  type RpmDependency,
  type RpmPackage,
} from "@beskar-yum/rpm";
import type { PackageLocation } from "./package-location.js";
import { fileElement } from "./package-xml-parts.js";
import { escapeAttr, escapeText } from "./xml-escape.js";

function element(indent: string, name: string, value: string): string {
  return `${indent}<${name}>${escapeText(value, name)}</${name}>\n`;
}

function entry(dep: RpmDependency, withPre: boolean): string {
  let s = `      <rpm:entry name="${escapeAttr(dep.name, "rpm:entry name")}"`;
  if (dep.flags) {
    s += ` flags="${dep.flags}"`;
    if (dep.epoch) s += ` epoch="${escapeAttr(dep.epoch, "rpm:entry epoch")}"`;
    if (dep.version) s += ` ver="${escapeAttr(dep.version, "rpm:entry ver")}"`;
    if (dep.release) s += ` rel="${escapeAttr(dep.release, "rpm:entry rel")}"`;
  }
  if (withPre && dep.pre) s += ' pre="1"';
  return `${s}/>\n`;
}

function dependencies(kind: DependencyKind, deps: RpmDependency[]): string {
  if (deps.length === 0) return "";
  const entries = deps
    .filter((d) => d.name !== "")
    .map((d) => entry(d, kind === "requires"))
    .join("");
  return entries ? `    <rpm:${kind}>\n${entries}    </rpm:${kind}>\n` : `    <rpm:${kind}/>\n`;
}

/** Files createrepo_c lists in primary.xml. */
export function primaryFiles(pkg: RpmPackage): RpmPackage["files"] {
  return pkg.files.filter((f) => isPrimaryFile(f.path));
}

/** One `<package type="rpm">` of primary.xml, byte for byte as createrepo_c 0.17 writes it. */
export function renderPrimaryPackage(pkg: RpmPackage, loc: PackageLocation): string {
  const base = loc.base
    ? ` xml:base="${escapeAttr(loc.base.startsWith("/") ? `file://${loc.base}` : loc.base)}"`
    : "";
  let s = '<package type="rpm">\n';
  s += element("  ", "name", pkg.name);
  s += element("  ", "arch", pkg.arch);
  s += `  <version epoch="${pkg.epoch}" ver="${escapeAttr(pkg.version)}" rel="${escapeAttr(pkg.release)}"/>\n`;
  s += `  <checksum type="${escapeAttr(loc.checksumType)}" pkgid="YES">${escapeText(loc.pkgid)}</checksum>\n`;
  s += element("  ", "summary", pkg.summary);
  s += element("  ", "description", pkg.description);
  s += element("  ", "packager", pkg.packager);
  s += element("  ", "url", pkg.url);
  s += `  <time file="${loc.fileTime}" build="${pkg.buildTime}"/>\n`;
  s += `  <size package="${loc.fileSize}" installed="${pkg.installedSize}" archive="${pkg.archiveSize}"/>\n`;
  s += `  <location${base} href="${escapeAttr(loc.href, "location href")}"/>\n`;
  s += "  <format>\n";
  s += element("    ", "rpm:license", pkg.license);
  s += element("    ", "rpm:vendor", pkg.vendor);
  s += element("    ", "rpm:group", pkg.group);
  s += element("    ", "rpm:buildhost", pkg.buildhost);
  s += element("    ", "rpm:sourcerpm", pkg.sourceRpm);
  s += `    <rpm:header-range start="${pkg.headerStart}" end="${pkg.headerEnd}"/>\n`;
  for (const kind of dependencyKinds) s += dependencies(kind, pkg[kind]);
  for (const f of primaryFiles(pkg)) s += fileElement("    ", f.path, f.type);
  s += "  </format>\n</package>\n";
  return s;
}
