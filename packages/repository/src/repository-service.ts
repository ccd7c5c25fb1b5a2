import { mkdir } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Readable } from "node:stream";
import { isYumError, keepStoredSecret, YumError } from "@beskar-yum/errors";
import { REPOMD_TAG } from "@beskar-yum/oci";
import { assertCronPattern, type RepoLock, type RepoTrigger, type SyncQueue } from "@beskar-yum/queue";
import { RpmPayloadVerifier, readRpm, rpmFileName, verifyRpmSignature } from "@beskar-yum/rpm";
import type { RepomdSigner } from "@beskar-yum/signing";
import type {
  ExtraMetadataRecord,
  LogRecord,
  PackageRecord,
  RegistryTombstone,
  RepoEvent,
  RepoIndex,
  RepositoryProperties,
  RepositoryStorage,
} from "@beskar-yum/storage";
import { readKeys } from "openpgp";
import {
  assertExtraDataType,
  assertExtraFileName,
  defaultExtraFileName,
  inspectExtraFile,
  sniffCompression,
} from "./extra-metadata.js";
import type { FrontTree } from "./front-tree.js";
import { assertRoomForPackage } from "./package-limit.js";
import { formatTime, packageTag, type RepositoryPackageView, toPackageView } from "./package-view.js";
import { cutPage, type Page, type PageRequest, pageLimits, pagePosition, pageToken } from "./pagination.js";
import { publishRepodata, repodataSharer } from "./publisher.js";
import type { RegistryHoldings } from "./registry-holdings.js";
import { defaultProperties, isHttpUrl, mergeProperties, propertiesView } from "./repository-properties.js";
import { ServedRepodata } from "./served-repodata.js";

export interface RepositoryServiceOptions {
  storage: RepositoryStorage;
  trigger: Pick<RepoTrigger, "trigger">;
  lock: RepoLock;
  /** Largest accepted upload, in bytes. */
  maxUploadBytes: number;
  /** How long `wait` operations wait for the worker. */
  waitTimeoutMs: number;
  /** How long `sync` with `wait` waits for the sync to end (TIMEOUT after). Default 30 min. */
  syncWaitTimeoutMs?: number;
  /** How long files of a superseded repodata generation stay readable. */
  graceSeconds: number;
  /** The server's repodata signing key (the first, empty, publish of a repository is signed too). */
  signer: RepomdSigner;
  /** Where sync requests and schedules go. */
  syncs: Pick<SyncQueue, "enqueue" | "schedule">;
  /**
   * The registry replica (`registry.url`), asked about a repository this node has no index for:
   * one whose repodata it holds is refused (REPO_NOT_RESTORED) rather than created empty, and is
   * what `restore` reads back. None: no registry, nothing to protect or restore from.
   */
  registry?: RegistryHoldings;
  /** `http.front_tree`: a repository's entries go before it is deleted, and its first publish adds them. */
  frontTree?: FrontTree;
  now?: () => number;
}

export interface UploadResult {
  seq: number;
  id: string;
  tag: string;
  name: string;
  version: string;
  release: string;
  architecture: string;
}

/** Resolves after `ms`, or rejects with `signal`'s reason as soon as it aborts. */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** One line of `GET /repository:list` (our addition: Beskar's API has no list of repositories). */
export interface RepositorySummary {
  repository: string;
  mirror: boolean;
  packages: number;
  syncing: boolean;
  /** Set when the repository's index cannot be read (corrupt, newer, unavailable): what is wrong. */
  error?: string;
}

const isPackageCursor = (after: unknown): after is { href: string; tag: string } =>
  typeof after === "object" &&
  after !== null &&
  typeof (after as { href?: unknown }).href === "string" &&
  typeof (after as { tag?: unknown }).tag === "string";

/** A log page token's position: a line number. */
const isLogPosition = (a: unknown): a is number => typeof a === "number" && Number.isSafeInteger(a) && a >= 0;

/**
 * What the API does to repositories. It validates and records; the worker applies and publishes.
 * Every method takes a full, validated repository name (`artifacts/yum/<name>`).
 */
export class RepositoryService {
  private readonly storage: RepositoryStorage;
  private readonly now: () => number;
  private readonly served: ServedRepodata;

  constructor(private readonly options: RepositoryServiceOptions) {
    this.storage = options.storage;
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.served = new ServedRepodata(options.graceSeconds, this.now);
  }

  /**
   * Where a repodata data file (`repo/repodata/<file>`) of an existing repository is, when the
   * published repomd.xml (or one superseded less than the grace period ago) lists it; else undefined.
   * Only listed files are served, never whatever else the folder holds.
   */
  servedRepodataPath(repository: string, index: RepoIndex, file: string): Promise<string | undefined> {
    return this.served.path(repository, index, this.storage.paths(repository).repodata, file);
  }

  /**
   * `storage.driver: registry`: a served data file this node has not got (another node published
   * it) is fetched from the registry, by the sha256 its name starts with, into this node's repodata
   * folder at `path` (what `servedRepodataPath` answered). False when it cannot be.
   */
  async fetchRepodataFile(repository: string, path: string): Promise<boolean> {
    const digest = /^([0-9a-f]{64})-/.exec(basename(path))?.[1];
    if (!digest || !this.storage.registry) return false;
    if (!(await this.storage.localBlob(repository, "repodata", { digest }))) return false;
    await mkdir(dirname(path), { recursive: true });
    await this.storage.blobs(repository).placeAt(digest, path);
    return true;
  }

  /** The index of an existing repository, else REPO_NOT_FOUND. */
  private async existing(repository: string): Promise<RepoIndex> {
    const index = await this.storage.openIndex(repository);
    if (!index || !(await index.getRepository()))
      throw new YumError("REPO_NOT_FOUND", `repository ${repository} not found`);
    return index;
  }

  private async record(repository: string, index: RepoIndex, event: RepoEvent): Promise<number> {
    const seq = await index.appendEvent(event, this.now());
    await this.options.trigger.trigger(repository);
    return seq;
  }

  async create(repository: string, properties: unknown): Promise<void> {
    if (properties === undefined || properties === null) {
      throw new YumError("INVALID_ARGUMENT", "properties: required");
    }
    const merged = mergeProperties(defaultProperties, properties);
    await validateGpgKey(merged.gpg_key);
    const schedule = scheduleOf(merged);
    // Nothing changes before the request is known to be valid and the name free: a refused create
    // must leave the existing repository (and its sync schedule) as it was.
    // Awaited: an index whose repository another create has not finished recording is not one
    // that exists (the promise alone was truthy, and a concurrent upload to a new repository on
    // PostgreSQL, where that window is round trips long, went on to REPO_NOT_FOUND).
    const current = await this.storage.openIndex(repository);
    if (current && (await current.getRepository()))
      throw new YumError("REPO_ALREADY_EXISTS", `repository ${repository} already exists`);
    // Created empty here, its first publish would be pushed over the registry's full copy. Unless
    // that copy is of a repository deleted here, whose manifests the worker deletes before it
    // pushes anything under the name again.
    const tombstone = await this.storage.registryTombstone(repository);
    const deletedHere = tombstone?.manifests.some((m) => m.kind === "repodata" && m.tag === REPOMD_TAG);
    if (!deletedHere && (await this.registryHoldsRepodata(repository))) {
      throw new YumError(
        "REPO_NOT_RESTORED",
        `repository ${repository} exists in the registry but has no index on this node: restore it first (beskar-yum restore ${repository})`,
        { repository },
      );
    }
    const index = await this.storage.createIndex(repository);
    // Two creates of one name at once: the index takes one, the other is refused here.
    await index.createRepository(merged, this.now());
    await this.options.syncs.schedule(repository, schedule);
    // A repository that exists is servable: publish its (empty) repodata now. This is the one
    // publish done in a request, and it is tiny; every later one is the worker's.
    const held = await this.options.lock.acquire(repository, { timeoutMs: this.options.waitTimeoutMs });
    try {
      await publishRepodata(index, this.storage.paths(repository), {
        fence: held.fence,
        graceSeconds: this.options.graceSeconds,
        signer: this.options.signer,
        signal: held.signal,
        share: repodataSharer(this.storage, repository),
        ...(this.options.frontTree ? { front: this.options.frontTree.of(repository) } : {}),
      });
    } finally {
      await held.release();
    }
  }

  /**
   * Whether the registry replica holds published repodata of `repository`. A registry that is down
   * does not stop creates and uploads with the filesystem driver (the replica never does: publishing goes on, pushes are retried):
   * the worker's replica round is what protects the registry's copy, and it pushes nothing over a
   * `repomdxml` it has no record of (REPO_NOT_RESTORED, registry-replica.ts).
   */
  private async registryHoldsRepodata(repository: string): Promise<boolean> {
    try {
      return (await this.options.registry?.holdsRepodata(repository)) ?? false;
    } catch (err) {
      // Unless the registry is the store (storage.driver: registry): then the create's first
      // publish could not be stored either, and would leave the repository created but unpublished.
      if (isYumError(err, "REGISTRY_UNAVAILABLE") && !this.storage.registry) return false;
      throw err;
    }
  }

  /**
   * Rebuilds a repository this node has no index for from the registry replica (disaster recovery,
   * a new node, migration from Beskar's Go plugin): the repository is created with `properties`
   * (the registry layout has none: hosted by default, `mirror: true` for a mirror) and a `restore`
   * event recorded; the worker reads the registry and publishes. Returns the event's sequence.
   */
  async restore(repository: string, properties: unknown): Promise<number> {
    if (!this.options.registry) {
      throw new YumError(
        "REGISTRY_NOT_CONFIGURED",
        "restore reads a repository back from the registry replica: configure registry.url (BESKARYUM_REGISTRY_URL)",
      );
    }
    const merged = mergeProperties(defaultProperties, properties ?? {});
    await validateGpgKey(merged.gpg_key);
    const schedule = scheduleOf(merged);
    if (await (await this.storage.openIndex(repository))?.getRepository()) {
      throw new YumError(
        "REPO_ALREADY_EXISTS",
        `repository ${repository} has an index on this node: restore rebuilds a repository that has none`,
      );
    }
    if (!(await this.options.registry.holdsRepository(repository))) {
      throw new YumError("REPO_NOT_FOUND", `the registry holds no repository ${repository}`);
    }
    const index = await this.storage.createIndex(repository);
    // No empty publish here (unlike `create`): the first repodata is the restored one.
    await index.createRepository(merged, this.now());
    await this.options.syncs.schedule(repository, schedule);
    return this.record(repository, index, { action: "restore" });
  }

  async update(repository: string, properties: unknown): Promise<void> {
    const index = await this.existing(repository);
    const current = (await index.getRepository())!;
    if (current.deleting)
      throw new YumError("REPO_BEING_DELETED", `repository ${repository} is being deleted`);
    const merged = mergeProperties(current.properties, properties ?? {});
    await validateGpgKey(merged.gpg_key);
    const schedule = scheduleOf(merged);
    if (merged.mirror && !current.properties.mirror) {
      // A mirror's content is its upstream's: packages uploaded to a hosted repository would be
      // replaced or mixed with it. They have to go first.
      const count = await index.countPackages();
      if (count > 0 || (await index.hasPendingEvents()) || (await index.listExtraMetadata()).length > 0) {
        throw new YumError(
          "REPO_NOT_EMPTY",
          `repository ${repository} is a hosted repository with ${count} packages (or uploads and extra metadata): it cannot become a mirror; delete them first`,
        );
      }
    }
    await index.updateRepository(merged);
    await this.options.syncs.schedule(repository, schedule);
  }

  /**
   * Starts a mirror sync (Beskar's `sync` and `sync:url`), refused while one runs. With `wait`,
   * returns when it ends, and fails with its error.
   */
  async startSync(
    repository: string,
    options: { url?: string; wait: boolean; force?: boolean; signal?: AbortSignal },
  ): Promise<void> {
    const index = await this.existing(repository);
    const repo = (await index.getRepository())!;
    if (!repo.properties.mirror)
      throw new YumError("REPO_NOT_MIRROR", `repository ${repository} is not a mirror`);
    if (repo.deleting) throw new YumError("REPO_BEING_DELETED", `repository ${repository} is being deleted`);
    const listed = Boolean(repo.properties.metalink || repo.properties.mirrorlist);
    if (options.url === undefined && repo.properties.mirror_urls.length === 0 && !listed) {
      throw new YumError(
        "REPO_NOT_MIRROR",
        `repository ${repository} has no mirror URL, metalink or mirrorlist to sync from`,
      );
    }
    if (options.url !== undefined && !isHttpUrl(options.url)) {
      throw new YumError("INVALID_ARGUMENT", "mirror_url: expected an http(s) URL");
    }
    // A mirror URL copied from GET /repository (password shown as ***) syncs with the stored password.
    const url =
      options.url === undefined
        ? undefined
        : keepStoredSecret(options.url, repo.properties.mirror_urls, "mirror_url");
    const startTime = this.now();
    if (!(await index.beginSync(startTime)))
      throw new YumError("SYNC_IN_PROGRESS", "a repository sync is already running");
    try {
      await this.options.syncs.enqueue({
        repository,
        startTime,
        ...(url !== undefined ? { urls: [url] } : {}),
        ...(options.force ? { force: true } : {}),
      });
    } catch (err) {
      const error = `could not queue the sync: ${(err as Error).message}`;
      await index.endSync(this.now(), error, { log: `sync failed: ${error}` });
      throw err;
    }
    if (!options.wait) return;
    // One index read per look: polling often costs nothing next to a sync, and answers on time. The
    // wait ends at its deadline (the sync goes on) or as soon as `signal` says the client left.
    const waitMs = this.options.syncWaitTimeoutMs ?? 30 * 60_000;
    const deadline = Date.now() + waitMs;
    for (let delay = 10; (await index.getSyncState()).syncing; delay = Math.min(delay * 2, 50)) {
      options.signal?.throwIfAborted();
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new YumError(
          "TIMEOUT",
          `the sync of ${repository} is still running after ${waitMs} ms (sync.wait_timeout_ms); it goes on: follow it with sync:status`,
        );
      }
      await sleep(Math.min(delay, left), options.signal);
    }
    const { syncError } = await index.getSyncState();
    if (syncError) throw new YumError("SYNC_FAILED", `synchronization failed: ${syncError}`);
  }

  /** Beskar's sync status, plus our phase and byte counters. */
  async syncStatus(repository: string): Promise<Record<string, unknown>> {
    const state = await (await this.existing(repository)).getSyncState();
    return {
      syncing: state.syncing,
      start_time: formatTime(state.startTime),
      end_time: formatTime(state.endTime),
      total_packages: state.totalPackages,
      synced_packages: state.syncedPackages,
      sync_error: state.syncError,
      phase: state.phase,
      downloaded_packages: state.downloadedPackages,
      downloaded_bytes: state.downloadedBytes,
      bytes_per_second: Math.round(
        state.downloadedBytes /
          Math.max(1, (state.syncing || !state.endTime ? this.now() : state.endTime) - state.startTime),
      ),
    };
  }

  /**
   * A page of the repositories, by name: whether each is a mirror, how many packages it has, whether
   * it syncs. Only the repositories of the page have their index opened.
   */
  async list(
    page: PageRequest = { size: pageLimits.repositories.defaultSize },
    /** Only the names it accepts (a search): checked before any index is opened. */
    nameFilter: (name: string) => boolean = () => true,
  ): Promise<Page<RepositorySummary>> {
    const after = pagePosition("repositories", "", page.token, (a): a is string => typeof a === "string");
    const summaries: RepositorySummary[] = [];
    const names = (await this.storage.listRepositories()).filter(
      (n) => (after === undefined || n > after) && nameFilter(n),
    );
    for (const repository of names.sort()) {
      if (summaries.length > page.size) break;
      try {
        const index = await this.storage.openIndex(repository);
        const repo = await index?.getRepository();
        if (!index || !repo || repo.deleting) continue;
        summaries.push({
          repository,
          mirror: repo.properties.mirror,
          packages: await index.countPackages(),
          syncing: (await index.getSyncState()).syncing,
        });
      } catch (err) {
        // One broken index does not hide the others; it is listed with what is wrong.
        summaries.push({
          repository,
          mirror: false,
          packages: 0,
          syncing: false,
          error: (err as Error).message,
        });
      }
    }
    return cutPage(
      summaries,
      page.size,
      (s) => s,
      (s) => s.repository,
      (a) => pageToken("repositories", "", a),
    );
  }

  async get(repository: string): Promise<{ properties: Record<string, unknown> }> {
    return {
      properties: propertiesView((await (await this.existing(repository)).getRepository())!.properties),
    };
  }

  async delete(repository: string, deletePackages: boolean): Promise<void> {
    const index = await this.existing(repository);
    const current = (await index.getRepository())!;
    if (current.deleting)
      throw new YumError("REPO_BEING_DELETED", `repository ${repository} is being deleted`);
    if ((await index.getSyncState()).syncing)
      throw new YumError("SYNC_IN_PROGRESS", `repository ${repository} is syncing`);
    const count = await index.countPackages();
    if (count > 0 && !deletePackages) {
      throw new YumError(
        "REPO_NOT_EMPTY",
        `repository ${repository} has ${count} packages associated with it`,
      );
    }
    await index.setDeleting(true);
    let held: Awaited<ReturnType<RepoLock["acquire"]>>;
    try {
      held = await this.options.lock.acquire(repository, { timeoutMs: this.options.waitTimeoutMs });
    } catch (err) {
      await index.setDeleting(false);
      throw err;
    }
    try {
      await this.options.syncs.schedule(repository, undefined);
      // The registry replica's manifests outlive the index: the replicator deletes them later.
      const manifests: RegistryTombstone["manifests"] = [];
      for (const kind of ["packages", "repodata"] as const) {
        for (const { tag, manifestDigest } of await index.registry.list(kind))
          manifests.push({ kind, tag, manifestDigest });
      }
      if (manifests.length > 0) await this.storage.addRegistryTombstone({ repository, manifests });
      // The front stops sending its files before they go (it then asks us, and gets 404).
      await this.options.frontTree?.of(repository).remove();
      await this.storage.deleteRepository(repository);
    } finally {
      await held.release();
    }
    if (await this.storage.registryTombstone(repository)) await this.options.trigger.trigger(repository);
  }

  /**
   * Streams an RPM into the repository's blob store, validates it, and records a `put` event. A body
   * that is not a valid RPM (or fails the repository's signature check) is deleted and refused with 400.
   */
  async upload(repository: string, fileName: string, body: Readable): Promise<UploadResult> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._+~^-]*\.rpm$/.test(fileName)) {
      throw new YumError("INVALID_FILE_NAME", `invalid package file name ${JSON.stringify(fileName)}`);
    }
    // Like Beskar, a push to an unknown repository creates it, but only once the RPM is accepted:
    // until then its bytes wait in the storage's staging area, and a refused upload creates nothing.
    // Both awaited, as in create(): the index of a repository another request is still creating
    // holds no repository yet (the promise alone was truthy: 1 of 27 concurrent uploads into a new
    // repository on PostgreSQL got REPO_NOT_FOUND).
    const exists = Boolean(await (await this.storage.openIndex(repository))?.getRepository());
    const repo = exists
      ? (await (await this.writable(repository)).getRepository())!
      : { properties: defaultProperties };
    const blobs = exists ? this.storage.blobs(repository) : this.storage.staging();
    // The payload digest is checked as the body streams in (a tampered payload never gets stored).
    const payload = new RpmPayloadVerifier(fileName);
    const blob = await blobs.ingest(body, { maxBytes: this.options.maxUploadBytes, inspect: payload });
    let verified = false;
    let parsed: Awaited<ReturnType<typeof readRpm>>;
    try {
      if (blob.size === 0)
        throw new YumError("RPM_TRUNCATED", `${fileName}: empty body, expected an RPM file`);
      parsed = await readRpm(blob.tempPath, { fileName });
      if (!payload.verdict) throw new YumError("INTERNAL", `${fileName}: the payload was not verified`);
      // For verifyRpmSignature: packages without PAYLOADDIGEST have their legacy signatures checked.
      parsed.payload = payload.verdict;
      if (repo.properties.gpg_key) {
        await verifyRpmSignature(parsed, repo.properties.gpg_key);
        verified = true;
      }
    } catch (err) {
      await blobs.discard(blob);
      throw err;
    }
    let index: RepoIndex;
    try {
      if (!exists) {
        await this.create(repository, {}).catch((err) => {
          if (!(err instanceof YumError && err.code === "REPO_ALREADY_EXISTS")) throw err;
        });
      }
      index = await this.writable(repository);
      // Created (or given a key) by someone else meanwhile: its key applies to this upload too.
      const key = (await index.getRepository())!.properties.gpg_key;
      if (key && !verified) {
        await verifyRpmSignature(parsed, key);
        verified = true;
      }
      // limits.max_packages_per_repository: a new package beyond it is refused before it is stored.
      await assertRoomForPackage(index, repository, packageTag(rpmFileName(parsed.pkg)));
    } catch (err) {
      await blobs.discard(blob);
      throw err;
    }
    await this.storage.blobs(repository).commit(blob);
    // storage.driver: registry: in the registry before the index names it, for every node to serve.
    await this.storage.share(repository, "packages", blob);
    const { pkg } = parsed;
    const rpmName = rpmFileName(pkg);
    const seq = await this.record(repository, index, {
      action: "put",
      digest: blob.digest,
      fileName: rpmName,
      uploadTime: this.now(),
      verified,
    });
    return {
      seq,
      id: blob.digest,
      tag: packageTag(rpmName),
      name: pkg.name,
      version: pkg.version,
      release: pkg.release,
      architecture: pkg.arch,
    };
  }

  /**
   * Stores an extra metadata file (comps, updateinfo, modules, ...) to be listed in repomd.xml as
   * `<data type="dataType">`, replacing the previous one of that type. Returns the event's sequence.
   */
  async putExtraMetadata(
    repository: string,
    dataType: string,
    fileName: string | undefined,
    body: Readable,
  ): Promise<{ seq: number; type: string; file: string; checksum: string; size: number }> {
    assertExtraDataType(dataType);
    if (fileName !== undefined) assertExtraFileName(fileName);
    const index = await this.writable(repository);
    const blobs = this.storage.blobs(repository);
    const blob = await blobs.ingest(body, { maxBytes: this.options.maxUploadBytes });
    let record: ExtraMetadataRecord;
    try {
      if (blob.size === 0) throw new YumError("REPODATA_INVALID", `${dataType}: empty body`);
      const compression = await sniffCompression(blob.tempPath);
      const name = fileName ?? defaultExtraFileName(dataType, compression);
      const open = await inspectExtraFile(blob.tempPath, name, compression, { dataType });
      record = {
        dataType,
        fileName: name,
        digest: blob.digest,
        size: blob.size,
        ...open,
        timestamp: this.now(),
      };
    } catch (err) {
      await blobs.discard(blob);
      throw err;
    }
    await blobs.commit(blob);
    await this.storage.share(repository, "repodata", blob);
    const seq = await this.record(repository, index, { action: "extra-put", record });
    return { seq, type: dataType, file: record.fileName, checksum: record.digest, size: record.size };
  }

  /** Removes the extra metadata of one type; returns once the index no longer lists it. */
  async deleteExtraMetadata(repository: string, dataType: string): Promise<void> {
    assertExtraDataType(dataType);
    const index = await this.writable(repository);
    if (!(await index.listExtraMetadata()).some((r) => r.dataType === dataType)) {
      throw new YumError("NOT_FOUND", `repository ${repository} has no ${dataType} metadata`);
    }
    const seq = await this.record(repository, index, { action: "extra-delete", dataType });
    await this.waitFor(repository, seq, "applied");
  }

  /** The index of an existing hosted repository that is not being deleted. */
  private async writable(repository: string): Promise<RepoIndex> {
    const index = await this.existing(repository);
    const repo = (await index.getRepository())!;
    if (repo.properties.mirror) {
      throw new YumError(
        "REPO_IS_MIRROR",
        `repository ${repository} is a mirror: its content comes from its upstream only`,
      );
    }
    if (repo.deleting) throw new YumError("REPO_BEING_DELETED", `repository ${repository} is being deleted`);
    return index;
  }

  /**
   * Removes a package; returns once the index no longer has it (the publish follows right after),
   * or, `until: "published"`, once the published repodata no longer lists it.
   */
  async removePackage(
    repository: string,
    by: { id: string } | { tag: string },
    options: { until?: "applied" | "published"; signal?: AbortSignal } = {},
  ): Promise<void> {
    const index = await this.existing(repository);
    const repo = (await index.getRepository())!;
    if (repo.properties.mirror) {
      throw new YumError("REPO_MIRROR_READ_ONLY", "could not delete package for mirror repository");
    }
    if (repo.deleting) throw new YumError("REPO_BEING_DELETED", `repository ${repository} is being deleted`);
    const record = await this.findPackage(index, by);
    const seq = await this.record(repository, index, { action: "delete", tag: record.tag });
    await this.waitFor(repository, seq, options.until ?? "applied", options.signal);
  }

  async getPackage(repository: string, by: { id: string } | { tag: string }): Promise<RepositoryPackageView> {
    return toPackageView(await this.findPackage(await this.existing(repository), by));
  }

  /** A page of the repository's packages, in location (href) order, without reading their XML. */
  async listPackages(
    repository: string,
    page: PageRequest = { size: pageLimits.packages.defaultSize },
  ): Promise<Page<RepositoryPackageView>> {
    const index = await this.existing(repository);
    const after = pagePosition("packages", repository, page.token, isPackageCursor);
    return cutPage(
      await index.listPackageSummaries(page.size + 1, after),
      page.size,
      toPackageView,
      (p) => ({ href: p.href, tag: p.tag }),
      (a) => pageToken("packages", repository, a),
    );
  }

  /** A page of the repository's log, oldest first. */
  async logs(
    repository: string,
    page: PageRequest = { size: pageLimits.logs.defaultSize },
  ): Promise<Page<LogRecord>> {
    const index = await this.existing(repository);
    const after = pagePosition("logs", repository, page.token, isLogPosition);
    return cutPage(
      await index.listLogsPage(page.size + 1, after),
      page.size,
      ({ id: _, ...line }) => line,
      (line) => line.id,
      (a) => pageToken("logs", repository, a),
    );
  }

  /**
   * The page of the log just before `page.token`'s page (the log's last page without a token),
   * oldest first, with the token that reads it again (none: it is the first page) and the one after
   * it: what a reader going back through the log needs, the keyset read backwards in one query.
   */
  async logsBefore(
    repository: string,
    page: PageRequest = { size: pageLimits.logs.defaultSize },
  ): Promise<Page<LogRecord> & { pageToken?: string }> {
    const index = await this.existing(repository);
    const atMost = pagePosition("logs", repository, page.token, isLogPosition);
    const rows = await index.listLogsPageBefore(page.size + 1, atMost);
    // The extra (oldest) row only says that lines come before: its number starts the page.
    const before = rows.length > page.size ? rows.shift() : undefined;
    const last = rows.at(-1);
    return {
      items: rows.map(({ id: _, ...line }) => line),
      ...(before ? { pageToken: pageToken("logs", repository, before.id) } : {}),
      ...(atMost !== undefined && last ? { nextPageToken: pageToken("logs", repository, last.id) } : {}),
    };
  }

  private async findPackage(index: RepoIndex, by: { id: string } | { tag: string }): Promise<PackageRecord> {
    const record = "id" in by ? await index.getPackageById(by.id) : await index.getPackageByTag(by.tag);
    if (!record) {
      const what = "id" in by ? `id ${by.id}` : `tag ${by.tag}`;
      throw new YumError("PACKAGE_NOT_FOUND", `package with ${what} not found`);
    }
    return record;
  }

  /**
   * Waits until event `seq` is applied (or also published in the repodata). An event that failed
   * to apply rejects with its error; TIMEOUT after `waitTimeoutMs`; `signal`'s reason as soon as it
   * aborts (the client left: the event is processed all the same).
   */
  async waitFor(
    repository: string,
    seq: number,
    until: "applied" | "published",
    signal?: AbortSignal,
  ): Promise<void> {
    const deadline = Date.now() + this.options.waitTimeoutMs;
    for (let delay = 10; ; delay = Math.min(delay * 2, 100)) {
      const index = await this.storage.openIndex(repository);
      if (!index) throw new YumError("REPO_NOT_FOUND", `repository ${repository} was deleted`);
      const outcome = await index.eventOutcome(seq);
      if (typeof outcome === "string") throw new YumError("INTERNAL", outcome);
      if (outcome === null && (until === "applied" || (await index.getState()).publishedSeq >= seq)) return;
      if (Date.now() > deadline) {
        throw new YumError(
          "TIMEOUT",
          `event ${seq} of ${repository} was not ${until} within ${this.options.waitTimeoutMs} ms; it is queued and will be processed when a worker is available`,
        );
      }
      await sleep(delay, signal);
    }
  }
}

/**
 * The repository's sync schedule (undefined: none), validated without touching the scheduler: a bad
 * cron pattern, or a schedule on a hosted repository, is a 400 before anything changes.
 */
function scheduleOf(properties: RepositoryProperties): string | undefined {
  const pattern =
    typeof properties.sync_schedule === "string" && properties.sync_schedule !== ""
      ? properties.sync_schedule
      : undefined;
  if (pattern === undefined) return undefined;
  if (!properties.mirror) {
    throw new YumError("INVALID_ARGUMENT", "properties.sync_schedule: only mirror repositories sync");
  }
  try {
    assertCronPattern(pattern);
  } catch (err) {
    throw new YumError(
      "INVALID_ARGUMENT",
      `properties.sync_schedule: invalid cron pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`,
    );
  }
  return pattern;
}

async function validateGpgKey(armored: string): Promise<void> {
  if (!armored) return;
  try {
    await readKeys({ armoredKeys: armored });
  } catch (err) {
    throw new YumError("REPO_BAD_GPG_KEY", `bad gpg key: ${(err as Error).message}`);
  }
}
