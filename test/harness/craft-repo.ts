import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { parseRepomd, renderRepomd } from "@beskar-yum/repodata";

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/**
 * Rewrites one metadata file of a createrepo_c repository (`type`: primary, filelists, other)
 * through `edit`, and its repomd.xml entry to match, so that only what `edit` did is wrong.
 * `compressed` may replace the gzip step (e.g. to plant a bomb); `openSize` overrides the
 * declared open-size.
 */
export function rewriteMetadata(
  repoDir: string,
  type: string,
  edit: (xml: string) => string,
  options: { compressed?: (open: Buffer) => Buffer; openSize?: number } = {},
): void {
  const repomdPath = join(repoDir, "repodata", "repomd.xml");
  const repomd = parseRepomd(readFileSync(repomdPath, "utf8"));
  const record = repomd.records.find((r) => r.type === type)!;
  const oldPath = join(repoDir, record.location);
  const open = Buffer.from(edit(gunzipSync(readFileSync(oldPath)).toString("utf8")));
  const stored = options.compressed ? options.compressed(open) : gzipSync(open);
  rmSync(oldPath);
  const location = `repodata/${sha256(stored)}-${type}.xml.gz`;
  writeFileSync(join(repoDir, location), stored);
  Object.assign(record, {
    location,
    checksum: { type: "sha256", value: sha256(stored) },
    openChecksum: { type: "sha256", value: sha256(open) },
    size: stored.length,
    openSize: options.openSize ?? open.length,
  });
  writeFileSync(repomdPath, renderRepomd({ revision: repomd.revision ?? 1, records: repomd.records }));
}
