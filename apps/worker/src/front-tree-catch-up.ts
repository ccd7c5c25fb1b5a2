import type { RepoLock } from "@beskar-yum/queue";
import type { FrontTree } from "@beskar-yum/repository";
import type { RepositoryStorage } from "@beskar-yum/storage";
import type { Logger } from "pino";

/**
 * `http.front_tree` at worker start: every repository's part of the tree is made what its index
 * serves (the setting just turned on, or a crash between a commit and its tree update), and what is
 * there of repositories that no longer exist goes. Under the
 * repository's lock, as every publish updates it; a repository whose lock is taken is being worked on,
 * and that work updates it.
 */
export async function catchUpFrontTree(
  storage: RepositoryStorage,
  lock: RepoLock,
  tree: FrontTree,
  logger: Logger,
): Promise<void> {
  const repositories = await storage.listRepositories();
  const pruned = tree.prune((repository) => repositories.includes(repository));
  if (pruned > 0)
    logger.info({ entries: pruned }, "front tree: removed the entries of repositories that are gone");
  for (const repository of repositories) {
    const held = await lock.tryAcquire(repository);
    if (!held) continue;
    try {
      const index = await storage.openIndex(repository);
      if (index) await tree.of(repository).update(index, storage.paths(repository));
    } catch (err) {
      logger.error({ err, repository }, "front tree: repository left to the API");
    } finally {
      await held.release();
    }
  }
}
