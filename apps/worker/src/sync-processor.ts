import { runMirrorSync, upstreamTls } from "@beskar-yum/mirror";
import type { RepoLock, SyncJobData } from "@beskar-yum/queue";
import type { RepositoryStorage } from "@beskar-yum/storage";
import type { Job } from "bullmq";
import type { Logger } from "pino";

export interface SyncProcessorOptions {
  storage: RepositoryStorage;
  lock: RepoLock;
  graceSeconds: number;
  /** Parallel downloads per sync and the upstream stall timeout. */
  concurrency: number;
  timeoutMs: number;
  logger: Logger;
}

const now = () => Math.floor(Date.now() / 1000);

/**
 * Runs one sync job. The repository lock is held for the whole sync, so a sync and a publish of
 * the same repository never overlap; a crashed worker's job is picked up again by BullMQ (stalled
 * job) or the reconciler, and the new run reuses every blob already stored.
 */
export async function processSync(job: Job<SyncJobData>, options: SyncProcessorOptions): Promise<void> {
  const { repository } = job.data;
  const { storage, logger } = options;
  const index = storage.openIndex(repository);
  const repo = index?.getRepository();
  if (!index || !repo) return;
  if (job.name === "scheduled-sync" && !index.beginSync(now())) {
    logger.info({ repository }, "scheduled sync skipped: a sync is already running");
    return;
  }
  if (!index.getSyncState().syncing) return;

  const repoLog = (level: "INFO" | "ERROR") => (message: string) => {
    index.addLog(level, message, now());
    if (level === "ERROR") logger.error({ repository }, message);
    else logger.info({ repository }, message);
  };
  let error = "";
  let held: Awaited<ReturnType<RepoLock["acquire"]>> | undefined;
  try {
    held = await options.lock.acquire(repository, { timeoutMs: 10 * 60_000 });
    const t0 = Date.now();
    const result = await runMirrorSync({
      repository,
      storage,
      urls: job.data.urls ?? repo.properties.mirror_urls,
      gpgKey: repo.properties.gpg_key,
      fence: held.fence,
      signal: held.signal,
      graceSeconds: options.graceSeconds,
      concurrency: options.concurrency,
      policy: repo.properties.sync_policy === "on_demand" ? "on_demand" : "immediate",
      tls: upstreamTls(repo.properties),
      timeoutMs: options.timeoutMs,
      log: { info: repoLog("INFO"), error: repoLog("ERROR") },
    });
    logger.info({ repository, ...result, ms: Date.now() - t0 }, "mirror sync finished");
  } catch (err) {
    error = (err as Error).message;
    repoLog("ERROR")(`sync failed: ${error}`);
  } finally {
    await held?.release();
    index.endSync(now(), error);
  }
}
