import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RepositoryStorage } from "./repository-storage.js";

describe("RepositoryStorage registry tombstones", () => {
  let dir: string;
  let storage: RepositoryStorage;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "bystorage-"));
    storage = new RepositoryStorage(dir);
  });
  afterEach(() => {
    storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the manifests of every deletion of a name until removed, outside the repositories' tree", async () => {
    const repository = "artifacts/yum/team/el9";
    const manifest = (n: number) => ({
      kind: "packages" as const,
      tag: `t${n}`,
      manifestDigest: `sha256:${n}`,
    });
    expect(await storage.listRegistryTombstones()).toEqual([]);
    expect(await storage.registryTombstone(repository)).toBeUndefined();

    await storage.addRegistryTombstone({ repository, manifests: [manifest(1)] });
    // Deleted again (created in between) before the first tombstone was handled: both are kept.
    await storage.addRegistryTombstone({ repository, manifests: [manifest(2)] });
    expect(await storage.registryTombstone(repository)).toEqual({
      repository,
      manifests: [manifest(1), manifest(2)],
    });
    expect(await storage.listRegistryTombstones()).toEqual([repository]);
    expect(await storage.listRepositories()).toEqual([]);
    expect(readdirSync(dir)).toEqual(["_registry_tombstones_"]);

    await storage.removeRegistryTombstone(repository);
    expect(await storage.listRegistryTombstones()).toEqual([]);
  });
});
