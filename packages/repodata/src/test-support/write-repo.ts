import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RpmPackage, readRpm } from "@beskar-yum/rpm";
import { renderFilelistsPackage } from "../filelists-xml.js";
import { metadataFooter, metadataHeader, metadataKinds } from "../metadata-kinds.js";
import { renderOtherPackage } from "../other-xml.js";
import type { PackageLocation } from "../package-location.js";
import { renderPrimaryPackage } from "../primary-xml.js";
import type { RepomdRecord } from "../repomd-record.js";
import { renderRepomd } from "../repomd-xml.js";
import { writeMetadataFile } from "../write-metadata-file.js";
import { locationOf } from "./createrepo.js";

const renderers = {
  primary: renderPrimaryPackage,
  filelists: renderFilelistsPackage,
  other: renderOtherPackage,
};

/** Writes `<root>/repodata` for `files` (paths relative to `root`) with our writers only. */
export async function writeRepo(root: string, files: string[], timestamp: number): Promise<RepomdRecord[]> {
  const packages: { pkg: RpmPackage; loc: PackageLocation }[] = [];
  for (const file of files) {
    const { pkg } = await readRpm(join(root, file));
    packages.push({ pkg, loc: locationOf(join(root, file), file) });
  }
  const records: RepomdRecord[] = [];
  for (const kind of metadataKinds) {
    const render = renderers[kind];
    function* parts() {
      yield metadataHeader(kind, packages.length);
      for (const { pkg, loc } of packages) yield render(pkg, loc);
      yield metadataFooter(kind);
    }
    records.push(await writeMetadataFile({ dir: join(root, "repodata"), kind, parts: parts(), timestamp }));
  }
  writeFileSync(join(root, "repodata", "repomd.xml"), renderRepomd({ revision: timestamp, records }));
  return records;
}
