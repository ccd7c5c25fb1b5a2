import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { YumError } from "@beskar-yum/errors";
import { manifestDigest, packageManifest, type RegistryClient } from "@beskar-yum/oci";
import { FsBlobStore, type PackageRecord, type RepositoryPaths, SqliteRepoIndex } from "@beskar-yum/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeRecord } from "../../storage/src/test-support/fake-record.js";
import { packageTag } from "./package-view.js";
import { replicateToRegistry } from "./registry-replica.js";

type Client = Pick<RegistryClient, "pushBlob" | "putManifest" | "deleteManifest" | "getManifest">;

/** An in-memory registry: manifests by digest, tags, blobs; `down` makes every call fail. */
function fakeRegistry() {
  const blobs = new Set<string>();
  const manifests = new Map<string, Buffer>();
  const tags = new Map<string, string>();
  const calls: string[] = [];
  const state = { down: false };
  const check = () => {
    if (state.down) throw new YumError("REGISTRY_UNAVAILABLE", "connection refused");
  };
  const client: Client = {
    async pushBlob(repo, blob) {
      check();
      if (blobs.has(`${repo}@${blob.digest}`)) return false;
      calls.push(`blob ${repo}@${blob.digest}`);
      blobs.add(`${repo}@${blob.digest}`);
      return true;
    },
    async putManifest(repo, reference, bytes) {
      check();
      const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      calls.push(`put ${repo}:${reference}`);
      manifests.set(`${repo}@${digest}`, bytes);
      tags.set(`${repo}:${reference}`, digest);
      return { digest };
    },
    async getManifest(repo, reference) {
      check();
      const digest = tags.get(`${repo}:${reference}`);
      const bytes = digest ? manifests.get(`${repo}@${digest}`) : undefined;
      if (!digest || !bytes) throw new YumError("REGISTRY_NOT_FOUND", `${repo}:${reference}: not found`);
      return { digest, bytes, mediaType: undefined };
    },
    async deleteManifest(repo, digest) {
      check();
      calls.push(`delete ${repo}@${digest}`);
      if (!manifests.delete(`${repo}@${digest}`)) return false;
      for (const [tag, d] of tags) if (d === digest && tag.startsWith(`${repo}:`)) tags.delete(tag);
      return true;
    },
  };
  return { client, calls, tags, state };
}

function record(name: string, id: string): PackageRecord {
  const fileName = `${name}-1.0-1.noarch.rpm`;
  return fakeRecord(packageTag(fileName), {
    id,
    fileName,
    href: `Packages/${fileName}`,
    name,
    version: "1.0",
    license: "",
    buildTime: 0,
    uploadTime: 0,
    size: 1,
    fileSize: 3,
    primaryXml: "",
    filelistsXml: "",
    otherXml: "",
  });
}

const log = { info: () => {}, error: () => {} };
const repository = "artifacts/yum/replica";

describe("replicateToRegistry", () => {
  let dir: string;
  let index: SqliteRepoIndex;
  let paths: RepositoryPaths;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "byreplica-"));
    paths = {
      root: dir,
      index: join(dir, "index.db"),
      blobs: join(dir, "blobs"),
      repodata: join(dir, "repodata"),
    };
    index = SqliteRepoIndex.open(join(dir, "index.db"), { create: true });
    await index.createRepository({ mirror: false, mirror_urls: [], gpg_key: "" }, 0);
  });
  afterEach(async () => {
    index.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const put = async (pkg: PackageRecord) => {
    const blobs = new FsBlobStore(paths.blobs);
    mkdirSync(join(paths.blobs, "sha256", pkg.id.slice(0, 2)), { recursive: true });
    writeFileSync(blobs.pathOf(pkg.id), "rpm");
    const seq = await index.appendEvent({ action: "publish" }, 0);
    await index.applyEvent(seq, 0, async (tx) => {
      await tx.upsertPackage(pkg);
      return { changed: true };
    });
    await index.registry.requestReplication();
  };

  it("pushes packages once, replaces a re-pointed tag and deletes the old manifest by digest", async () => {
    const registry = fakeRegistry();
    const a = record("a", "a".repeat(64));
    await put(a);
    expect(await replicateToRegistry(repository, index, paths, { client: registry.client, log })).toBe(true);
    const expected = manifestDigest(
      packageManifest({ digest: `sha256:${a.id}`, size: 3, fileName: a.fileName, arch: "noarch" }),
    );
    expect(registry.tags.get(`${repository}/packages:${a.tag}`)).toBe(expected);
    expect((await index.registry.byManifestDigest("packages", expected))?.tag).toBe(a.tag);
    const state = await index.registry.state();
    expect(state.replicated).toBe(state.generation);

    // Nothing pending: no call at all.
    registry.calls.length = 0;
    await replicateToRegistry(repository, index, paths, { client: registry.client, log });
    expect(registry.calls).toEqual([]);

    // The same file name, other bytes: the tag moves, the previous manifest is deleted.
    await put({ ...a, id: "b".repeat(64) });
    await replicateToRegistry(repository, index, paths, { client: registry.client, log });
    expect(registry.calls).toContain(`delete ${repository}/packages@${expected}`);
    expect(registry.tags.get(`${repository}/packages:${a.tag}`)).not.toBe(expected);
  });

  it("pages through the packages without their XML: no listing of every row, at most a page in memory", async () => {
    const registry = fakeRegistry();
    const blobs = new FsBlobStore(paths.blobs);
    const records = Array.from({ length: 1_500 }, (_, i) => {
      const id = createHash("sha256").update(String(i)).digest("hex");
      mkdirSync(join(paths.blobs, "sha256", id.slice(0, 2)), { recursive: true });
      writeFileSync(blobs.pathOf(id), "rpm");
      return { ...record(`p${String(i).padStart(5, "0")}`, id), primaryXml: "x".repeat(4096) };
    });
    for (let i = 0; i < records.length; i += 500) await index.stagePackages(0, records.slice(i, i + 500));
    const repomd = (n: number) =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>${n}</revision></repomd>`;
    await index.commitMirrorGeneration(0, {
      deleteTags: [],
      revision: 1,
      repomd: repomd(1),
      repomdAsc: undefined,
    });
    let largest = 0;
    const watched = new Proxy(index, {
      get(target, property, receiver) {
        if (property === "listPackages") throw new Error("listPackages loads every row with its XML");
        if (property === "listPackageSummaries")
          return async (limit: number, after?: { href: string; tag: string }) => {
            const rows = await target.listPackageSummaries(limit, after);
            largest = Math.max(largest, rows.length);
            return rows;
          };
        const value = Reflect.get(target, property, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    expect(await replicateToRegistry(repository, watched, paths, { client: registry.client, log })).toBe(
      true,
    );
    expect(await index.registry.list("packages")).toHaveLength(1_500);
    expect(largest).toBeLessThanOrEqual(1000);
    // A package removed: its manifest is deleted, the others stay.
    await index.commitMirrorGeneration(0, {
      deleteTags: [records[7]!.tag],
      revision: 2,
      repomd: repomd(2),
      repomdAsc: undefined,
    });
    registry.calls.length = 0;
    expect(await replicateToRegistry(repository, watched, paths, { client: registry.client, log })).toBe(
      true,
    );
    expect(registry.calls.filter((c) => c.startsWith(`delete ${repository}/packages@`))).toHaveLength(1);
    expect(registry.calls.filter((c) => c.startsWith("put"))).toEqual([
      `put ${repository}/repodata:repomdxml`,
    ]);
    expect(await index.registry.list("packages")).toHaveLength(1_499);
  });

  it("records a failure, keeps replication pending and pushes everything on the next round", async () => {
    const registry = fakeRegistry();
    await put(record("a", "a".repeat(64)));
    await put(record("b", "b".repeat(64)));
    registry.state.down = true;
    expect(await replicateToRegistry(repository, index, paths, { client: registry.client, log })).toBe(false);
    const failed = await index.registry.state();
    expect(failed.replicated).toBeLessThan(failed.generation);
    expect(failed.error).toMatch(/connection refused/);
    // A registry that is down ends the round at the first failure.
    expect(failed.error.split("; ")).toHaveLength(1);
    expect(await index.registry.list("packages")).toEqual([]);

    registry.state.down = false;
    expect(await replicateToRegistry(repository, index, paths, { client: registry.client, log })).toBe(true);
    expect(await index.registry.list("packages")).toHaveLength(2);
    expect(await index.registry.state()).toMatchObject({ error: "", replicated: failed.generation });
  });
});
