import { parentPort, workerData } from "node:worker_threads";
import type { MirrorGeneration } from "./repo-index.js";
import { SqliteRepoIndex } from "./sqlite-repo-index.js";

/**
 * A mirror generation's commit on a thread of its own (`SqliteRepoIndex.commitMirrorGenerationAsync`):
 * the same transaction on a connection of its own, so that switching hundreds of thousands of staged
 * rows in (seconds) never blocks the worker's event loop, where the repository lock and the job's
 * lock are renewed.
 */
const { path, fence, generation } = workerData as {
  path: string;
  fence: number;
  generation: MirrorGeneration;
};
let index: SqliteRepoIndex | undefined;
try {
  index = SqliteRepoIndex.open(path, { create: false });
  await index.commitMirrorGeneration(fence, generation);
  parentPort!.postMessage({ ok: true });
} catch (err) {
  const e = err as Error & { code?: string; details?: Record<string, unknown> };
  parentPort!.postMessage({
    ok: false,
    name: e.name,
    code: e.code,
    message: e.message,
    details: e.details ?? {},
  });
} finally {
  index?.close();
}
