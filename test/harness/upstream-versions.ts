import { cpSync } from "node:fs";
import { join } from "node:path";
import { createrepoC } from "../support/createrepo.js";
import { manyFixtures } from "../support/rpm-fixtures.js";
import { makeTempDir } from "../support/tmp.js";

export interface UpstreamVersions {
  /** Two packages, repomd.xml revision (and timestamps) `oldRevision`. */
  old: string;
  /** The same two packages and one more (`addedPackage`), revision `currentRevision`. */
  current: string;
  oldRevision: number;
  currentRevision: number;
  /** The name of the package only `current` has. */
  addedPackage: string;
}

/**
 * Two generations of one small upstream, as a mirror network has them while it catches up: a stale
 * mirror serves `old`, an up-to-date one `current`. createrepo_c's `--revision` with
 * `--set-timestamp-to-revision` makes both repomd.xml revisions and data timestamps known.
 */
export async function makeUpstreamVersions(prefix: string): Promise<UpstreamVersions> {
  const oldRevision = 1_700_000_000;
  const currentRevision = 1_700_000_100;
  const old = makeTempDir(`${prefix}-old-`);
  await manyFixtures(join(old, "Packages"), 2, { prefix: `${prefix}-` });
  await createrepoC(old, ["--revision", String(oldRevision), "--set-timestamp-to-revision"]);
  const current = makeTempDir(`${prefix}-current-`);
  cpSync(join(old, "Packages"), join(current, "Packages"), { recursive: true });
  await manyFixtures(join(current, "Packages"), 1, { prefix: `${prefix}-added-` });
  await createrepoC(current, ["--revision", String(currentRevision), "--set-timestamp-to-revision"]);
  return { old, current, oldRevision, currentRevision, addedPackage: `${prefix}-added-0001` };
}
