import type { PackageRecord } from "../repo-index.js";

/**
 * A package row for tests of the index and of what reads it, named by `tag`; a test sets the fields
 * it is about (sizes of the XML fragments, hrefs, ids) and leaves the rest to these defaults.
 */
export function fakeRecord(tag: string, fields: Partial<PackageRecord> = {}): PackageRecord {
  return {
    tag,
    id: tag.padEnd(64, "0"),
    fileName: `${tag}.rpm`,
    href: `Packages/${tag[0]}/${tag}.rpm`,
    name: tag,
    epoch: 0,
    version: "1",
    release: "1",
    arch: "noarch",
    summary: "",
    description: "",
    license: "MIT",
    vendor: "",
    groups: "",
    sourceRpm: "",
    buildTime: 1,
    uploadTime: 2,
    size: 3,
    fileSize: 4,
    verified: false,
    gpgSignature: "",
    primaryXml: `<p ${tag}/>`,
    filelistsXml: `<f ${tag}/>`,
    otherXml: `<o ${tag}/>`,
    ...fields,
  };
}
