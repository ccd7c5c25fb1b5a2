import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata, startUpstream, type Upstream } from "./harness/upstream.js";
import { makeDnf } from "./support/dnf.js";
import { makeRepomdSigner, type RepomdSigner } from "./support/repomd-signer.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const rockyKey = join(rockyTestdata, "RPM-GPG-KEY-rockyofficial");

describe("a mirror of a signed upstream (dnf repo_gpgcheck=1)", () => {
  let stack: Stack;
  let upstream: Upstream;
  let signer: RepomdSigner;
  let signerKeyFile: string;

  beforeAll(async () => {
    const dir = makeTempDir("signed-upstream-");
    signer = await makeRepomdSigner(dir);
    signerKeyFile = join(dir, "RPM-GPG-KEY-upstream-test");
    writeFileSync(signerKeyFile, signer.armoredPublicKey);
    upstream = await startUpstream({ signed: rockyTestdata });
    // Packages stay signed by Rocky; repomd.xml is signed by our throwaway key, as many mirrors' are.
    await signer.sign(join(upstream.root, "signed", "repodata", "repomd.xml"));
    stack = await startStack({ name: "mirror-signed" });
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.server.close();
    await signer?.close();
    await cleanupTempDirs();
  });

  it("serves upstream's repomd.xml.asc byte-identical, and dnf verifies it and installs", async () => {
    const repository = "artifacts/yum/m-signed";
    // gpg_key holds both keys, concatenated armored blocks: Rocky's for the RPMs, ours for repomd.xml.
    const keys = `${readFileSync(rockyKey, "utf8")}\n${signer.armoredPublicKey}`;
    const created = await stack.call("POST", "/repository", {
      repository,
      properties: {
        mirror: true,
        mirror_urls: [upstream.url("signed")],
        gpg_key: Buffer.from(keys).toString("base64"),
      },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const synced = await stack.call("GET", "/repository/sync", { repository, wait: true });
    expect(synced.status, JSON.stringify(synced.json)).toBe(200);

    const upstreamAsc = readFileSync(join(upstream.root, "signed", "repodata", "repomd.xml.asc"));
    const response = await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml.asc`);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(upstreamAsc)).toBe(true);
    const repomd = Buffer.from(
      await (await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml`)).arrayBuffer(),
    );
    expect(repomd.equals(readFileSync(join(upstream.root, "signed", "repodata", "repomd.xml")))).toBe(true);

    // dnf takes both keys: the repomd.xml signature and the packages' must verify.
    const dnf = makeDnf(stack.repoUrl(repository), {
      gpgkey: `file://${rockyKey},file://${signerKeyFile}`,
      repoGpgcheck: true,
    });
    await dnf.install(["booth-debugsource"]);
    expect(await dnf.installed()).toContain("booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64");
  });

  it("answers 404 for the signature of a repository that has none", async () => {
    const repository = "artifacts/yum/hosted-unsigned";
    await stack.call("POST", "/repository", { repository, properties: {} });
    const response = await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml.asc`);
    expect(response.status).toBe(404);
  });

  it("refuses a repomd.xml signature made by a key that is not in gpg_key", async () => {
    const repository = "artifacts/yum/m-signed-wrong-key";
    await stack.call("POST", "/repository", {
      repository,
      properties: {
        mirror: true,
        mirror_urls: [upstream.url("signed")],
        gpg_key: Buffer.from(readFileSync(rockyKey, "utf8")).toString("base64"),
      },
    });
    const synced = await stack.call("GET", "/repository/sync", { repository, wait: true });
    expect(synced.status).toBe(500);
    expect(synced.json.error.message).toMatch(/repomd\.xml\.asc: GPG signature validation failed/);
  });
});
