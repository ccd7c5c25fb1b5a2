import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { FsBlobStore, SqliteRepoIndex } from "@beskar-yum/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyStoredEvent } from "./event-applier.js";

const packages = new URL("../../../test/fixtures/rocky-8.3-ha-debug/Packages/", import.meta.url).pathname;
const files = [
  "booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm",
  "clufter-debugsource-0.77.1-5.el8.x86_64.rpm",
];

describe("limits.max_packages_per_repository in the worker", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "bylimit-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses a put beyond the limit that raced past the API's check (the event fails, naming the limit)", async () => {
    const index = SqliteRepoIndex.open(join(dir, "index.db"), { create: true, maxPackages: 1 });
    await index.createRepository({ mirror: false, mirror_urls: [], gpg_key: "" }, 1);
    const blobs = new FsBlobStore(join(dir, "blobs"));
    const outcomes: (string | undefined)[] = [];
    for (const file of files) {
      const digest = createHash("sha256")
        .update(readFileSync(join(packages, file)))
        .digest("hex");
      mkdirSync(dirname(blobs.pathOf(digest)), { recursive: true });
      copyFileSync(join(packages, file), blobs.pathOf(digest));
      const event = { action: "put" as const, digest, fileName: file, uploadTime: 1, verified: false };
      const seq = await index.appendEvent(event, 1);
      const { result } = await applyStoredEvent(index, blobs, { seq, event, createdAt: 1 }, 1);
      outcomes.push(result.error);
    }
    expect(outcomes[0]).toBeUndefined();
    expect(outcomes[1]).toMatch(/limits\.max_packages_per_repository allows \(1\)/);
    expect(await index.countPackages()).toBe(1);
    index.close();
  });
});
