import { setMaxListeners } from "node:events";
import { mkdir } from "node:fs/promises";
import { basename } from "node:path";
import { YumError } from "@beskar-yum/errors";
import {
  parseRepomd,
  type RepomdRecord,
  readUpstreamPrimary,
  renderRepomd,
  type UpstreamPackage,
} from "@beskar-yum/repodata";
import { buildPackageRecord, collectBlobGarbage, collectRepodataGarbage } from "@beskar-yum/repository";
import type { ReadRpmResult } from "@beskar-yum/rpm";
import { type PackageRecord, type RepositoryStorage, writeFileAtomic } from "@beskar-yum/storage";
import { Backlog } from "./backlog.js";
import { openMetadata } from "./decompress.js";
import { HeadCapture, headCaptureBytes } from "./head-capture.js";
import { lazyRecord } from "./lazy-record.js";
import { assertSafeHref } from "./mirror-url.js";
import { PackageStore } from "./package-store.js";
import { pool } from "./pool.js";
import type { ProxyOptions } from "./proxy.js";
import { verifyRepomdSignature } from "./repomd-signature.js";
import { UpstreamClient } from "./upstream-client.js";

export interface MirrorSyncLog {
  info(message: string): void;
  error(message: string): void;
}

export interface MirrorSyncOptions {
  repository: string;
  storage: RepositoryStorage;
  /** The mirror URLs of this sync (the repository's, or the one `sync:url` gave). */
  urls: string[];
  /** Armored public key(s): when set, repomd.xml.asc (if upstream has one) and every RPM must verify. */
  gpgKey: string;
  /** Fencing token of the repository lock held for the whole sync. */
  fence: number;
  signal: AbortSignal;
  graceSeconds: number;
  log: MirrorSyncLog;
  /** Parallel package downloads (and keep-alive connections). Default 32: small packages are latency-bound. */
  concurrency?: number;
  /** Stall timeout for upstream requests. Default 30 s. */
  timeoutMs?: number;
  /** Upstream TLS: CA and client certificate (PEM). */
  tls?: { ca?: string; cert?: string; key?: string };
  /** The repository's `proxy_url` and the HTTP(S)_PROXY / NO_PROXY settings read at startup (`upstreamProxy`). */
  proxy?: ProxyOptions;
  /** Largest package accepted. Default 4 GiB. */
  maxPackageBytes?: number;
  /**
   * `on_demand`: publish upstream's metadata without downloading packages (sha256-checksummed
   * upstreams); each is fetched on its first request (`streamOnDemand`). Default `immediate`.
   */
  policy?: "immediate" | "on_demand";
  /**
   * Packages up to this size (as upstream declares it) are downloaded whole into memory, verified,
   * then parsed, indexed and stored by a thread of their own; bigger ones stream to a temporary
   * file and are parsed here. Default 1 MiB.
   */
  inMemoryBytes?: number;
}

const defaultInMemoryBytes = 1024 ** 2;
/** Small packages downloaded the plain way (temporary file, parsed here) before the package thread is started. */
const threadAfter = 16;
/** Bytes of downloaded packages waiting for the package thread, at most. */
const backlogBytes = 4 * 1024 ** 2;

export interface MirrorSyncResult {
  total: number;
  downloaded: number;
  removed: number;
  /** False when upstream had not changed: nothing was published. */
  published: boolean;
  /** Milliseconds per step (metadata, plan, packages, durable, commit, gc), for the log. */
  phases: Record<string, number>;
}

const progressEveryMs = 500;
const now = () => Math.floor(Date.now() / 1000);

/** Upstream names its data files `repodata/<checksum>-<name>`: we can then serve its repomd.xml (and signature) verbatim. */
function servableVerbatim(records: RepomdRecord[]): boolean {
  return records.every((r) => {
    const name = r.location.slice("repodata/".length);
    return (
      r.location.startsWith("repodata/") && !name.includes("/") && name.startsWith(`${r.checksum.value}-`)
    );
  });
}

/**
 * One mirror sync, run by the worker while it holds the repository lock. Plans from upstream's
 * repomd.xml and primary.xml, downloads only what is not stored yet (verified while streaming),
 * then switches to the new generation in one transaction. Until then the previous generation is
 * what clients get; a crash anywhere leaves it in place, and the next run reuses every blob stored.
 */
export async function runMirrorSync(options: MirrorSyncOptions): Promise<MirrorSyncResult> {
  const { storage, repository, signal, log } = options;
  const index = storage.openIndex(repository);
  if (!index) throw new YumError("REPO_NOT_FOUND", `repository ${repository} not found`);
  const blobs = storage.blobs(repository);
  const paths = storage.paths(repository);
  const concurrency = options.concurrency ?? 32;
  // Every in-flight download listens on the lock's signal.
  setMaxListeners(concurrency * 4 + 16, signal);
  const client = new UpstreamClient({
    connections: concurrency,
    urls: options.urls,
    log: log.info,
    signal,
    timeoutMs: options.timeoutMs,
    tls: options.tls,
    proxy: options.proxy,
  });

  // Parses, indexes and stores small packages, started when a sync downloads more than
  // `threadAfter` of them; undefined when running from TypeScript sources.
  let thread: PackageStore | undefined;
  let threadStarted = false;
  const packageThread = () => {
    if (!threadStarted) thread = PackageStore.shared();
    threadStarted = true;
    return thread;
  };

  let downloadedBytes = 0;
  let downloadedPackages = 0;
  let lastProgress = 0;
  const progress = (synced: number, force = false) => {
    if (!force && Date.now() - lastProgress < progressEveryMs) return;
    lastProgress = Date.now();
    index.updateSyncState({ syncedPackages: synced, downloadedBytes, downloadedPackages });
  };

  // Milliseconds spent in each step, for the log.
  const phases: Record<string, number> = {};
  let phaseStart = Date.now();
  const mark = (phase: string) => {
    const t = Date.now();
    phases[phase] = t - phaseStart;
    phaseStart = t;
  };
  try {
    // 1. Metadata: repomd.xml (+ signature), then every data file it lists, verified.
    index.updateSyncState({ phase: "metadata" });
    const repomdText = (await client.text("repodata/repomd.xml", { maxBytes: 16 * 1024 ** 2 }))!;
    const asc = await client.text("repodata/repomd.xml.asc", { maxBytes: 1024 ** 2, optional: true });
    if (options.gpgKey && asc !== undefined) await verifyRepomdSignature(repomdText, asc, options.gpgKey);
    const repomd = parseRepomd(repomdText);
    const digests = new Map<RepomdRecord, string>();
    for (const record of repomd.records) {
      assertSafeHref(record.location, "repomd.xml");
      if (record.locationBase !== undefined) {
        throw new YumError(
          "UPSTREAM_BAD_HREF",
          `repomd.xml: ${record.type} lives at xml:base ${record.locationBase}, which mirrors do not follow`,
        );
      }
      if (record.checksum.type === "sha256" && (await blobs.has(record.checksum.value))) {
        digests.set(record, record.checksum.value);
        continue;
      }
      const blob = await client.download(
        record.location,
        blobs,
        { size: record.size, checksum: record.checksum },
        4 * 1024 ** 3,
      );
      await blobs.commit(blob);
      digests.set(record, blob.digest);
      downloadedBytes += blob.size;
    }

    mark("metadata");
    // 2. Plan, streamed: primary.xml is read as the packages step asks for work, and compared
    // with what the index holds, so that downloads start with the first package that changed.
    const primary = repomd.records.find((r) => r.type === "primary");
    if (!primary) throw new YumError("REPODATA_INVALID", "repomd.xml lists no primary metadata");
    const existing = new Map(index.listPackages().map((p) => [p.href, p]));
    const hrefs = new Set<string>();
    let total = 0;
    let synced = 0;
    index.updateSyncState({ phase: "packages", totalPackages: 0, syncedPackages: 0 });
    async function* plan(): AsyncGenerator<UpstreamPackage> {
      for await (const pkg of readUpstreamPrimary(
        openMetadata(blobs.pathOf(digests.get(primary!)!), primary!.location, primary!),
        (count) => index!.updateSyncState({ totalPackages: count }),
      )) {
        assertSafeHref(pkg.href, `primary.xml (${pkg.name})`);
        if (pkg.base !== undefined)
          throw new YumError(
            "UPSTREAM_BAD_HREF",
            `primary.xml: ${pkg.name} lives at xml:base ${pkg.base}, which mirrors do not follow`,
          );
        if (hrefs.has(pkg.href))
          throw new YumError("REPODATA_INVALID", `primary.xml lists ${pkg.href} twice`);
        hrefs.add(pkg.href);
        total++;
        const have = existing.get(pkg.href);
        if (have && have.upstreamChecksum === `${pkg.checksum.type}:${pkg.checksum.value}`) synced++;
        else yield pkg;
      }
    }

    // 3. Packages: only what is missing; a blob stored by an interrupted run is reused as it is.
    const records: PackageRecord[] = [];
    const uploadTime = now();
    const onDemand = options.policy === "on_demand";
    const downloaded: string[] = [];
    // Blobs found stored (an interrupted run's): maybe never made durable, so they are synced with the rest.
    const reused: string[] = [];
    // What is stored, read once when first needed: the lock keeps garbage collection away until the sync ends.
    let storedOnce: Promise<Set<string>> | undefined;
    const storedBlobs = () => {
      storedOnce ??= blobs.list();
      return storedOnce;
    };
    const maxPackageBytes = options.maxPackageBytes ?? 4 * 1024 ** 3;
    const wholeBelow = Math.min(options.inMemoryBytes ?? defaultInMemoryBytes, maxPackageBytes);
    let smallPackages = 0;
    const gpg = options.gpgKey ? { gpgKey: options.gpgKey } : {};
    const finish = (u: UpstreamPackage, record: PackageRecord) => {
      records.push({ ...record, upstreamChecksum: `${u.checksum.type}:${u.checksum.value}` });
      progress(++synced);
    };
    /** A package downloaded and stored (not durable yet): counted, and made durable in step 4. */
    const downloadedOne = (stored: Set<string>, digest: string, size: number) => {
      downloaded.push(digest);
      stored.add(digest);
      downloadedBytes += size;
      downloadedPackages++;
    };
    // Packages handed to the thread and not stored yet: at most `backlogBytes` of them in memory.
    const backlog = new Backlog(backlogBytes);
    const storings: Promise<void>[] = [];
    let storeFailure: unknown;
    try {
      await pool(plan(), concurrency, signal, async (u) => {
        if (storeFailure) throw storeFailure;
        const stored = await storedBlobs();
        if (onDemand && u.checksum.type === "sha256" && !stored.has(u.checksum.value)) {
          finish(u, lazyRecord(u, uploadTime));
          return;
        }
        let digest = u.checksum.type === "sha256" ? u.checksum.value : undefined;
        let parsed: ReadRpmResult | undefined;
        if (digest && stored.has(digest)) reused.push(digest);
        else {
          // Blobs are made durable all at once before the generation is recorded (step 4), not one fsync each.
          // The thread costs ~150 ms to start: a sync that downloads a few packages does without.
          const small = u.size <= wholeBelow && ++smallPackages > threadAfter ? packageThread() : undefined;
          if (small) {
            // A small package arrives whole in memory, verified; the package thread parses, indexes and stores it.
            const { data, digest: sha256 } = await client.fetchVerified(
              u.href,
              { size: u.size, checksum: u.checksum },
              wholeBelow,
            );
            // Handed over without waiting: this slot goes on downloading while the thread catches up.
            await backlog.reserve(data.length);
            const storing = small
              .store({ root: blobs.root, href: u.href, digest: sha256, data, uploadTime, ...gpg })
              .then((record) => {
                downloadedOne(stored, sha256, data.length);
                finish(u, record);
              })
              .finally(() => backlog.release(data.length));
            storing.catch((err: unknown) => {
              storeFailure ??= err;
            });
            storings.push(storing);
            return;
          }
          // Keep the start of the download: the headers parse from memory, without reading the file again.
          const head = new HeadCapture(headCaptureBytes);
          const blob = await client.download(
            u.href,
            blobs,
            { size: u.size, checksum: u.checksum },
            maxPackageBytes,
            false,
            (chunk) => head.add(chunk),
          );
          await blobs.commit(blob, { durable: false });
          digest = blob.digest;
          downloadedOne(stored, digest, blob.size);
          parsed = head.parse(u.href, blob.size);
        }
        let record: PackageRecord;
        try {
          record = await buildPackageRecord(
            blobs,
            { digest, uploadTime, verified: false, ...gpg },
            { href: u.href },
            parsed,
          );
        } catch (err) {
          const code = err instanceof YumError ? `${err.code}: ` : "";
          throw new YumError(
            "REPODATA_INVALID",
            `${u.href}: ${code}${(err as Error).message}`,
            {},
            { cause: err },
          );
        }
        finish(u, record);
      });
    } finally {
      // Every handed-over package settled, whether the pool ended or failed (if it failed, they are
      // stored but not recorded: garbage once the grace period has passed).
      await Promise.allSettled(storings);
    }
    if (storeFailure) throw storeFailure;
    const removed = [...existing.values()].filter((p) => !hrefs.has(p.href)).map((p) => p.tag);
    index.updateSyncState({ totalPackages: total });
    progress(synced, true);
    mark("packages");

    // 4. Publish: data files in place first, then the new generation in one transaction.
    const verbatim = servableVerbatim(repomd.records);
    const served = verbatim
      ? repomdText
      : renderRepomd({
          revision: repomd.revision ?? now(),
          ...(repomd.tags ? { tags: repomd.tags } : {}),
          records: repomd.records.map((r) => ({
            ...r,
            location: `repodata/${digests.get(r)}-${basename(r.location)}`,
          })),
        });
    const servedAsc = verbatim ? asc : undefined;
    const before = index.getState();
    if (
      records.length === 0 &&
      removed.length === 0 &&
      before.repomd === served &&
      before.repomdAsc === servedAsc
    ) {
      return { total, downloaded: 0, removed: 0, published: false, phases };
    }
    index.updateSyncState({ phase: "publish" });
    // Every blob of the new generation is durable before anything refers to it.
    await blobs.syncMany([...downloaded, ...reused]);
    mark("durable");
    await mkdir(paths.repodata, { recursive: true });
    const servedRecords = parseRepomd(served).records;
    for (const [record, digest] of digests) {
      const name = verbatim ? basename(record.location) : `${digest}-${basename(record.location)}`;
      await blobs.placeAt(digest, `${paths.repodata}/${name}`);
    }
    signal.throwIfAborted();
    index.commitMirrorGeneration(options.fence, {
      upsert: records,
      deleteTags: removed,
      revision: Math.max(now(), before.revision + 1),
      repomd: served,
      repomdAsc: servedAsc,
    });
    mark("commit");
    await writeFileAtomic(`${paths.repodata}/repomd.xml`, served);
    const previous = new Set(
      before.repomd ? parseRepomd(before.repomd).records.map((r) => basename(r.location)) : [],
    );
    await collectRepodataGarbage(
      paths.repodata,
      previous,
      new Set(servedRecords.map((r) => basename(r.location))),
      options.graceSeconds,
    );
    await collectBlobGarbage(index, blobs, options.graceSeconds);
    mark("gc");
    if (!verbatim)
      log.info(
        "upstream data files are not checksum-named: repomd.xml was rewritten (and any upstream signature dropped)",
      );
    return {
      total,
      downloaded: downloadedPackages,
      removed: removed.length,
      published: true,
      phases,
    };
  } finally {
    index.updateSyncState({ downloadedBytes, downloadedPackages });
    await client.close();
  }
}
