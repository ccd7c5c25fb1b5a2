import type { RepoTrigger } from "@beskar-yum/queue";
import type { RepositoryStorage } from "@beskar-yum/storage";

/**
 * Finds repositories whose storage says there is work (pending events, or changes not yet
 * published) and triggers them. Triggers live in Redis and can be lost (a flush, a crash between
 * storing an event and enqueueing it); the storage cannot, so this closes the gap.
 */
export async function reconcile(
  storage: RepositoryStorage,
  trigger: Pick<RepoTrigger, "trigger">,
): Promise<string[]> {
  const triggered: string[] = [];
  for (const repository of await storage.listRepositories()) {
    const index = storage.openIndex(repository);
    if (!index) continue;
    const state = index.getState();
    if (index.hasPendingEvents() || state.dirty || state.publishedSeq < state.appliedSeq) {
      await trigger.trigger(repository);
      triggered.push(repository);
    }
  }
  return triggered;
}
