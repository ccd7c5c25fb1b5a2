import type { RegistryClient } from "@beskar-yum/oci";
import type { Logger } from "@beskar-yum/plugin-sdk";
import type { RepoLock } from "@beskar-yum/queue";
import { deleteTombstonedManifests, replicateToRegistry } from "@beskar-yum/repository";
import type { RepositoryStorage } from "@beskar-yum/storage";

export interface PluginReplicaOptions {
  storage: RepositoryStorage;
  lock: RepoLock;
  /** Beskar's registry through the plugin transport; undefined until the plugin has started. */
  client: () => RegistryClient | undefined;
  /** How often repositories are scanned for changes to push. */
  intervalMs: number;
  logger: Logger;
}

/**
 * Plugin mode's registry replica: our own writes (uploads, removals, published repodata) pushed to
 * Beskar's registry in its layout, through the plugin transport (mTLS), so Beskar holds what we serve.
 * The API process runs it because only it holds the transport; each repository is pushed under its
 * lock (the worker's lock), with the same diff against the index as the standalone replica
 * (`replicateToRegistry`). Beskar's echo events of these pushes change nothing in `YumRepoHandler`.
 */
export class PluginReplica {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  /** Repositories whose last push failed: not tried again before `retryAt` (doubling up to a minute). */
  private readonly backoff = new Map<string, { failures: number; retryAt: number }>();

  constructor(private readonly options: PluginReplicaOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.scan().finally(() => {
        this.running = undefined;
      });
    }, this.options.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.abort.abort();
    await this.running;
  }

  private async scan(): Promise<void> {
    const client = this.options.client();
    if (!client) return;
    const { storage, lock, logger } = this.options;
    try {
      for (const repository of await storage.listRegistryTombstones()) {
        if (this.abort.signal.aborted) return;
        const held = await lock.tryAcquire(repository);
        if (!held) continue;
        try {
          await deleteTombstonedManifests(repository, storage, {
            client,
            log: logger,
            signal: AbortSignal.any([held.signal, this.abort.signal]),
          });
        } finally {
          await held.release();
        }
      }
      for (const repository of await storage.listRepositories()) {
        if (this.abort.signal.aborted) return;
        const index = await storage.openIndex(repository);
        const state = await index?.registry.state();
        if (!index || !state || state.generation <= state.replicated) continue;
        const failed = this.backoff.get(repository);
        if (failed && Date.now() < failed.retryAt) continue;
        const held = await lock.tryAcquire(repository);
        if (!held) continue; // a worker is on it: next scan
        let ok: boolean;
        try {
          ok = await replicateToRegistry(repository, index, storage.paths(repository), {
            client,
            log: logger,
            signal: AbortSignal.any([held.signal, this.abort.signal]),
          });
        } finally {
          await held.release();
        }
        if (ok) this.backoff.delete(repository);
        else {
          const failures = (failed?.failures ?? 0) + 1;
          const delay = Math.min(60_000, this.options.intervalMs * 2 ** failures);
          this.backoff.set(repository, { failures, retryAt: Date.now() + delay });
        }
      }
    } catch (err) {
      if (!this.abort.signal.aborted)
        logger.error({ err: (err as Error).message }, "registry replica: scan failed");
    }
  }
}
