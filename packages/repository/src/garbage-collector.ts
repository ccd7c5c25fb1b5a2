import { readdir, rm, stat, utimes } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseRepomd } from "@beskar-yum/repodata";
import type { FsBlobStore, RepoIndex } from "@beskar-yum/storage";

/**
 * Files stop being referenced at a publish (repodata) or when an event releases them (blobs). Their
 * mtime is set to that moment, and they are deleted once it is older than the grace period, so a
 * client that read the previous repomd.xml can still fetch what it listed.
 */
export async function collectRepodataGarbage(
  repodataDir: string,
  previous: Set<string>,
  current: Set<string>,
  graceSeconds: number,
): Promise<number> {
  const now = Date.now();
  let removed = 0;
  for (const name of await readdir(repodataDir).catch(() => [] as string[])) {
    // Temp files of a writer that crashed are unreferenced too; live ones are younger than the grace period.
    if (current.has(name) || name === "repomd.xml" || name === "repomd.xml.asc") continue;
    const path = join(repodataDir, name);
    if (previous.has(name)) {
      const date = new Date(now);
      await utimes(path, date, date).catch(() => undefined);
      continue;
    }
    // Only files: a folder here is nothing we wrote (never removed, never a reason to fail a publish).
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && now - info.mtimeMs > graceSeconds * 1000) {
      await rm(path, { force: true });
      removed++;
    }
  }
  return removed;
}

/**
 * How young an unreferenced blob or temp file is never garbage, whatever `publish.grace_seconds`
 * says. An upload stores its blob before it records the event that names it, and its temp file
 * grows while the body streams: with a grace period of 0, a collection running between those
 * steps deleted the upload's bytes (500 ENOENT). The grace period protects readers of a previous
 * repomd.xml; this protects writers, so it is a floor, not a setting.
 */
export const IN_FLIGHT_SECONDS = 600;

/**
 * Deletes blobs that no package and no pending event references, once their grace period (and
 * `IN_FLIGHT_SECONDS`) has passed, and uploads abandoned mid-stream (their temp file stopped growing
 * that long ago).
 */
export async function collectBlobGarbage(
  index: RepoIndex,
  blobs: FsBlobStore,
  graceSeconds: number,
): Promise<number> {
  const keep = await index.referencedDigests();
  for (const { event } of await index.pendingEvents(1_000_000)) {
    if (event.action === "put") keep.add(event.digest);
    if (event.action === "extra-put") keep.add(event.record.digest);
  }
  // A mirror's metadata files are blobs too: keep those the served repomd.xml names.
  const { repomd } = await index.getState();
  for (const record of repomd ? parseRepomd(repomd).records : []) {
    keep.add(record.checksum.value);
    const prefix = /^([0-9a-f]{64})-/.exec(basename(record.location));
    if (prefix) keep.add(prefix[1]!);
  }
  const now = Date.now();
  await index.pruneRetiredPackages(Math.floor(now / 1000) - graceSeconds);
  const unreferencedMs = Math.max(graceSeconds, IN_FLIGHT_SECONDS) * 1000;
  let removed = 0;
  for (const name of await readdir(join(blobs.root, "tmp")).catch(() => [] as string[])) {
    const path = join(blobs.root, "tmp", name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && now - info.mtimeMs > unreferencedMs) await rm(path, { force: true });
  }
  const shardRoot = join(blobs.root, "sha256");
  for (const shard of await readdir(shardRoot).catch(() => [] as string[])) {
    for (const digest of await readdir(join(shardRoot, shard)).catch(() => [] as string[])) {
      if (keep.has(digest)) continue;
      const path = join(shardRoot, shard, digest);
      const info = await stat(path).catch(() => undefined);
      if (info?.isFile() && now - info.mtimeMs > unreferencedMs) {
        await rm(path, { force: true });
        removed++;
      }
    }
  }
  return removed;
}
