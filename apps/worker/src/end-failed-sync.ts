import { YumError } from "@beskar-yum/errors";
import { type SyncJobData, syncMaxResumes } from "@beskar-yum/queue";
import type { RepositoryStorage } from "@beskar-yum/storage";
import type { Logger } from "pino";

/** BullMQ's reason for a job whose worker died more often than `maxStalledCount` allows. */
const stalledReason = "job stalled more than allowable limit";

/** The `sync_error` of a sync whose job failed with BullMQ's `reason`. */
export function syncFailure(reason: string): YumError {
  if (reason.includes(stalledReason)) {
    return new YumError(
      "SYNC_INTERRUPTED",
      `sync interrupted: its worker stopped ${syncMaxResumes + 1} times before the sync could finish ` +
        `(${stalledReason}); what it stored is kept and the next sync reuses it`,
    );
  }
  return new YumError("SYNC_INTERRUPTED", `sync interrupted: ${reason}`);
}

/**
 * Ends, in storage, a sync whose job failed outside the sync's own error handling (BullMQ gave up
 * after its worker died too often, an exception escaped the job, storage threw before the sync
 * began), so that the repository does not stay `syncing` for good. Only that sync: a newer one of
 * the same repository (another start time) is left alone. Idempotent; true when it ended the sync.
 */
export async function endFailedSync(
  storage: RepositoryStorage,
  sync: Pick<SyncJobData, "repository" | "startTime">,
  reason: string,
  logger: Logger,
): Promise<boolean> {
  const index = await storage.openIndex(sync.repository);
  if (!index) return false;
  const state = await index.getSyncState();
  if (!state.syncing || state.startTime !== sync.startTime) return false;
  const error = syncFailure(reason);
  const now = Math.floor(Date.now() / 1000);
  await index.endSync(now, error.message, { log: `sync failed: ${error.message}` });
  logger.error({ repository: sync.repository, code: error.code, reason }, error.message);
  return true;
}
