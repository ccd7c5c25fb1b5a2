import { createHash } from "node:crypto";
import type { PackageSummary } from "@beskar-yum/storage";

/** Beskar's package tag: lowercase hex MD5 of `<name>-<version>-<release>.<arch>.rpm`. */
export function packageTag(rpmFileName: string): string {
  return createHash("md5").update(rpmFileName).digest("hex");
}

/** `name-[epoch:]version-release.arch`, as rpm and dnf print a package. */
export function nevra(p: Pick<PackageSummary, "name" | "epoch" | "version" | "release" | "arch">): string {
  return `${p.name}-${p.epoch ? `${p.epoch}:` : ""}${p.version}-${p.release}.${p.arch}`;
}

/** Where our primary.xml places a hosted package, as Beskar's plugin writes it. */
export function packageHref(rpmFileName: string): string {
  return `Packages/${rpmFileName.charAt(0).toLowerCase()}/${rpmFileName}`;
}

/** Beskar formats times as Go's "2006-01-02 15:04:05 MST"; we always use UTC. 0 means unset → "". */
export function formatTime(unixSeconds: number): string {
  if (!unixSeconds) return "";
  return `${new Date(unixSeconds * 1000).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** The `RepositoryPackage` JSON of Beskar's YUM API. */
export interface RepositoryPackageView {
  tag: string;
  id: string;
  name: string;
  upload_time: string;
  build_time: string;
  size: number;
  architecture: string;
  source_rpm: string;
  version: string;
  release: string;
  groups: string;
  license: string;
  vendor: string;
  summary: string;
  description: string;
  verified: boolean;
  gpg_signature: string;
}

export function toPackageView(record: PackageSummary): RepositoryPackageView {
  return {
    tag: record.tag,
    id: record.id,
    name: record.name,
    upload_time: formatTime(record.uploadTime),
    build_time: formatTime(record.buildTime),
    size: record.size,
    architecture: record.arch,
    source_rpm: record.sourceRpm,
    version: record.version,
    release: record.release,
    groups: record.groups,
    license: record.license,
    vendor: record.vendor,
    summary: record.summary,
    description: record.description,
    verified: record.verified,
    gpg_signature: record.gpgSignature,
  };
}
