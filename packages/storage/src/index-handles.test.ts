import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isYumError } from "@beskar-yum/errors";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RepoIndex } from "./repo-index.js";
import { RepositoryStorage } from "./repository-storage.js";
import type { SqliteRepoIndex } from "./sqlite-repo-index.js";
import { fakeRecord } from "./test-support/fake-record.js";

const properties = { mirror: false, mirror_urls: [], gpg_key: "" };
const fds = () => readdirSync("/proc/self/fd").length;

const record = (tag: string) => fakeRecord(tag);

/** The error `promise` rejects with, undefined when it resolves. */
const caught = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (err: unknown) => err,
  );

/** The handle cache's view of an index (SQLite's). */
const sqlite = (index: RepoIndex | undefined) => index as SqliteRepoIndex;

describe("RepositoryStorage index handles", () => {
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "byhandles-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps at most maxOpenIndexes connections open, and indexes held meanwhile still work", async () => {
    const storage = new RepositoryStorage(dir, "", { maxOpenIndexes: 8 });
    const names = Array.from({ length: 60 }, (_, i) => `artifacts/yum/r${i}`);
    for (const name of names) await (await storage.createIndex(name)).createRepository(properties, 1);
    storage.close();

    const reopened = new RepositoryStorage(dir, "", { maxOpenIndexes: 8 });
    const before = fds();
    // A caller holds the first index across awaits while others are opened.
    const held = sqlite(await reopened.openIndex(names[0]!));
    for (const name of names) {
      expect((await (await reopened.openIndex(name))?.getRepository())?.createdAt).toBe(1);
      expect(reopened.openIndexes).toBeLessThanOrEqual(8);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // 8 connections of 3 descriptors (database, WAL, shm) at most, not 60 of them.
    expect(fds() - before).toBeLessThanOrEqual(8 * 3);
    // Its connection was closed while it was idle; its next call reopens it.
    expect(held.isOpen).toBe(false);
    await held.addLog("INFO", "still usable", 2);
    expect((await held.listLogs()).map((l) => l.message)).toEqual(["still usable"]);
    reopened.close();
  });

  it("never closes a connection under an iteration in progress", async () => {
    const storage = new RepositoryStorage(dir, "", { maxOpenIndexes: 2 });
    const first = sqlite(await storage.createIndex("artifacts/yum/iterated"));
    await first.createRepository(properties, 1);
    await first.stagePackages(1, [record("a"), record("b"), record("c")]);
    await first.commitMirrorGeneration(1, {
      deleteTags: [],
      revision: 1,
      repomd: "<r/>",
      repomdAsc: undefined,
    });
    const fragments = first.iterateFragments("primary");
    const seen = [(await fragments.next()).value];
    for (let i = 0; i < 10; i++) await (await storage.createIndex(`artifacts/yum/other${i}`)).getRepository();
    // Busy: left open, beyond the bound until it is done.
    expect(first.isOpen).toBe(true);
    for await (const xml of fragments) seen.push(xml);
    expect(seen).toEqual(["<p a/>", "<p b/>", "<p c/>"]);
    await (await storage.createIndex("artifacts/yum/after")).getRepository();
    expect(first.isOpen).toBe(false);
    expect(storage.openIndexes).toBeLessThanOrEqual(2);
    storage.close();
  });

  it("a repository deleted while its index was held and closed: REPO_NOT_FOUND, not another repository's data", async () => {
    const storage = new RepositoryStorage(dir, "", { maxOpenIndexes: 1 });
    const name = "artifacts/yum/gone";
    const held = sqlite(await storage.createIndex(name));
    await held.createRepository(properties, 1);
    await (await storage.createIndex("artifacts/yum/other")).getRepository();
    expect(held.isOpen).toBe(false);
    await storage.deleteRepository(name);
    await (await storage.createIndex(name)).createRepository({ ...properties, mirror: true }, 2);
    expect(isYumError(await caught(held.getRepository()), "REPO_NOT_FOUND")).toBe(true);
    // Its event transactions fail the same way, one after another (a failed one does not block the next).
    for (let i = 0; i < 2; i++) {
      const apply = held.applyEvent(1, 1, async () => ({ changed: false }));
      expect(isYumError(await caught(apply), "REPO_NOT_FOUND")).toBe(true);
    }
    expect((await (await storage.openIndex(name))?.getRepository())?.createdAt).toBe(2);
    storage.close();
  });

  it("reports a corrupt index as STORAGE_CORRUPT with its path, a missing one as no repository", async () => {
    const storage = new RepositoryStorage(dir);
    const name = "artifacts/yum/corrupt";
    await storage.createIndex(name);
    storage.close();
    const path = storage.paths(name).index;
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
    writeFileSync(path, "this is not an SQLite database, it was overwritten by something else ".repeat(100));
    const reopened = new RepositoryStorage(dir);
    const error = await caught(reopened.openIndex(name));
    expect(isYumError(error, "STORAGE_CORRUPT")).toBe(true);
    expect((error as Error).message).toContain(path);
    expect(await reopened.openIndex("artifacts/yum/missing")).toBeUndefined();
    reopened.close();
  });

  it("reports running out of file descriptors as UNAVAILABLE (503), not REPO_NOT_FOUND", async () => {
    const storage = new RepositoryStorage(dir);
    const name = "artifacts/yum/emfile";
    await (await storage.createIndex(name)).createRepository(properties, 1);
    storage.close();
    const reopened = new RepositoryStorage(dir);
    // Exhaust the descriptors, synchronously (nothing else runs meanwhile), open, give them back.
    const taken: number[] = [];
    let opening: Promise<unknown> | undefined;
    let exhausted = false;
    try {
      for (let i = 0; i < 200_000; i++) taken.push(openSync("/dev/null", "r"));
    } catch (err) {
      exhausted = (err as NodeJS.ErrnoException).code === "EMFILE";
      // One descriptor free is not enough for SQLite's three.
      if (exhausted) {
        closeSync(taken.pop()!);
        // The open runs before the call returns (SQLite is synchronous); its outcome is read below.
        opening = caught(reopened.openIndex(name));
      }
    } finally {
      for (const fd of taken) closeSync(fd);
    }
    if (!exhausted) return; // an unlimited descriptor table: nothing to test here
    const error = await opening;
    expect(isYumError(error, "UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toMatch(/too many open files|cannot be opened/);
    expect((error as { httpStatus: number }).httpStatus).toBe(503);
    // Once descriptors are back, it opens.
    expect((await (await reopened.openIndex(name))?.getRepository())?.createdAt).toBe(1);
    reopened.close();
  });
});
