import type { RegistryClient } from "@beskar-yum/oci";
import type { HeldLock, RepoLock } from "@beskar-yum/queue";
import type { RepomdSigner } from "@beskar-yum/signing";
import type { RepositoryStorage, StoredEvent } from "@beskar-yum/storage";
import { applyStoredEvent } from "./event-applier.js";
import type { FrontTree } from "./front-tree.js";
import { collectBlobGarbage } from "./garbage-collector.js";
import { publishRepodata, repodataSharer, resignRepodata } from "./publisher.js";
import { deleteTombstonedManifests, replicateToRegistry } from "./registry-replica.js";
import { applyRestoreEvent } from "./restore-event.js";

export interface ProcessorOptions {
  storage: RepositoryStorage;
  lock: RepoLock;
  /** Wait this long after an event for more to arrive before publishing. */
  debounceMs: number;
  /** Never hold back a publish longer than this while events keep arriving. */
  maxDelayMs: number;
  graceSeconds: number;
  /** The server's repodata signing key. */
  signer: RepomdSigner;
  log: ProcessorLog;
  /** The OCI registry replica (SPEC §7): pushed to after each round when configured. */
  registry?: RegistryClient;
  /** `http.front_tree`: kept in step with every publish (front-tree.ts). */
  frontTree?: FrontTree;
}

export interface ProcessorLog {
  info(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const batchSize = 200;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Applies a repository's pending events in order and publishes its repodata, as the only writer.
 *
 * Whoever holds the repository's lock does the work; a trigger that finds the lock taken returns at
 * once. That loses nothing because every holder looks for pending events again *after* releasing the
 * lock (here by looping; anyone else through the lock's `afterRelease`, `recheckPendingWork`), and
 * an event is always stored before its trigger is sent.
 */
export async function processRepository(repository: string, options: ProcessorOptions): Promise<void> {
  for (;;) {
    const held = await options.lock.tryAcquire(repository);
    if (!held) return;
    try {
      await drainAndPublish(repository, held, options);
      await replicate(repository, held, options);
    } finally {
      // This loop looks again itself: no trigger for work it is about to take.
      await held.release({ recheck: false });
    }
    const index = await options.storage.openIndex(repository);
    if (!(await index?.hasPendingEvents())) return;
  }
}

/**
 * Pushes what the registry replica lacks, under the lock (the replica follows the published
 * generation). A failure is recorded in the index and retried on the next round; it never blocks
 * publishing.
 */
async function replicate(repository: string, held: HeldLock, options: ProcessorOptions): Promise<void> {
  if (!options.registry) return;
  const replica = {
    client: options.registry,
    log: options.log,
    signal: held.signal,
    sharedBlobs: options.storage.registry,
  };
  try {
    // A repository deleted (and maybe created again) since the last round: its old manifests go first.
    if (!(await deleteTombstonedManifests(repository, options.storage, replica))) return;
    const index = await options.storage.openIndex(repository);
    if (!index) return;
    await replicateToRegistry(repository, index, options.storage.paths(repository), replica);
  } catch (err) {
    if (held.signal.aborted) throw err;
    options.log.error({ repository, err: (err as Error).message }, "registry replica: round failed");
  }
}

async function drainAndPublish(repository: string, held: HeldLock, options: ProcessorOptions): Promise<void> {
  const { storage, log } = options;
  const index = await storage.openIndex(repository);
  if (!index) return;
  const blobs = storage.blobs(repository);
  const started = Date.now();
  const front = options.frontTree ? { front: options.frontTree.of(repository) } : {};

  for (;;) {
    let applied = 0;
    for (
      let batch = await index.pendingEvents(batchSize);
      batch.length > 0;
      batch = await index.pendingEvents(batchSize)
    ) {
      for (const stored of batch) {
        held.signal.throwIfAborted();
        const outcome =
          stored.event.action === "restore"
            ? await applyRestoreEvent(
                repository,
                index,
                stored,
                { fence: held.fence, blobs, paths: storage.paths(repository) },
                options.registry ? { client: options.registry, log, signal: held.signal } : undefined,
              )
            : await applyStoredEvent(
                index,
                blobs,
                await withLocalBlob(storage, repository, stored),
                held.fence,
              );
        applied++;
        if (outcome.result.error) {
          await index.addLog("ERROR", outcome.result.error, Math.floor(Date.now() / 1000));
          log.error({ repository, seq: stored.seq }, outcome.result.error);
        }
      }
    }

    const state = await index.getState();
    if (!state.dirty) {
      if (state.publishedSeq < state.appliedSeq) await index.markPublished(held.fence, state.appliedSeq);
      const publish = {
        fence: held.fence,
        graceSeconds: options.graceSeconds,
        signer: options.signer,
        signal: held.signal,
        ...front,
      };
      if (await resignRepodata(index, storage.paths(repository), publish))
        log.info(
          { repository, revision: state.revision, key: options.signer.keyId },
          "signed repodata with the current key",
        );
      return;
    }
    if (applied > 0 && Date.now() - started < options.maxDelayMs) {
      await sleep(options.debounceMs);
      if (await index.hasPendingEvents()) continue;
    }

    const t0 = Date.now();
    // Extra metadata uploaded through another node's API: fetched here from the registry.
    for (const extra of storage.registry ? await index.listExtraMetadata() : [])
      await storage.localBlob(repository, "repodata", { digest: extra.digest, size: extra.size });
    const result = await publishRepodata(index, storage.paths(repository), {
      fence: held.fence,
      graceSeconds: options.graceSeconds,
      signer: options.signer,
      signal: held.signal,
      share: repodataSharer(storage, repository),
      ...front,
    });
    log.info(
      {
        repository,
        revision: result.revision,
        packages: result.packages,
        seq: result.seq,
        ms: Date.now() - t0,
      },
      "published repodata",
    );
    // Blobs released by earlier publishes may have outlived their grace period by now.
    await collectBlobGarbage(index, blobs, options.graceSeconds);
    if (!(await index.hasPendingEvents())) return;
  }
}

/**
 * An uploaded package is parsed from this node's blob store: with `storage.driver: registry` the
 * upload may have come through another node's API, so its blob is fetched from the registry first
 * (a registry that does not answer fails the round, which is retried, rather than the event).
 */
async function withLocalBlob(storage: RepositoryStorage, repository: string, stored: StoredEvent) {
  if (storage.registry && stored.event.action === "put")
    await storage.localBlob(repository, "packages", { digest: stored.event.digest });
  return stored;
}
