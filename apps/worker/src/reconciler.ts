import type { RepoTrigger, SyncQueue } from "@beskar-yum/queue";
import type { RepositoryStorage } from "@beskar-yum/storage";

/**
 * Finds repositories whose storage says there is work (pending events, changes not yet published,
 * a sync marked running) and queues it again, and re-creates sync schedules. Queues live in Redis
 * and can be lost (a flush, a crash between storing an event and enqueueing it); the storage
 * cannot, so this closes the gap. With a registry replica, a repository whose replica lags behind
 * (a failed push) is queued again too, so the push is retried, and so is a deleted repository whose
 * manifests are still in the registry.
 */
export async function reconcile(
  storage: RepositoryStorage,
  trigger: Pick<RepoTrigger, "trigger">,
  syncs: Pick<SyncQueue, "enqueue" | "schedule">,
  options: { registry?: boolean } = {},
): Promise<string[]> {
  const triggered: string[] = [];
  for (const repository of await storage.listRepositories()) {
    const index = storage.openIndex(repository);
    if (!index) continue;
    // A sync marked running whose job was lost: enqueue it again (same job id, so a live job wins).
    const sync = index.getSyncState();
    if (sync.syncing) await syncs.enqueue({ repository, startTime: sync.startTime });
    const { properties } = index.getRepository() ?? { properties: undefined };
    if (properties?.mirror && typeof properties.sync_schedule === "string" && properties.sync_schedule) {
      await syncs.schedule(repository, properties.sync_schedule);
    }
    const state = index.getState();
    const replica = options.registry ? index.registry.state() : undefined;
    const replicaPending = replica !== undefined && replica.generation > replica.replicated;
    if (index.hasPendingEvents() || state.dirty || state.publishedSeq < state.appliedSeq || replicaPending) {
      await trigger.trigger(repository);
      triggered.push(repository);
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
