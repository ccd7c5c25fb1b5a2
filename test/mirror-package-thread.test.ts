import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FsBlobStore } from "@beskar-yum/storage";
import { afterAll, describe, expect, it } from "vitest";
// The built module: the thread it starts runs compiled code (as the worker does).
import { PackageStore } from "../packages/mirror/dist/package-store.js";
import { manyFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

afterAll(cleanupTempDirs);

describe("the mirror's package thread", () => {
  it("parses, indexes and stores a verified package; refuses bytes that are no RPM; stops cleanly", async () => {
    const [rpm] = await manyFixtures(makeTempDir("pkgthread-rpms-"), 1, { prefix: "pkgthread-" });
    const data = readFileSync(rpm!);
    const digest = createHash("sha256").update(data).digest("hex");
    const blobs = new FsBlobStore(makeTempDir("pkgthread-blobs-"));
    const store = PackageStore.start()!;
    expect(store).toBeDefined();
    try {
      const href = "Packages/pkgthread-0001-1.0-1.noarch.rpm";
      const record = await store.store({ root: blobs.root, href, digest, data, uploadTime: 1_700_000_000 });
      expect(record).toMatchObject({
        id: digest,
        href,
        fileName: "pkgthread-0001-1.0-1.noarch.rpm",
        name: "pkgthread-0001",
        version: "1.0",
        release: "1",
        arch: "noarch",
        fileSize: data.length,
        uploadTime: 1_700_000_000,
        primaryXml: "",
      });
      expect(readFileSync(blobs.pathOf(digest)).equals(data)).toBe(true);
      expect(await blobs.list()).toEqual(new Set([digest]));

      const junk = Buffer.alloc(data.length, "junk");
      const junkDigest = createHash("sha256").update(junk).digest("hex");
      await expect(
        store.store({
          root: blobs.root,
          href: "Packages/junk.rpm",
          digest: junkDigest,
          data: junk,
          uploadTime: 1,
        }),
      ).rejects.toMatchObject({
        code: "RPM_BAD_MAGIC",
        message: expect.stringMatching(/junk\.rpm: not an RPM/),
      });
      // Nothing of it is stored, not even a temporary file.
      expect(existsSync(blobs.pathOf(junkDigest))).toBe(false);
      expect(existsSync(join(blobs.root, "tmp")) ? readdirSync(join(blobs.root, "tmp")) : []).toEqual([]);
    } finally {
      await store.close();
    }
    await expect(
      store.store({ root: blobs.root, href: "x.rpm", digest, data, uploadTime: 1 }),
    ).rejects.toThrow(/closed/);
  });
  it("is shared by the syncs of a process, whatever their repository", async () => {
    const [rpm] = await manyFixtures(makeTempDir("pkgthread-rpms-"), 1, { prefix: "pkgshared-" });
    const data = readFileSync(rpm!);
    const digest = createHash("sha256").update(data).digest("hex");
    const shared = PackageStore.shared()!;
    expect(PackageStore.shared()).toBe(shared);
    for (const dir of ["pkgshared-a-", "pkgshared-b-"]) {
      const blobs = new FsBlobStore(makeTempDir(dir));
      const href = "Packages/pkgshared-0001-1.0-1.noarch.rpm";
      await shared.store({ root: blobs.root, href, digest, data, uploadTime: 1 });
      expect(readFileSync(blobs.pathOf(digest)).equals(data)).toBe(true);
    }
    // Transferred rather than copied: the bytes are the thread's once handed over.
    const own = Buffer.allocUnsafeSlow(data.length);
    data.copy(own);
    const blobs = new FsBlobStore(makeTempDir("pkgshared-t-"));
    const href = "Packages/pkgshared-0001-1.0-1.noarch.rpm";
    const record = await shared.store(
      { root: blobs.root, href, digest, data: own, uploadTime: 1 },
      { transfer: true },
    );
    expect(own.length).toBe(0);
    expect(record.fileSize).toBe(data.length);
    expect(readFileSync(blobs.pathOf(digest)).equals(data)).toBe(true);
    await shared.close();
    // A closed (or failed) thread is replaced on next use.
    const next = PackageStore.shared()!;
    expect(next).not.toBe(shared);
    await next.close();
  });
});
