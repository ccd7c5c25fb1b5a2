import { utimes } from "node:fs/promises";
import { basename } from "node:path";
import { renderFilelistsPackage, renderOtherPackage, renderPrimaryPackage } from "@beskar-yum/repodata";
import { type ReadRpmResult, readRpm, rpmFileName, verifyRpmSignature } from "@beskar-yum/rpm";
import type {
  EventResult,
  FsBlobStore,
  IndexTransaction,
  PackageRecord,
  RepoIndex,
  StoredEvent,
} from "@beskar-yum/storage";
import { newPackageLimitProblem } from "./package-limit.js";
import { nevra, packageHref, packageTag } from "./package-view.js";

/** Parses a stored RPM blob into the index record, with its XML fragments rendered once, here. */
export async function buildPackageRecord(
  blobs: FsBlobStore,
  event: { digest: string; uploadTime: number; verified: boolean; gpgKey?: string },
  /**
   * A mirror's package: upstream's href, and no fragments of ours (a mirror serves upstream's
   * metadata verbatim). Hosted packages get our href and their fragments.
   */
  mirrored?: { href: string },
  /** The RPM already parsed (a mirror parses what it downloads while it streams). */
  preparsed?: ReadRpmResult,
): Promise<PackageRecord> {
  const parsed = preparsed ?? (await readRpm(blobs.pathOf(event.digest)));
  const { pkg } = parsed;
  if (event.gpgKey) await verifyRpmSignature(parsed, event.gpgKey);
  const fileName = rpmFileName(pkg);
  const href = mirrored?.href ?? packageHref(fileName);
  const fileSize = parsed.fileSize;
  const location = {
    href,
    pkgid: event.digest,
    checksumType: "sha256" as const,
    fileSize,
    fileTime: event.uploadTime,
  };
  return {
    tag: packageTag(fileName),
    id: event.digest,
    // Packages are served by file name: a mirror's is whatever upstream named it.
    fileName: mirrored ? basename(mirrored.href) : fileName,
    href,
    name: pkg.name,
    epoch: pkg.epoch,
    version: pkg.version,
    release: pkg.release,
    arch: pkg.arch,
    summary: pkg.summary,
    description: pkg.description,
    license: pkg.license,
    vendor: pkg.vendor,
    groups: pkg.group,
    sourceRpm: pkg.sourceRpm,
    buildTime: pkg.buildTime,
    uploadTime: event.uploadTime,
    size: pkg.installedSize,
    fileSize,
    verified: event.verified || event.gpgKey !== undefined,
    gpgSignature: pkg.signature.description ?? "",
    primaryXml: mirrored ? "" : renderPrimaryPackage(pkg, location),
    filelistsXml: mirrored ? "" : renderFilelistsPackage(pkg, location),
    otherXml: mirrored ? "" : renderOtherPackage(pkg, location),
  };
}

/** The log line of an upload that changed the repository. */
function uploadLine(fileName: string, record: PackageRecord, previous: PackageRecord | undefined): string {
  const signature = record.verified ? "signature verified" : "signature not verified";
  const replaced = previous ? `, replaces sha256 ${previous.id}` : "";
  return `uploaded ${fileName}: ${nevra(record)}, ${record.fileSize} bytes, ${signature}, sha256 ${record.id}${replaced}`;
}

/**
 * Applies one stored event to the index, fenced, with its log line. Parsing happens before the
 * transaction so that the write itself is short. Returns the digests that stopped being referenced (garbage candidates).
 */
export async function applyStoredEvent(
  index: RepoIndex,
  blobs: FsBlobStore,
  stored: StoredEvent,
  fence: number,
): Promise<{ result: EventResult; released: string[] }> {
  const { event } = stored;
  const released: string[] = [];
  let decide: (tx: IndexTransaction) => Promise<EventResult>;

  if (event.action === "put") {
    let record: PackageRecord | undefined;
    let failure = "";
    try {
      record = await buildPackageRecord(blobs, event);
    } catch (err) {
      failure = `package ${event.fileName} (sha256 ${event.digest}) could not be indexed: ${(err as Error).message}`;
    }
    decide = async (tx) => {
      if (!record) return { changed: false, error: failure };
      const previous = await tx.getPackageByTag(record.tag);
      if (previous?.id === record.id) {
        await tx.addLog(
          "INFO",
          `uploaded ${event.fileName}: identical to the stored ${nevra(record)}, nothing changed`,
        );
        return { changed: false };
      }
      // Uploads that passed the API's check together may still not fit: the limit holds here.
      const beyond = previous
        ? undefined
        : await newPackageLimitProblem({ ...tx, maxPackages: index.maxPackages }, "the repository");
      if (beyond) return { changed: false, error: `package ${event.fileName} refused: ${beyond}` };
      if (previous) released.push(previous.id);
      await tx.upsertPackage(record);
      await tx.addLog("INFO", uploadLine(event.fileName, record, previous));
      return { changed: true };
    };
  } else if (event.action === "delete") {
    decide = async (tx) => {
      const previous = await tx.getPackageByTag(event.tag);
      if (!previous) return { changed: false };
      released.push(previous.id);
      await tx.deletePackage(event.tag);
      await tx.addLog("INFO", `removed ${previous.fileName}: ${nevra(previous)} (sha256 ${previous.id})`);
      return { changed: true };
    };
  } else if (event.action === "extra-put") {
    decide = async (tx) => {
      const previous = await tx.getExtraMetadata(event.record.dataType);
      if (previous?.digest === event.record.digest && previous.fileName === event.record.fileName) {
        return { changed: false };
      }
      if (previous && previous.digest !== event.record.digest) released.push(previous.digest);
      await tx.upsertExtraMetadata(event.record);
      const { dataType, fileName, size } = event.record;
      await tx.addLog("INFO", `extra metadata ${dataType} stored: ${fileName}, ${size} bytes`);
      return { changed: true };
    };
  } else if (event.action === "extra-delete") {
    decide = async (tx) => {
      const previous = await tx.getExtraMetadata(event.dataType);
      if (!previous) return { changed: false };
      released.push(previous.digest);
      await tx.deleteExtraMetadata(event.dataType);
      await tx.addLog("INFO", `extra metadata ${event.dataType} removed`);
      return { changed: true };
    };
  } else {
    decide = async () => ({ changed: true });
  }
  const result = await index.applyEvent(stored.seq, fence, decide);

  // The grace period of a released blob counts from now (see garbage-collector.ts).
  const now = new Date();
  await Promise.all(released.map((d) => utimes(blobs.pathOf(d), now, now).catch(() => undefined)));
  return { result, released };
}
