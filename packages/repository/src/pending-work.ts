import type { RepoIndex, RepositoryStorage } from "@beskar-yum/storage";

/** Work the repository's lock holder would do: events not applied, or applied and not published. */
export async function hasPendingWork(index: RepoIndex): Promise<boolean> {
  if (await index.hasPendingEvents()) return true;
  const state = await index.getState();
  return state.dirty || state.publishedSeq < state.appliedSeq;
}

/**
 * The repository lock's `afterRelease` (`RepoLockOptions`): after any holder (a request's `create`,
 * a sync, the plugin replica) lets the lock go, work that arrived meanwhile, whose trigger found the
 * lock taken and returned, is triggered again now rather than at the reconciler's next scan (30 s).
 * The registry replica's lag is not looked at: it is retried with a backoff of its own, and a push
 * that keeps failing must not turn into a loop of triggers.
 */
export function recheckPendingWork(
  storage: Pick<RepositoryStorage, "openIndex">,
  trigger: { trigger(repository: string): Promise<void> },
  log: { error(fields: Record<string, unknown>, message: string): void },
): (repository: string) => Promise<void> {
  return async (repository) => {
    try {
      const index = await storage.openIndex(repository);
      if (index && (await index.getRepository()) && (await hasPendingWork(index)))
        await trigger.trigger(repository);
    } catch (err) {
      // The reconciler finds it later: a failed look must not fail the work that held the lock.
      log.error(
        { repository, err: (err as Error).message },
        "could not look for work after releasing the lock",
      );
    }
  };
}
