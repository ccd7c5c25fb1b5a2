import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

/**
 * Beskar's own non-mirror integration scenario (docs/beskar-compatibility.md §4), step for step, with the
 * packages uploaded by PUT instead of an OCI push.
 */
const testdata = new URL("./fixtures/rocky-8.3-ha-debug/", import.meta.url).pathname;
const config = parse(readFileSync(join(testdata, "repoconfig.yaml"), "utf8"))["vault-rocky-8.3-ha-debug"] as {
  gpgkey: string;
  files: Record<string, { sha256: string; size: number }>;
};
const repository = "artifacts/yum/vault-rocky-8.3-ha-debug-non-mirror";
const uploaded = [
  "booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm",
  "clufter-bin-debuginfo-0.77.1-5.el8.x86_64.rpm",
];

const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const rpmName = (p: {
  name: string;
  version: string;
  release: string;
  architecture: string;
  source_rpm: string;
}) => `${p.name}-${p.version}-${p.release}.${p.source_rpm === "" ? "src" : p.architecture}.rpm`;

describe("Beskar's non-mirror scenario", () => {
  let stack: Stack;
  let storageDir: string;
  beforeAll(async () => {
    storageDir = makeTempDir("beskar-storage");
    stack = await startStack({
      name: "beskar-nm",
      // As Beskar's: repository logs hold errors only, so that its step "logs → 0 entries" holds.
      env: { BESKARYUM_STORAGE_FILESYSTEM_DIRECTORY: storageDir, BESKARYUM_LOG_REPOSITORY_INFO: "false" },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await cleanupTempDirs();
  });

  let packages: any[] = [];

  it("1. creates the repository with the Rocky key", async () => {
    const gpgKey = Buffer.from(config.gpgkey).toString("base64");
    const { status, json } = await stack.call("POST", "/repository", {
      repository,
      properties: { gpg_key: gpgKey },
    });
    expect(status, JSON.stringify(json)).toBe(200);
    expect(json).toEqual({});
  });

  it("2-3. pushes two RPMs and lists them", async () => {
    for (const file of uploaded) {
      const { status } = await stack.upload(repository, join(testdata, "Packages", file));
      expect(status).toBe(202);
    }
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const { json } = await stack.call("GET", "/repository/package:list", { repository });
      packages = json.repository_packages ?? [];
      if (packages.length === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(packages).toHaveLength(2);
    for (const p of packages) expect(uploaded).toContain(rpmName(p));
  });

  it("4. gets each package by id", async () => {
    for (const p of packages) {
      const { status, json } = await stack.call("GET", "/repository/package", { repository, id: p.id });
      expect(status).toBe(200);
      const got = json.repository_packages;
      expect(got.id).toBe(p.id);
      expect(got.tag).toBe(md5(rpmName(got)));
      expect(uploaded).toContain(rpmName(got));
      expect(got.verified).toBe(true);
      expect(got.gpg_signature).toMatch(/Key ID 15af5dac6d745a60/i);
    }
  });

  it("5. gets each package by tag", async () => {
    for (const p of packages) {
      const { status, json } = await stack.call("GET", "/repository/package:bytag", {
        repository,
        tag: p.tag,
      });
      expect(status).toBe(200);
      expect(json.repository_packages).toMatchObject({ id: p.id, tag: md5(rpmName(p)), verified: true });
    }
  });

  it("6. downloads the packages and repomd.xml", async () => {
    for (const file of uploaded) {
      const response = await fetch(`${stack.repoUrl(repository)}${file}`);
      expect(response.status).toBe(200);
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.length).toBe(config.files[file]!.size);
      expect(createHash("sha256").update(body).digest("hex")).toBe(config.files[file]!.sha256);
    }
    expect((await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml`)).status).toBe(200);
  });

  it("7. refuses to delete the repository while it has packages", async () => {
    const { status, json } = await stack.call("DELETE", "/repository", { repository });
    expect(status).toBe(400);
    expect(json.error).toMatchObject({
      code: "FailedPrecondition",
      message: `repository ${repository} has 2 packages associated with it`,
    });
  });

  it("8. removes one package by tag, synchronously", async () => {
    const { status } = await stack.call("DELETE", "/repository/package:bytag", {
      repository,
      tag: packages[0].tag,
    });
    expect(status).toBe(200);
    const { json } = await stack.call("GET", "/repository/package:list", { repository });
    expect(json.repository_packages).toHaveLength(1);
    // The next publish drops it from the repodata as well.
    const deadline = Date.now() + 10_000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      names = (await fetchPrimary(stack.repoUrl(repository))).packages.map((p) => p.name);
      if (names.length === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(names).toEqual([json.repository_packages[0].name]);
  });

  it("9. has no log entries", async () => {
    const { status, json } = await stack.call("GET", "/repository/logs", { repository });
    expect(status).toBe(200);
    expect(json.logs).toEqual([]);
  });

  it("10. deletes the repository with its packages and leaves its storage directory empty", async () => {
    const { status } = await stack.call("DELETE", "/repository", { repository, delete_packages: true });
    expect(status).toBe(200);
    const dir = join(storageDir, repository);
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    expect((await stack.call("GET", "/repository", { repository })).status).toBe(404);
  });
});
