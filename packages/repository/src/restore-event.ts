import { isYumError } from "@beskar-yum/errors";
import type { EventResult, FsBlobStore, RepoIndex, RepositoryPaths, StoredEvent } from "@beskar-yum/storage";
import {
  type RegistryContent,
  type RegistryRestoreOptions,
  readRegistryContent,
} from "./registry-restore.js";

/**
 * Applies a `restore` event (`beskar-yum restore`): the repository's content is read back from the
 * registry layout and switched in. Runs under the repository's lock, like every event, so nothing
 * publishes the repository half restored; a hosted repository is then published as usual (its
 * primary/filelists/other byte-identical to the registry's), a mirror serves the registry's
 * repomd.xml and data files as they were. A registry that is down throws: the event stays pending
 * and the job is retried, as any failed round is.
 */
export async function applyRestoreEvent(
  repository: string,
  index: RepoIndex,
  stored: StoredEvent,
  context: { fence: number; blobs: FsBlobStore; paths: RepositoryPaths },
  options: RegistryRestoreOptions | undefined,
): Promise<{ result: EventResult; released: string[] }> {
  const repo = await index.getRepository();
  if (!options || !repo) {
    const error = repo
      ? `restore of ${repository}: no registry is configured (registry.url)`
      : `restore of ${repository}: the repository was deleted`;
    return {
      result: await index.applyEvent(stored.seq, context.fence, async () => ({ changed: false, error })),
      released: [],
    };
  }
  const started = Date.now();
  let content: RegistryContent;
  try {
    content = await readRegistryContent(repository, repo.properties, context.blobs, context.paths, options);
  } catch (err) {
    // A registry that is down, or a lost lock: the event stays pending and the round is retried.
    if (options.signal?.aborted || isYumError(err, "REGISTRY_UNAVAILABLE") || isYumError(err, "LOCK_LOST"))
      throw err;
    // Anything else (a repomd.xml or primary.xml that cannot be read) would fail every retry and
    // hold up the events behind it: the restore ends with its error, nothing switched in.
    const error = `restore of ${repository} failed: ${(err as Error).message}`;
    return {
      result: await index.applyEvent(stored.seq, context.fence, async () => ({ changed: false, error })),
      released: [],
    };
  }
  options.signal?.throwIfAborted();
  let result: EventResult;
  if (repo.properties.mirror && !content.repomd) {
    // A mirror's packages are only served with the repomd.xml that lists them: nothing to switch in.
    result = await index.applyEvent(stored.seq, context.fence, async () => ({ changed: false }));
    content.packages = [];
  } else if (repo.properties.mirror && content.repomd) {
    // The generation first, then the event consumed: a restore interrupted in between runs again.
    await index.commitMirrorGenerationAsync(context.fence, {
      upsert: content.packages,
      deleteTags: [],
      revision: content.repomd.revision,
      repomd: content.repomd.text,
      repomdAsc: content.repomd.asc,
    });
    result = await index.applyEvent(stored.seq, context.fence, async () => ({ changed: false }));
  } else {
    result = await index.applyEvent(stored.seq, context.fence, async (tx) => {
      for (const record of content.packages) await tx.upsertPackage(record);
      for (const record of content.extras) await tx.upsertExtraMetadata(record);
      return { changed: true };
    });
  }
  // What the registry holds is recorded as pushed: the replica pushes only what changes from here,
  // and keeps the package manifests whose blobs stay in the registry until they are first requested.
  for (const manifest of content.manifests) await index.registry.put(manifest);

  const now = Math.floor(Date.now() / 1000);
  for (const problem of content.problems) await index.addLog("ERROR", `restore: skipped ${problem}`, now);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const summary =
    `restored ${content.packages.length} packages and ${content.extras.length} extra metadata files from the registry in ${seconds} s` +
    ` (read ${content.bytesRead} bytes of ${content.packageBytes} package bytes)` +
    (content.problems.length > 0 ? `; ${content.problems.length} manifests skipped` : "");
  await index.addLog("INFO", summary, now);
  options.log.info(
    {
      repository,
      packages: content.packages.length,
      extras: content.extras.length,
      bytesRead: content.bytesRead,
      packageBytes: content.packageBytes,
      skipped: content.problems.length,
      ms: Date.now() - started,
    },
    "restored from the registry",
  );
  return { result, released: [] };
}
