import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata, startUpstream, type Upstream } from "./harness/upstream.js";
import { dnfWithRepoFile, makeDnf } from "./support/dnf.js";
import { makeRepomdSigner, type RepomdSigner } from "./support/repomd-signer.js";
import { describeFailure } from "./support/run.js";
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

    // The .repo file we serve names upstream's keys (gpg_key, served by us), not the server's.
    const repoFile = await (await fetch(`${stack.url}/${repository}/m-signed.repo`)).text();
    expect(repoFile).toMatch(/^repo_gpgcheck=1$/m);
    expect(repoFile).toMatch(/^gpgcheck=1$/m);
    expect(repoFile).toContain(`gpgkey=${stack.url}/${repository}/RPM-GPG-KEY\n`);
    expect(await (await fetch(`${stack.url}/${repository}/RPM-GPG-KEY`)).text()).toBe(keys);
    expect(await (await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml.key`)).text()).toBe(keys);
    const installed = await dnfWithRepoFile(repoFile, ["install", "booth-debugsource"]);
    expect(installed.code, describeFailure("dnf install", installed)).toBe(0);
  });

  it("signs a hosted repository's repomd.xml with the server's key, upstream's signatures are for mirrors", async () => {
    const repository = "artifacts/yum/hosted-signed";
    await stack.call("POST", "/repository", { repository, properties: {} });
    const response = await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml.asc`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
    const key = await (await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml.key`)).text();
    expect(key).not.toBe(signer.armoredPublicKey);
    expect(key).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
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
