import type { RepoTrigger, SyncQueue } from "@beskar-yum/queue";
import { hasPendingWork, needsSignature } from "@beskar-yum/repository";
import type { RepomdSigner } from "@beskar-yum/signing";
import type { RepositoryStorage } from "@beskar-yum/storage";
import type { Logger } from "pino";
import { endFailedSync } from "./end-failed-sync.js";

export interface ReconcileOptions {
  /** With a registry replica: repositories whose replica lags behind are queued too. */
  registry?: boolean;
  /** Hosted repositories whose repomd.xml this key did not sign (a rotation, an older build) are queued to be signed. */
  signer: RepomdSigner;
  logger: Logger;
}

/**
 * Finds repositories whose storage says there is work (pending events, changes not yet published,
 * a sync marked running) and queues it again, and re-creates sync schedules. Queues live in Redis
 * and can be lost (a flush, a crash between storing an event and enqueueing it); the storage
 * cannot, so this closes the gap. With a registry replica, a repository whose replica lags behind
 * (a failed push) is queued again too, so the push is retried, and so is a deleted repository whose
 * manifests are still in the registry. One repository whose storage throws (a hostile or broken
 * index) is logged and skipped: it must not hide the others' work.
 */
export async function reconcile(
  storage: RepositoryStorage,
  trigger: Pick<RepoTrigger, "trigger">,
  syncs: Pick<SyncQueue, "enqueue" | "schedule" | "status" | "forget">,
  options: ReconcileOptions,
): Promise<string[]> {
  const triggered: string[] = [];
  for (const repository of await storage.listRepositories()) {
    try {
      if (await reconcileRepository(repository, storage, trigger, syncs, options)) triggered.push(repository);
    } catch (err) {
      options.logger.error({ err, repository }, "reconcile: repository skipped");
    }
  }
  // Deleted repositories whose manifests are still in the registry replica.
  if (options.registry) {
    for (const repository of await storage.listRegistryTombstones()) {
      if (triggered.includes(repository)) continue;
      await trigger.trigger(repository);
      triggered.push(repository);
    }
  }
  return triggered;
}

/** Reconciles one repository; true when it queued a processing trigger for it. */
async function reconcileRepository(
  repository: string,
  storage: RepositoryStorage,
  trigger: Pick<RepoTrigger, "trigger">,
  syncs: Pick<SyncQueue, "enqueue" | "schedule" | "status" | "forget">,
  options: ReconcileOptions,
): Promise<boolean> {
  const index = await storage.openIndex(repository);
  if (!index) return false;
  const sync = await index.getSyncState();
  if (sync.syncing) await reconcileSync({ repository, startTime: sync.startTime }, storage, syncs, options);
  const { properties } = (await index.getRepository()) ?? { properties: undefined };
  if (properties?.mirror && typeof properties.sync_schedule === "string" && properties.sync_schedule) {
    await syncs.schedule(repository, properties.sync_schedule);
  }
  const replica = options.registry ? await index.registry.state() : undefined;
  const replicaPending = replica !== undefined && replica.generation > replica.replicated;
  // The same test as the lock holders' re-check (`recheckPendingWork`), plus the replica's lag.
  if ((await hasPendingWork(index)) || replicaPending || (await needsSignature(index, options.signer))) {
    await trigger.trigger(repository);
    return true;
  }
  return false;
}

/**
 * A sync storage marks running, by what Redis knows of its job: queued or running, it is left
 * alone; failed (BullMQ gave up, and the worker that saw it died before ending the sync, or no
 * worker was alive), the sync ends with that failure and the job record goes, so the id is free;
 * lost (Redis flushed, a crash between marking and queueing), it is queued again and resumes.
 */
async function reconcileSync(
  sync: { repository: string; startTime: number },
  storage: RepositoryStorage,
  syncs: Pick<SyncQueue, "enqueue" | "status" | "forget">,
  options: ReconcileOptions,
): Promise<void> {
  const job = await syncs.status(sync);
  if (job.state === "queued") return;
  if (job.state === "failed") {
    await endFailedSync(storage, sync, job.reason, options.logger);
    await syncs.forget(sync);
    return;
  }
  await syncs.enqueue(sync);
}
