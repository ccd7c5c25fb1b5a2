import { redactUrl } from "@beskar-yum/errors";
import {
  type MirrorListSource,
  type MirrorSyncResult,
  mirrorListSource,
  type ProxyOptions,
  runMirrorSync,
  upstreamProxy,
  upstreamTls,
} from "@beskar-yum/mirror";
import { parseSyncJobData, type RepoLock, type SyncJobData, type SyncQueue } from "@beskar-yum/queue";
import type { FrontTree } from "@beskar-yum/repository";
import type { RepomdSigner } from "@beskar-yum/signing";
import type { RepositoryStorage } from "@beskar-yum/storage";
import type { Job } from "bullmq";
import type { Logger } from "pino";
import { unlessAborted } from "./unless-aborted.js";

export interface SyncProcessorOptions {
  storage: RepositoryStorage;
  lock: RepoLock;
  graceSeconds: number;
  /** Signs the repomd.xml of mirrors whose metadata is rewritten. */
  signer: RepomdSigner;
  /** Parallel downloads per sync and the upstream stall timeout. */
  concurrency: number;
  timeoutMs: number;
  /** How long making a sync's new blobs durable may take (`storage.fsync_timeout_ms`). */
  fsyncTimeoutMs?: number;
  /** HTTP(S)_PROXY / NO_PROXY as read at startup (`config.proxy`); a repository's `proxy_url` wins. */
  proxy?: Omit<ProxyOptions, "url">;
  logger: Logger;
  /** Where a scheduled sync queues the sync it starts. */
  syncs: Pick<SyncQueue, "enqueue">;
  /** `http.front_tree`: kept in step with each sync's commit. */
  frontTree?: FrontTree;
}

const now = () => Math.floor(Date.now() / 1000);

/**
 * Runs one sync job. The repository lock is held for the whole sync, so a sync and a publish of
 * the same repository never overlap; a crashed worker's job is picked up again by BullMQ (stalled
 * job) or the reconciler, and the new run reuses every blob already stored. `signal` aborts when
 * the job crashed (JobGuard): the sync then ends at once with that error.
 */
export async function processSync(
  job: Job<SyncJobData>,
  options: SyncProcessorOptions,
  signal: AbortSignal,
): Promise<void> {
  const data = parseSyncJobData(job.data);
  const { repository } = data;
  const { storage, logger } = options;
  const index = await storage.openIndex(repository);
  const repo = await index?.getRepository();
  if (!index || !repo) return;
  if (job.name === "scheduled-sync") {
    // A scheduled sync starts a sync as the API does (marked in storage, then one job named by its
    // start time), so a crash or a failure is handled the same way for both.
    const startTime = now();
    if (await index.beginSync(startTime)) await options.syncs.enqueue({ repository, startTime });
    else logger.info({ repository }, "scheduled sync skipped: a sync is already running");
    return;
  }
  const isOurs = async () => {
    const state = await index.getSyncState();
    return state.syncing && state.startTime === data.startTime;
  };
  // A job of a sync that has ended already (queued twice, or its failure was recorded): nothing to do.
  if (!(await isOurs())) return;

  const repoLog = (level: "INFO" | "ERROR") => (message: string) => {
    // The sync's log callbacks do not wait: a line that cannot be stored is told to the process log.
    index
      .addLog(level, message, now())
      .catch((err) =>
        logger.warn({ repository, err: (err as Error).message }, "cannot write the repository log"),
      );
    if (level === "ERROR") logger.error({ repository }, message);
    else logger.info({ repository }, message);
  };
  let error = "";
  /** The line that says how the sync ended, written as it ends (`endSync`). */
  let summary = "";
  let held: Awaited<ReturnType<RepoLock["acquire"]>> | undefined;
  /** The sync's own work: it must have settled before the lock it runs under is given back. */
  let running: Promise<unknown> | undefined;
  let t0 = Date.now();
  try {
    held = await options.lock.acquire(repository, { timeoutMs: 10 * 60_000, signal });
    // The sync's duration is its work, not its wait for the lock (a publish of the repository).
    t0 = Date.now();
    const urls = data.urls ?? repo.properties.mirror_urls;
    // `sync:url` names this sync's upstream: the repository's metalink/mirrorlist is for plain syncs.
    const mirrorList = data.urls ? undefined : mirrorListSource(repo.properties);
    repoLog("INFO")(startLine(urls, mirrorList, data.force === true));
    const sync = runMirrorSync({
      repository,
      storage,
      urls,
      ...(mirrorList ? { mirrorList } : {}),
      force: data.force === true,
      gpgKey: repo.properties.gpg_key,
      fence: held.fence,
      signal: AbortSignal.any([held.signal, signal]),
      graceSeconds: options.graceSeconds,
      signer: options.signer,
      concurrency: options.concurrency,
      policy: repo.properties.sync_policy === "on_demand" ? "on_demand" : "immediate",
      tls: upstreamTls(repo.properties),
      proxy: upstreamProxy(repo.properties, options.proxy),
      timeoutMs: options.timeoutMs,
      ...(options.fsyncTimeoutMs !== undefined ? { fsyncTimeoutMs: options.fsyncTimeoutMs } : {}),
      log: { info: repoLog("INFO"), error: repoLog("ERROR") },
      ...(options.frontTree ? { front: options.frontTree.of(repository) } : {}),
    });
    running = sync;
    const result = await unlessAborted(sync, signal);
    const { downloadedBytes } = await index.getSyncState();
    summary = endLine(result, downloadedBytes, Date.now() - t0);
    logger.info({ repository, ...result, downloadedBytes, ms: Date.now() - t0 }, "mirror sync finished");
  } catch (err) {
    error = (err as Error).message;
    summary = `sync failed: ${error}`;
    logger.error({ repository }, summary);
  } finally {
    // A crashed job stops waiting at once (its error is recorded), but its work goes on until it
    // sees the aborted signal: the lock is held until then, so nothing it still writes (blobs,
    // progress, the index) happens after another worker took the repository. Work that never stops
    // keeps this job unsettled, which the JobGuard ends (onStuck: the process exits, the lock expires).
    await running?.catch(() => undefined);
    // A lock that cannot be released (Redis away) expires on its own; the sync must end regardless.
    await held
      ?.release()
      .catch((err) => logger.warn({ err, repository }, "could not release the repository lock"));
    if (await isOurs()) await index.endSync(now(), error, { durationMs: Date.now() - t0, log: summary });
  }
}

/** The first line of a sync in the repository log: where from (credentials hidden). */
function startLine(urls: string[], mirrorList: MirrorListSource | undefined, force: boolean): string {
  const sources = [
    ...(mirrorList ? [`${mirrorList.kind} ${redactUrl(mirrorList.url)}`] : []),
    ...urls.map(redactUrl),
  ];
  const from = sources.length > 0 ? sources.join(", then ") : "(no upstream configured)";
  return `sync started${force ? " (forced)" : ""}: from ${from}`;
}

/** The last line of a successful sync: one summary, however many packages. */
function endLine(result: MirrorSyncResult, downloadedBytes: number, ms: number): string {
  const fromRegistry =
    result.fromRegistry > 0
      ? `, ${result.fromRegistry} taken from the registry (stored by an interrupted sync)`
      : "";
  const what = `${result.total} packages upstream, ${result.downloaded} downloaded${fromRegistry}, ${result.removed} removed, ${downloadedBytes} bytes downloaded`;
  return `sync finished in ${ms} ms: ${what}${result.published ? "" : "; upstream unchanged, nothing published"}`;
}
