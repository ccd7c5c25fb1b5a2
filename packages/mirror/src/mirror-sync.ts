import { setMaxListeners } from "node:events";
import { mkdir } from "node:fs/promises";
import { basename } from "node:path";
import { YumError } from "@beskar-yum/errors";
import {
  parseRepomd,
  type Repomd,
  type RepomdRecord,
  readUpstreamPrimary,
  renderRepomd,
  type UpstreamPackage,
} from "@beskar-yum/repodata";
import {
  buildPackageRecord,
  collectBlobGarbage,
  collectRepodataGarbage,
  type RepositoryFront,
  writeRepomdCopy,
} from "@beskar-yum/repository";
import type { ReadRpmResult } from "@beskar-yum/rpm";
import type { RepomdSigner } from "@beskar-yum/signing";
import {
  type FsBlobStore,
  type PackageChecksum,
  type PackageRecord,
  type RepoIndex,
  type RepositoryPaths,
  type RepositoryStorage,
  runBounded,
  Semaphore,
} from "@beskar-yum/storage";
import { openMetadata } from "./decompress.js";
import { RpmDownloadCheck } from "./head-capture.js";
import { lazyRecord } from "./lazy-record.js";
import { assertSafeHref } from "./mirror-url.js";
import { PackageStore } from "./package-store.js";
import { packageUrl } from "./package-url.js";
import type { ProxyOptions } from "./proxy.js";
import { type MirrorList, type MirrorListSource, readMirrorList } from "./read-mirror-list.js";
import { verifyRepomdSignature } from "./repomd-signature.js";
import { dropXmlBase, rewrittenRepomd } from "./rewritten-repomd.js";
import { selectMirror } from "./select-mirror.js";
import { rollbackProblem, staleUpstream } from "./stale-check.js";
import { UpstreamClient, type UpstreamClientOptions } from "./upstream-client.js";

export interface MirrorSyncLog {
  info(message: string): void;
  error(message: string): void;
}

export interface MirrorSyncOptions {
  repository: string;
  storage: RepositoryStorage;
  /**
   * The mirror URLs of this sync (the repository's, or the one `sync:url` gave). With `mirrorList`
   * they are the fallbacks after the mirrors it lists.
   */
  urls: string[];
  /** The repository's `metalink` or `mirrorlist`: fetched on every sync, its mirrors tried first. */
  mirrorList?: MirrorListSource | undefined;
  /** Accept an upstream older than what is served (a deliberate roll back). */
  force?: boolean;
  /** Armored public key(s): when set, repomd.xml.asc (if upstream has one) and every RPM must verify. */
  gpgKey: string;
  /** Fencing token of the repository lock held for the whole sync. */
  fence: number;
  signal: AbortSignal;
  graceSeconds: number;
  /** The server's key: a repomd.xml we rewrite is ours, and signed with it. */
  signer: RepomdSigner;
  log: MirrorSyncLog;
  /** Parallel package downloads (and keep-alive connections). Default 32: small packages are latency-bound. */
  concurrency?: number;
  /** Stall timeout for upstream requests. Default 30 s. */
  timeoutMs?: number;
  /** How long making the new blobs durable may take (`FsBlobStore.syncMany`). Default 120 s. */
  fsyncTimeoutMs?: number;
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
  /** `http.front_tree`: this repository's part of it, kept in step with the commit (front-tree.ts). */
  front?: RepositoryFront;
}

const defaultInMemoryBytes = 1024 ** 2;
/** Small packages downloaded the plain way (temporary file, parsed here) before the package thread is started. */
const threadAfter = 16;
/** Bytes of downloaded packages waiting for the package thread, at most. */
const backlogBytes = 4 * 1024 ** 2;
const maxRepomdBytes = 16 * 1024 ** 2;

export interface MirrorSyncResult {
  total: number;
  downloaded: number;
  /** Packages taken from the registry, stored there by an interrupted sync on another node. */
  fromRegistry: number;
  removed: number;
  /** False when upstream had not changed: nothing was published. */
  published: boolean;
  /** Milliseconds per step (metadata, plan, packages, durable, commit, gc), for the log. */
  phases: Record<string, number>;
}

const progressEveryMs = 500;
const now = () => Math.floor(Date.now() / 1000);

/**
 * Upstream names its data files `repodata/<checksum>-<name>`, here (no `xml:base`): we can then
 * serve its repomd.xml (and signature) verbatim.
 */
function servableVerbatim(records: RepomdRecord[]): boolean {
  return records.every((r) => {
    const name = r.location.slice("repodata/".length);
    return (
      r.locationBase === undefined &&
      r.location.startsWith("repodata/") &&
      !name.includes("/") &&
      name.startsWith(`${r.checksum.value}-`)
    );
  });
}

/**
 * The name a data file is served under when repomd.xml is ours: its blob's digest first, as
 * createrepo names files (a file of ours, such as a rewritten primary.xml, is named so already).
 */
function servedName(record: RepomdRecord, digest: string): string {
  const name = basename(record.location);
  return name.startsWith(`${digest}-`) ? name : `${digest}-${name}`;
}

/** What the stages of one sync share: where it writes, its counters and its step timings. */
interface SyncRun {
  options: MirrorSyncOptions;
  index: RepoIndex;
  blobs: FsBlobStore;
  paths: RepositoryPaths;
  concurrency: number;
  downloadedBytes: number;
  downloadedPackages: number;
  /** Packages another node's sync had stored, taken from the registry instead of upstream (`storage.driver: registry`). */
  fromRegistryPackages: number;
  phases: Record<string, number>;
  /**
   * Records the packages synced so far, at most every `progressEveryMs` unless `force`. Not waited
   * for (progress is advisory): the writes go one after another, and `progressWritten` is the last.
   */
  progress(synced: number, force?: boolean): void;
  progressWritten: Promise<void>;
  /** Ends the step `phase` (its time goes into `phases`). */
  mark(phase: string): void;
}

/** Upstream's repomd.xml, its signature and every data file it lists, stored as blobs. */
interface UpstreamMetadata {
  repomdText: string;
  repomd: Repomd;
  asc: string | undefined;
  /** The stored blob of each data file. */
  digests: Map<RepomdRecord, string>;
  /** True once `repomd` is ours (`serveFromHere`): upstream's repomd.xml and signature no longer apply. */
  rewritten?: boolean;
}

/** Upstream's packages compared with the index as primary.xml is read: only what changed is yielded. */
interface PackagePlan {
  packages: AsyncGenerator<UpstreamPackage>;
  /** What the index held before, by href. */
  existing: Map<string, PackageChecksum>;
  /** Every href upstream lists (filled as `packages` is read). */
  hrefs: Set<string>;
  /** Hrefs the index holds with other bytes than upstream's now (the commit replaces them). */
  replaced: string[];
  total: number;
  /** Packages upstream lists under `xml:base`: downloaded from there, served from here. */
  rebased: number;
  synced: number;
}

/** What the packages step stored. */
interface StoredPackages {
  /** New or changed index rows, staged in the index (`stagePackages`) until the commit. */
  changed: number;
  /** Hrefs upstream no longer lists (rows are keyed by href: one tag may have several). */
  removed: string[];
  /** Blobs to make durable before the generation refers to them: downloaded, or found stored by an interrupted run. */
  blobs: string[];
}

/**
 * One mirror sync, run by the worker while it holds the repository lock: a pipeline of upstream
 * choice, metadata, packages (planned from primary.xml while they download) and commit. Until the
 * commit the previous generation is what clients get; a crash anywhere leaves it in place, and the
 * next run reuses every blob stored.
 */
export async function runMirrorSync(options: MirrorSyncOptions): Promise<MirrorSyncResult> {
  const run = await startRun(options);
  let client: UpstreamClient | undefined;
  try {
    const upstream = await openUpstream(run);
    client = upstream.client;
    const metadata = await fetchMetadata(run, client, upstream.repomdText);
    run.mark("metadata");
    const plan = await planPackages(run, metadata);
    const stored = await downloadPackages(run, client, plan);
    run.mark("packages");
    const served = plan.rebased > 0 ? await serveFromHere(run, metadata, plan) : metadata;
    return await commitGeneration(run, served, plan, stored);
  } finally {
    await run.progressWritten;
    await run.index.updateSyncState({
      downloadedBytes: run.downloadedBytes,
      downloadedPackages: run.downloadedPackages,
    });
    await client?.close();
  }
}

async function startRun(options: MirrorSyncOptions): Promise<SyncRun> {
  const { storage, repository, signal } = options;
  const index = await storage.openIndex(repository);
  if (!index) throw new YumError("REPO_NOT_FOUND", `repository ${repository} not found`);
  const concurrency = options.concurrency ?? 32;
  // Every in-flight download listens on the lock's signal.
  setMaxListeners(concurrency * 4 + 16, signal);
  let lastProgress = 0;
  let latestSynced = 0;
  let trailing: ReturnType<typeof setTimeout> | undefined;
  let phaseStart = Date.now();
  const writeProgress = () => {
    lastProgress = Date.now();
    const progress = {
      syncedPackages: latestSynced,
      downloadedBytes: run.downloadedBytes,
      downloadedPackages: run.downloadedPackages,
    };
    // A write that fails is left: the next one (or the sync's end) writes the counters again.
    run.progressWritten = run.progressWritten
      .then(() => index.updateSyncState(progress))
      .catch(() => undefined);
  };
  const run: SyncRun = {
    options,
    index,
    blobs: storage.blobs(repository),
    paths: storage.paths(repository),
    concurrency,
    downloadedBytes: 0,
    downloadedPackages: 0,
    fromRegistryPackages: 0,
    phases: {},
    progressWritten: Promise.resolve(),
    progress: (synced, force = false) => {
      latestSynced = synced;
      const wait = progressEveryMs - (Date.now() - lastProgress);
      if (!force && wait > 0) {
        // A trailing write, so that the last count of a burst is recorded even when the next
        // package takes minutes (the dashboard and `sync --wait` show it while they wait).
        trailing ??= setTimeout(() => {
          trailing = undefined;
          writeProgress();
        }, wait);
        return;
      }
      clearTimeout(trailing);
      trailing = undefined;
      writeProgress();
    },
    mark: (phase) => {
      const t = Date.now();
      run.phases[phase] = t - phaseStart;
      phaseStart = t;
    },
  };
  return run;
}

/**
 * Chooses where this sync downloads from and reads that upstream's repomd.xml. With a metalink or
 * mirrorlist, its mirrors (then `urls`) are tried in its order until one serves a current
 * repomd.xml (`selectMirror`); otherwise `urls` fail over in order. Either way an upstream older
 * than what is served is refused unless the sync is forced: a stale mirror never rolls us back.
 */
async function openUpstream(run: SyncRun): Promise<{ client: UpstreamClient; repomdText: string }> {
  const { options, index } = run;
  await run.index.updateSyncState({ phase: "metadata" });
  // What a roll back would replace: upstream's repomd.xml of the last sync. A mirror without packages
  // serves the empty repodata written when it was created (or an empty upstream's): nothing to protect.
  const servedText = (await index.countPackages()) > 0 ? (await index.getState()).repomd : undefined;
  const served = servedText ? parseRepomd(servedText) : undefined;
  const force = options.force ?? false;
  const clientOptions = (urls: string[]): UpstreamClientOptions => ({
    connections: run.concurrency,
    urls,
    log: options.log.info,
    signal: options.signal,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.proxy ? { proxy: options.proxy } : {}),
  });
  if (options.mirrorList) {
    const source = options.mirrorList;
    const reader = new UpstreamClient({ ...clientOptions([source.url]), connections: 1 });
    let list: MirrorList = { mirrors: [] };
    try {
      list = await readMirrorList(source, (url, o) => reader.document(url, o));
      options.log.info(`${source.kind} lists ${list.mirrors.length} mirror(s)`);
    } catch (err) {
      // mirror_urls, when set too, are the way to go on while the list's server is away.
      if (options.urls.length === 0) throw err;
      options.log.info(`${(err as Error).message}; trying mirror_urls`);
    } finally {
      await reader.close();
    }
    const selected = await selectMirror([...new Set([...list.mirrors, ...options.urls])], {
      // One short-lived client per mirror tried: a mirror that is down costs one refused connection.
      fetchRepomd: async (base) => {
        const probe = new UpstreamClient({ ...clientOptions([base]), connections: 1, attempts: 2 });
        try {
          return (await probe.text("repodata/repomd.xml", { maxBytes: maxRepomdBytes }))!;
        } finally {
          await probe.close();
        }
      },
      ...(list.metalink ? { metalink: list.metalink } : {}),
      ...(served ? { served } : {}),
      force,
      log: options.log.info,
    });
    return { client: new UpstreamClient(clientOptions(selected.urls)), repomdText: selected.repomdText };
  }
  const client = new UpstreamClient(clientOptions(options.urls));
  try {
    const repomdText = (await client.text("repodata/repomd.xml", { maxBytes: maxRepomdBytes }))!;
    const rollback = served ? rollbackProblem(parseRepomd(repomdText), served) : undefined;
    if (rollback && !force) throw staleUpstream(rollback);
    if (rollback) options.log.info(`forced sync: ${rollback}; accepted`);
    return { client, repomdText };
  } catch (err) {
    await client.close();
    throw err;
  }
}

/** The signature (checked with a `gpg_key`), then every data file repomd.xml lists, verified and stored. */
async function fetchMetadata(
  run: SyncRun,
  client: UpstreamClient,
  repomdText: string,
): Promise<UpstreamMetadata> {
  const { blobs, options } = run;
  const asc = await client.text("repodata/repomd.xml.asc", { maxBytes: 1024 ** 2, optional: true });
  if (options.gpgKey && asc !== undefined) await verifyRepomdSignature(repomdText, asc, options.gpgKey);
  const repomd = parseRepomd(repomdText);
  const digests = new Map<RepomdRecord, string>();
  for (const record of repomd.records) {
    assertSafeHref(record.location, "repomd.xml");
    // A data file under xml:base is fetched from there (and served from here: repomd.xml is then ours).
    const url =
      record.locationBase !== undefined
        ? packageUrl(record.locationBase, record.location, `repomd.xml (${record.type})`)
        : undefined;
    // Stored here, or (storage.driver: registry) by another node's sync: not downloaded again.
    const known = record.checksum.type === "sha256" ? record.checksum.value : undefined;
    if (
      known &&
      (await run.options.storage.localBlob(run.options.repository, "repodata", { digest: known }))
    ) {
      digests.set(record, known);
      continue;
    }
    const expected = { size: record.size, checksum: record.checksum };
    const blob = url
      ? await client.downloadUrl(url, blobs, expected, 4 * 1024 ** 3)
      : await client.download(record.location, blobs, expected, 4 * 1024 ** 3);
    await blobs.commit(blob);
    await run.options.storage.share(run.options.repository, "repodata", blob);
    digests.set(record, blob.digest);
    run.downloadedBytes += blob.size;
  }
  return { repomdText, repomd, asc, digests };
}

/**
 * The plan, streamed: primary.xml is read as the packages step asks for work, and compared with
 * what the index holds (hrefs and upstream checksums only, not the rows' XML), so that downloads
 * start with the first package that changed.
 */
async function planPackages(run: SyncRun, metadata: UpstreamMetadata): Promise<PackagePlan> {
  const { index, blobs } = run;
  const primary = metadata.repomd.records.find((r) => r.type === "primary");
  if (!primary) throw new YumError("REPODATA_INVALID", "repomd.xml lists no primary metadata");
  const plan: PackagePlan = {
    packages: undefined as unknown as AsyncGenerator<UpstreamPackage>,
    existing: new Map((await index.listPackageChecksums()).map((p) => [p.href, p])),
    hrefs: new Set<string>(),
    replaced: [],
    total: 0,
    rebased: 0,
    synced: 0,
  };
  await index.updateSyncState({ phase: "packages", totalPackages: 0, syncedPackages: 0 });
  // `limits.max_packages_per_repository`: what primary.xml declares (`<metadata packages="N">`) is
  // checked before the first package is handed to the downloads, what it lists as it streams.
  const limit = index.maxPackages;
  let declared = 0;
  async function* changed(): AsyncGenerator<UpstreamPackage> {
    for await (const pkg of readUpstreamPrimary(
      openMetadata(blobs.pathOf(metadata.digests.get(primary!)!), primary!.location, primary!),
      (count) => {
        declared = count;
        run.progressWritten = run.progressWritten
          .then(() => index.updateSyncState({ totalPackages: count }))
          .catch(() => undefined);
      },
    )) {
      if (declared > limit || plan.total >= limit) throw tooManyPackages(declared, limit);
      assertSafeHref(pkg.href, `primary.xml (${pkg.name})`);
      // Checked here, before any download: a base we would not fetch from fails the sync at once.
      if (pkg.base !== undefined) {
        packageUrl(pkg.base, pkg.href, `primary.xml (${pkg.name})`);
        plan.rebased++;
      }
      if (plan.hrefs.has(pkg.href))
        throw new YumError("REPODATA_INVALID", `primary.xml lists ${pkg.href} twice`);
      plan.hrefs.add(pkg.href);
      plan.total++;
      const have = plan.existing.get(pkg.href);
      if (have && have.upstreamChecksum === `${pkg.checksum.type}:${pkg.checksum.value}`) plan.synced++;
      else {
        if (have) plan.replaced.push(pkg.href);
        yield pkg;
      }
    }
  }
  plan.packages = changed();
  return plan;
}

/** The sync's error for an upstream listing more packages than a repository may hold. */
function tooManyPackages(declared: number, limit: number): YumError {
  const listed = declared > limit ? `${declared} packages` : `more than ${limit} packages`;
  return new YumError(
    "REPO_PACKAGE_LIMIT",
    `upstream primary.xml lists ${listed}, more than limits.max_packages_per_repository (${limit}) allows: the sync stopped and nothing served changed; raise the limit to mirror it`,
    { declared, limit },
  );
}

/** Rows staged per batch: a sync of any size holds one batch of package rows (and their XML) in memory. */
const stagedBatch = 256;

/**
 * The package rows of the generation being built, written to the index's staging area a batch at
 * a time (a short fenced transaction each, so no long one holds the database); the commit switches
 * them all in at once. Rows a crashed or failed sync staged are cleared when the next one starts.
 */
class StagedRows {
  private batch: PackageRecord[] = [];
  count = 0;

  private constructor(
    private readonly index: RepoIndex,
    private readonly fence: number,
  ) {}

  static async start(index: RepoIndex, fence: number): Promise<StagedRows> {
    await index.clearStagedPackages(fence);
    return new StagedRows(index, fence);
  }

  async add(record: PackageRecord): Promise<void> {
    this.batch.push(record);
    this.count++;
    if (this.batch.length >= stagedBatch) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    // Taken before the write: packages finishing meanwhile start the next batch.
    const batch = this.batch;
    this.batch = [];
    await this.index.stagePackages(this.fence, batch);
  }
}

/**
 * Packages: only what the plan yields; a blob stored by an interrupted run is reused as it is.
 * Small packages arrive whole in memory and are parsed, indexed and stored by the package thread
 * while this one keeps downloading; big ones stream to a temporary file and are parsed here.
 */
async function downloadPackages(
  run: SyncRun,
  client: UpstreamClient,
  plan: PackagePlan,
): Promise<StoredPackages> {
  const { options, blobs, index } = run;
  const { storage } = options;
  const staging = await StagedRows.start(index, options.fence);
  /** storage.driver: registry: a package another node's sync stored, fetched from the registry into this node's cache. */
  const fromRegistry = async (stored: Set<string>, digest: string, size: number) => {
    if (!storage.registry) return false;
    if (!(await storage.localBlob(options.repository, "packages", { digest, size }))) return false;
    stored.add(digest);
    run.fromRegistryPackages++;
    return true;
  };
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
  const packageThread = lazyPackageThread();
  let smallPackages = 0;
  const gpg = options.gpgKey ? { gpgKey: options.gpgKey } : {};
  const finish = async (u: UpstreamPackage, record: PackageRecord, lazy = false) => {
    // storage.driver: registry: in the registry before the index names it, so that a sync killed
    // here and resumed on another node finds it there instead of downloading it again.
    if (!lazy)
      await storage.share(options.repository, "packages", { digest: record.id, size: record.fileSize });
    await staging.add({ ...record, upstreamChecksum: `${u.checksum.type}:${u.checksum.value}` });
    run.progress(++plan.synced);
  };
  /** A package downloaded and stored (not durable yet): counted, and made durable before the commit. */
  const downloadedOne = (stored: Set<string>, digest: string, size: number) => {
    downloaded.push(digest);
    stored.add(digest);
    run.downloadedBytes += size;
    run.downloadedPackages++;
  };
  // Packages handed to the thread and not stored yet: at most `backlogBytes` of them in memory.
  const backlog = new Semaphore(backlogBytes);
  // Only those not settled yet: a sync of any size holds a backlog's worth, not one per package.
  const storings = new Set<Promise<void>>();
  let storeFailure: unknown;

  /** Hands a small package to the thread without waiting: this slot goes on downloading meanwhile. */
  const storeOnThread = async (small: PackageStore, u: UpstreamPackage, stored: Set<string>) => {
    const { data, digest } = await client.fetchVerified(
      u.href,
      { size: u.size, checksum: u.checksum },
      wholeBelow,
    );
    // `store` transfers the bytes to the thread: `data` is empty afterwards.
    const size = data.length;
    const release = await backlog.acquire(size);
    const storing = small
      .store({ root: blobs.root, href: u.href, digest, data, uploadTime, ...gpg }, { transfer: true })
      .then((record) => {
        downloadedOne(stored, digest, size);
        return finish(u, record);
      })
      .finally(() => {
        release();
        storings.delete(storing);
      });
    storing.catch((err: unknown) => {
      storeFailure ??= err;
    });
    storings.add(storing);
  };

  try {
    await runBounded(
      plan.packages,
      run.concurrency,
      async (u) => {
        if (storeFailure) throw storeFailure;
        const stored = await storedBlobs();
        // A package under xml:base is downloaded now: the API fetches on demand from mirror_urls only.
        if (
          onDemand &&
          u.base === undefined &&
          u.checksum.type === "sha256" &&
          !stored.has(u.checksum.value)
        ) {
          await finish(u, lazyRecord(u, uploadTime), true);
          return;
        }
        let digest = u.checksum.type === "sha256" ? u.checksum.value : undefined;
        let parsed: ReadRpmResult | undefined;
        if (digest && (stored.has(digest) || (await fromRegistry(stored, digest, u.size))))
          reused.push(digest);
        else {
          // Packages under xml:base stream to a file (`streamToBlob`): the thread's downloads go to mirror_urls.
          const small =
            u.base === undefined && u.size <= wholeBelow && ++smallPackages > threadAfter
              ? packageThread.get()
              : undefined;
          if (small) return storeOnThread(small, u, stored);
          let size: number;
          ({ digest, size, parsed } = await streamToBlob(client, blobs, u, maxPackageBytes));
          downloadedOne(stored, digest, size);
        }
        await finish(u, await recordOf(blobs, u, { digest: digest!, uploadTime, ...gpg }, parsed));
      },
      { signal: options.signal },
    );
  } finally {
    // runBounded has waited for every download it started; every package handed over to the thread
    // settles too, whether the pool ended or failed (if it failed, they are stored but not
    // recorded: garbage once the grace period has passed).
    await Promise.allSettled([...storings]);
    packageThread.release();
  }
  if (storeFailure) throw storeFailure;
  await staging.flush();
  const removed = [...plan.existing.values()].filter((p) => !plan.hrefs.has(p.href)).map((p) => p.href);
  await run.progressWritten;
  await index.updateSyncState({ totalPackages: plan.total });
  run.progress(plan.synced, true);
  return { changed: staging.count, removed, blobs: [...downloaded, ...reused] };
}

/**
 * The package thread, which parses, indexes and stores small packages: started on first use (a
 * sync that downloads a few packages does without: it costs ~150 ms to start); undefined when
 * running from TypeScript sources.
 */
function lazyPackageThread(): { get: () => PackageStore | undefined; release: () => void } {
  let thread: PackageStore | undefined;
  let started = false;
  return {
    get: () => {
      if (!started) thread = PackageStore.shared();
      started = true;
      return thread;
    },
    release: () => thread?.release(),
  };
}

/** Streams a package to a blob (made durable later, with the others), keeping its start to parse the headers. */
async function streamToBlob(
  client: UpstreamClient,
  blobs: FsBlobStore,
  u: UpstreamPackage,
  maxPackageBytes: number,
): Promise<{ digest: string; size: number; parsed: ReadRpmResult | undefined }> {
  // Keeps the headers and verifies the payload digest while the bytes stream (per attempt).
  const check = new RpmDownloadCheck(u.href);
  const expected = { size: u.size, checksum: u.checksum };
  // A package under xml:base comes from there (`packageUrl` was checked when planned).
  const blob =
    u.base !== undefined
      ? await client.downloadUrl(
          packageUrl(u.base, u.href, `primary.xml (${u.name})`),
          blobs,
          expected,
          maxPackageBytes,
          false,
          check.inspector,
        )
      : await client.download(u.href, blobs, expected, maxPackageBytes, false, check.inspector);
  await blobs.commit(blob, { durable: false });
  return { digest: blob.digest, size: blob.size, parsed: check.parse(blob.size) };
}

/** The index row of a stored package; a blob that is no valid RPM fails the sync naming its href. */
async function recordOf(
  blobs: FsBlobStore,
  u: UpstreamPackage,
  stored: { digest: string; uploadTime: number; gpgKey?: string },
  parsed: ReadRpmResult | undefined,
): Promise<PackageRecord> {
  try {
    return await buildPackageRecord(blobs, { ...stored, verified: false }, { href: u.href }, parsed);
  } catch (err) {
    const code = err instanceof YumError ? `${err.code}: ` : "";
    throw new YumError("REPODATA_INVALID", `${u.href}: ${code}${(err as Error).message}`, {}, { cause: err });
  }
}

/**
 * Packages upstream lists under `xml:base` were downloaded from there; clients must get them from
 * us, so the primary.xml we serve is upstream's with those bases dropped (`rewrittenRepomd`, which
 * also leaves out the sqlite databases), and the repomd.xml we serve is ours: upstream's signature
 * no longer applies; ours is served instead (`commitGeneration`).
 */
async function serveFromHere(
  run: SyncRun,
  metadata: UpstreamMetadata,
  plan: PackagePlan,
): Promise<UpstreamMetadata> {
  const { options, blobs } = run;
  const rewritten = await rewrittenRepomd({
    repomd: metadata.repomd,
    digests: metadata.digests,
    blobs,
    transform: dropXmlBase,
    signal: options.signal,
  });
  run.mark("rewrite");
  options.log.info(
    `${plan.rebased} of ${plan.total} packages are listed under xml:base upstream: downloaded from there, served from here`,
  );
  options.log.info(
    "primary.xml rewritten (xml:base): upstream's repomd.xml signature no longer applies; repomd.xml is signed with the server's key",
  );
  if (rewritten.dropped.length > 0)
    options.log.info(
      `not served: ${rewritten.dropped.join(", ")} (they name upstream's locations, as location_base; dnf reads primary.xml)`,
    );
  return {
    ...metadata,
    repomd: rewritten.repomd,
    digests: rewritten.digests,
    asc: undefined,
    rewritten: true,
  };
}

/**
 * The signature of a repomd.xml of ours: the one served already when it is the same text signed
 * by the current key (a re-sync of an unchanged upstream changes nothing), else a new one.
 */
async function ourSignature(
  run: SyncRun,
  served: string,
  before: { repomd: string | undefined; repomdAsc: string | undefined },
): Promise<string> {
  const { signer } = run.options;
  if (before.repomd === served && before.repomdAsc !== undefined && (await signer.issued(before.repomdAsc)))
    return before.repomdAsc;
  return signer.sign(served);
}

/**
 * Publish: every new blob durable, data files in place, then the new generation in one
 * transaction, then repomd.xml on disk and the garbage of the previous generation. Nothing is
 * published when upstream has not changed.
 */
async function commitGeneration(
  run: SyncRun,
  metadata: UpstreamMetadata,
  plan: PackagePlan,
  stored: StoredPackages,
): Promise<MirrorSyncResult> {
  const { index, blobs, paths, options } = run;
  const { repomd, digests } = metadata;
  const verbatim = !metadata.rewritten && servableVerbatim(repomd.records);
  const served = verbatim
    ? metadata.repomdText
    : renderRepomd({
        // Deterministic (no clock): a re-sync of an unchanged upstream renders the same bytes.
        revision: repomd.revision ?? Math.max(0, ...repomd.records.map((r) => r.timestamp)),
        ...(repomd.tags ? { tags: repomd.tags } : {}),
        // Every file is served from here: no xml:base.
        records: repomd.records.map((record) => {
          const { locationBase: _, ...r } = record;
          return { ...r, location: `repodata/${servedName(record, digests.get(record)!)}` };
        }),
      });
  const before = await index.getState();
  const servedAsc = verbatim ? metadata.asc : await ourSignature(run, served, before);
  const unchanged = {
    total: plan.total,
    downloaded: 0,
    fromRegistry: run.fromRegistryPackages,
    removed: 0,
    published: false,
    phases: run.phases,
  };
  if (
    stored.changed === 0 &&
    stored.removed.length === 0 &&
    before.repomd === served &&
    before.repomdAsc === servedAsc
  ) {
    return unchanged;
  }
  await index.updateSyncState({ phase: "publish" });
  // Every blob of the new generation is durable before anything refers to it.
  await blobs.syncMany(stored.blobs, {
    ...(options.fsyncTimeoutMs !== undefined ? { timeoutMs: options.fsyncTimeoutMs } : {}),
  });
  run.mark("durable");
  await mkdir(paths.repodata, { recursive: true });
  for (const [record, digest] of digests) {
    const name = verbatim ? basename(record.location) : servedName(record, digest);
    await blobs.placeAt(digest, `${paths.repodata}/${name}`);
    // A file of ours (a rewritten primary.xml) is new; upstream's were shared when downloaded.
    await options.storage.share(options.repository, "repodata", { digest });
  }
  options.signal.throwIfAborted();
  // The staged rows that replace packages at their hrefs are not in the index before the commit.
  await options.front?.retract(index, paths, { hrefs: [...plan.replaced, ...stored.removed] });
  await index.commitMirrorGenerationAsync(options.fence, {
    deleteTags: [],
    deleteHrefs: stored.removed,
    revision: Math.max(now(), before.revision + 1),
    repomd: served,
    repomdAsc: servedAsc,
  });
  run.mark("commit");
  await writeRepomdCopy(paths.repodata, served, servedAsc);
  await options.front?.update(index, paths);
  const previous = new Set(
    before.repomd ? parseRepomd(before.repomd).records.map((r) => basename(r.location)) : [],
  );
  await collectRepodataGarbage(
    paths.repodata,
    previous,
    new Set(parseRepomd(served).records.map((r) => basename(r.location))),
    options.graceSeconds,
  );
  await collectBlobGarbage(index, blobs, options.graceSeconds);
  run.mark("gc");
  if (!verbatim && !metadata.rewritten)
    options.log.info(
      "upstream data files are not checksum-named: repomd.xml was rewritten (and signed with the server's key instead of upstream's)",
    );
  return {
    total: plan.total,
    downloaded: run.downloadedPackages,
    fromRegistry: run.fromRegistryPackages,
    removed: stored.removed.length,
    published: true,
    phases: run.phases,
  };
}
