import { join } from "node:path";
import { readRpm } from "@beskar-yum/rpm";
import { renderFilelistsPackage } from "../filelists-xml.js";
import { type MetadataKind, metadataFooter, metadataHeader } from "../metadata-kinds.js";
import { renderOtherPackage } from "../other-xml.js";
import type { PackageLocation } from "../package-location.js";
import { renderPrimaryPackage } from "../primary-xml.js";
import { locationOf } from "./createrepo.js";

export type Fragments = Record<MetadataKind, Map<string, string>>;

/** Our fragments for `files` (relative to `dir`), keyed by pkgid; `href` maps a file to its location. */
export async function renderFiles(
  dir: string,
  files: string[],
  href: (file: string) => string = (f) => f,
  extra: Partial<PackageLocation> = {},
): Promise<Fragments> {
  const out: Fragments = { primary: new Map(), filelists: new Map(), other: new Map() };
  for (const file of files) {
    const { pkg } = await readRpm(join(dir, file));
    const loc = { ...locationOf(join(dir, file), href(file)), ...extra };
    out.primary.set(loc.pkgid, renderPrimaryPackage(pkg, loc));
    out.filelists.set(loc.pkgid, renderFilelistsPackage(pkg, loc));
    out.other.set(loc.pkgid, renderOtherPackage(pkg, loc));
  }
  return out;
}

/** A whole document from our fragments, in the given pkgid order. */
export function documentOf(kind: MetadataKind, fragments: Map<string, string>, order: string[]): string {
  return (
    metadataHeader(kind, order.length) +
    order.map((id) => fragments.get(id) ?? "").join("") +
    metadataFooter(kind)
  );
}
