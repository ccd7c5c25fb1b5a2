import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HeldLock, RepoLock } from "@beskar-yum/queue";
import { ephemeralSigner } from "@beskar-yum/signing";
import { RepositoryStorage } from "@beskar-yum/storage";
import type { Job } from "bullmq";
import { pino } from "pino";
import { afterAll, describe, expect, it, vi } from "vitest";

// The sync itself is a stand-in that ignores its signal for 300 ms (a download still committing a
// blob when the job crashed): the lock must be held until it is over.
const events: string[] = [];
vi.mock("@beskar-yum/mirror", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@beskar-yum/mirror")>()),
  runMirrorSync: async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    events.push("sync settled");
    return { total: 0, downloaded: 0, fromRegistry: 0, removed: 0, published: false, phases: {} };
  },
}));

const { processSync } = await import("./sync-processor.js");

describe("processSync", () => {
  const dir = mkdtempSync(join(tmpdir(), "beskar-yum-sync-processor-"));
  const storage = new RepositoryStorage(dir);
  afterAll(() => {
    storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("holds the repository lock until the sync's work has settled, even when its job crashed", async () => {
    const repository = "artifacts/yum/crashing";
    const index = await storage.createIndex(repository);
    await index.createRepository({ mirror: true, mirror_urls: ["http://127.0.0.1:9/"], gpg_key: "" }, 1);
    expect(await index.beginSync(1000)).toBe(true);
    const lock = {
      acquire: async (): Promise<HeldLock> => ({
        fence: Date.now() * 1000,
        signal: new AbortController().signal,
        release: async () => {
          events.push("lock released");
        },
      }),
    } as unknown as RepoLock;
    const crash = new AbortController();
    setTimeout(() => crash.abort(new Error("unexpected error in sync job 1")), 50);
    await processSync(
      { name: "sync", data: { repository, startTime: 1000 } } as Job<{
        repository: string;
        startTime: number;
      }>,
      {
        storage,
        lock,
        graceSeconds: 0,
        signer: await ephemeralSigner(),
        concurrency: 1,
        timeoutMs: 1000,
        logger: pino({ level: "silent" }),
        syncs: { enqueue: async () => undefined },
      },
      crash.signal,
    );
    expect(events).toEqual(["sync settled", "lock released"]);
    // The sync ended with the crash's error.
    expect(await index.getSyncState()).toMatchObject({
      syncing: false,
      syncError: "unexpected error in sync job 1",
    });
  });
});
