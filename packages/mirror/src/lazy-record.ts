import { basename } from "node:path";
import type { UpstreamPackage } from "@beskar-yum/repodata";
import { packageTag } from "@beskar-yum/repository";
import type { PackageRecord } from "@beskar-yum/storage";

/**
 * The index row of a package not downloaded yet (`on_demand`): what upstream's primary.xml says,
 * enough to serve it by file name and verify it when it is fetched. Header-only fields stay empty.
 */
export function lazyRecord(u: UpstreamPackage, uploadTime: number): PackageRecord {
  const arch = u.arch;
  const rpmName = `${u.name}-${u.version}-${u.release}.${arch}.rpm`;
  return {
    tag: packageTag(rpmName),
    id: u.checksum.value,
    fileName: basename(u.href),
    href: u.href,
    name: u.name,
    epoch: Number(u.epoch) || 0,
    version: u.version,
    release: u.release,
    arch,
    summary: "",
    description: "",
    license: "",
    vendor: "",
    groups: "",
    sourceRpm: "",
    buildTime: 0,
    uploadTime,
    size: 0,
    fileSize: u.size,
    verified: false,
    gpgSignature: "",
    primaryXml: "",
    filelistsXml: "",
    otherXml: "",
  };
}
