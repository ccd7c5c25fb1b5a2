import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isYumError } from "@beskar-yum/errors";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RepositoryStorage } from "./repository-storage.js";
import { fakeRecord } from "./test-support/fake-record.js";

const properties = { mirror: false, mirror_urls: [], gpg_key: "" };
const fds = () => readdirSync("/proc/self/fd").length;

const record = (tag: string) => fakeRecord(tag);

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("RepositoryStorage index handles", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "byhandles-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps at most maxOpenIndexes connections open, and indexes held meanwhile still work", async () => {
    const storage = new RepositoryStorage(dir, "", { maxOpenIndexes: 8 });
    const names = Array.from({ length: 60 }, (_, i) => `artifacts/yum/r${i}`);
    for (const name of names) (await storage.createIndex(name)).createRepository(properties, 1);
    storage.close();

    const reopened = new RepositoryStorage(dir, "", { maxOpenIndexes: 8 });
    const before = fds();
    // A caller holds the first index across awaits while others are opened.
    const held = reopened.openIndex(names[0]!)!;
    for (const name of names) {
      expect(reopened.openIndex(name)?.getRepository()?.createdAt).toBe(1);
      expect(reopened.openIndexes).toBeLessThanOrEqual(8);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // 8 connections of 3 descriptors (database, WAL, shm) at most, not 60 of them.
    expect(fds() - before).toBeLessThanOrEqual(8 * 3);
    // Its connection was closed while it was idle; its next call reopens it.
    expect(held.isOpen).toBe(false);
    held.addLog("INFO", "still usable", 2);
    expect(held.listLogs().map((l) => l.message)).toEqual(["still usable"]);
    reopened.close();
  });

  it("never closes a connection under an iteration in progress", async () => {
    const storage = new RepositoryStorage(dir, "", { maxOpenIndexes: 2 });
    const first = await storage.createIndex("artifacts/yum/iterated");
    first.createRepository(properties, 1);
    first.stagePackages(1, [record("a"), record("b"), record("c")]);
    first.commitMirrorGeneration(1, { deleteTags: [], revision: 1, repomd: "<r/>", repomdAsc: undefined });
    const fragments = first.iterateFragments("primary");
    const seen = [fragments.next().value];
    for (let i = 0; i < 10; i++) (await storage.createIndex(`artifacts/yum/other${i}`)).getRepository();
    // Busy: left open, beyond the bound until it is done.
    expect(first.isOpen).toBe(true);
    for (const xml of fragments) seen.push(xml);
    expect(seen).toEqual(["<p a/>", "<p b/>", "<p c/>"]);
    (await storage.createIndex("artifacts/yum/after")).getRepository();
    expect(first.isOpen).toBe(false);
    expect(storage.openIndexes).toBeLessThanOrEqual(2);
    storage.close();
  });

  it("a repository deleted while its index was held and closed: REPO_NOT_FOUND, not another repository's data", async () => {
    const storage = new RepositoryStorage(dir, "", { maxOpenIndexes: 1 });
    const name = "artifacts/yum/gone";
    const held = await storage.createIndex(name);
    held.createRepository(properties, 1);
    (await storage.createIndex("artifacts/yum/other")).getRepository();
    expect(held.isOpen).toBe(false);
    await storage.deleteRepository(name);
    (await storage.createIndex(name)).createRepository({ ...properties, mirror: true }, 2);
    expect(
      isYumError(
        caught(() => held.getRepository()),
        "REPO_NOT_FOUND",
      ),
    ).toBe(true);
    expect(storage.openIndex(name)?.getRepository()?.createdAt).toBe(2);
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
    const error = caught(() => reopened.openIndex(name));
    expect(isYumError(error, "STORAGE_CORRUPT")).toBe(true);
    expect((error as Error).message).toContain(path);
    expect(reopened.openIndex("artifacts/yum/missing")).toBeUndefined();
    reopened.close();
  });

  it("reports running out of file descriptors as UNAVAILABLE (503), not REPO_NOT_FOUND", async () => {
    const storage = new RepositoryStorage(dir);
    const name = "artifacts/yum/emfile";
    (await storage.createIndex(name)).createRepository(properties, 1);
    storage.close();
    const reopened = new RepositoryStorage(dir);
    // Exhaust the descriptors, synchronously (nothing else runs meanwhile), open, give them back.
    const taken: number[] = [];
    let error: unknown;
    let exhausted = false;
    try {
      for (let i = 0; i < 200_000; i++) taken.push(openSync("/dev/null", "r"));
    } catch (err) {
      exhausted = (err as NodeJS.ErrnoException).code === "EMFILE";
      // One descriptor free is not enough for SQLite's three.
      if (exhausted) {
        closeSync(taken.pop()!);
        error = caught(() => reopened.openIndex(name));
      }
    } finally {
      for (const fd of taken) closeSync(fd);
    }
    if (!exhausted) return; // an unlimited descriptor table: nothing to test here
    expect(isYumError(error, "UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toMatch(/too many open files|cannot be opened/);
    expect((error as { httpStatus: number }).httpStatus).toBe(503);
    // Once descriptors are back, it opens.
    expect(reopened.openIndex(name)?.getRepository()?.createdAt).toBe(1);
    reopened.close();
  });
});
