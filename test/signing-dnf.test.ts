import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata } from "./harness/upstream.js";
import { dnfWithRepoFile } from "./support/dnf.js";
import { gpgVerify } from "./support/gpg-verify.js";
import { describeFailure, run, runOk } from "./support/run.js";
import { cleanupTempDirs } from "./support/tmp.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "apps/cli/bin/beskar-yum.js");
const rockyKey = readFileSync(join(rockyTestdata, "RPM-GPG-KEY-rockyofficial"), "utf8");
const rpm = (file: string) => join(rockyTestdata, "Packages", file);

const bytes = async (url: string) => {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return { response, body: Buffer.from(await response.arrayBuffer()) };
};

describe("hosted repodata signed with the server's key (dnf gpgcheck=1 and repo_gpgcheck=1)", () => {
  let stack: Stack;
  const repository = "artifacts/yum/signed-hosted";
  beforeAll(async () => {
    stack = await startStack({ name: "signing-dnf", generatedSigningKey: true });
    const created = await stack.call("POST", "/repository", {
      repository,
      properties: { gpg_key: Buffer.from(rockyKey).toString("base64") },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    for (const file of [
      "booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm",
      "spausedd-debuginfo-3.0.3-4.el8.x86_64.rpm",
    ]) {
      const uploaded = await stack.upload(repository, rpm(file), { wait: true });
      expect(uploaded.status, JSON.stringify(uploaded.json)).toBe(201);
    }
  });
  afterAll(async () => {
    await stack?.stop();
    await cleanupTempDirs();
  });

  it("serves a .repo file that a stock dnf installs from, importing both keys it names", async () => {
    const response = await fetch(`${stack.url}/${repository}/signed-hosted.repo`);
    expect(response.status).toBe(200);
    const repoFile = await response.text();
    const base = `${stack.url}/${repository}`;
    expect(repoFile).toBe(
      [
        "[signed-hosted]",
        "name=signed-hosted",
        `baseurl=${base}/repo/`,
        "enabled=1",
        "gpgcheck=1",
        "repo_gpgcheck=1",
        `gpgkey=${base}/RPM-GPG-KEY ${base}/repo/repodata/repomd.xml.key`,
        "",
      ].join("\n"),
    );
    const installed = await dnfWithRepoFile(repoFile, ["install", "booth-debugsource"]);
    expect(installed.code, describeFailure("dnf install", installed)).toBe(0);
    // Both keys were fetched from us and imported: Rocky's (packages) and the server's (repomd.xml).
    expect(installed.stdout + installed.stderr).toMatch(
      /Release Engineering <infrastructure@rockylinux\.org>/,
    );
    expect(installed.stdout + installed.stderr).toMatch(/beskar-yum repodata signing key/);
    expect(installed.stdout).toMatch(/Complete!/);
  });

  it("is checked by dnf: without the server's key, repomd.xml's signature does not verify and nothing installs", async () => {
    // The same .repo file with the package key only: repomd.xml.asc cannot be checked against it.
    const repoFile = (await (await fetch(`${stack.url}/${repository}/signed-hosted.repo`)).text()).replace(
      / \S+repomd\.xml\.key$/m,
      "",
    );
    expect(repoFile).toMatch(/^gpgkey=\S+\/RPM-GPG-KEY$/m);
    const refused = await dnfWithRepoFile(repoFile, ["install", "booth-debugsource"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/repomd\.xml GPG signature verification error/);
  });

  it("is refused by dnf when repomd.xml is changed on the way, the .repo file used as served", async () => {
    // A proxy in front that passes everything through, and changes repomd.xml's revision while `tamper`.
    let tamper = false;
    let tampered = 0;
    const proxy = createServer(async (req, res) => {
      const upstream = await fetch(`${stack.url}${req.url}`, {
        headers: { "x-forwarded-host": req.headers.host ?? "" },
      });
      let body = Buffer.from(await upstream.arrayBuffer());
      if (tamper && req.url?.endsWith("/repodata/repomd.xml")) {
        const changed = body
          .toString("utf8")
          .replace(/<revision>(\d+)<\/revision>/, (_, n: string) => `<revision>${Number(n) + 1}</revision>`);
        if (changed !== body.toString("utf8")) tampered++;
        body = Buffer.from(changed);
      }
      res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "" });
      res.end(body);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const repoFile = await (await fetch(`${proxyUrl}/${repository}/signed-hosted.repo`)).text();
      expect(repoFile).toContain(`baseurl=${proxyUrl}/${repository}/repo/`);
      const passed = await dnfWithRepoFile(repoFile, ["install", "booth-debugsource"]);
      expect(passed.code, describeFailure("dnf install through the proxy", passed)).toBe(0);
      tamper = true;
      const refused = await dnfWithRepoFile(repoFile, ["install", "booth-debugsource"]);
      expect(tampered).toBeGreaterThan(0);
      expect(refused.code).not.toBe(0);
      expect(refused.stdout + refused.stderr).toMatch(/repomd\.xml GPG signature verification error/);
    } finally {
      proxy.close();
    }
  });

  it("signs repomd.xml: gpg verifies it against the served key, and not a repomd.xml one byte off", async () => {
    const { body: repomd } = await bytes(`${stack.repoUrl(repository)}repodata/repomd.xml`);
    const { body: asc } = await bytes(`${stack.repoUrl(repository)}repodata/repomd.xml.asc`);
    const { body: key } = await bytes(`${stack.repoUrl(repository)}repodata/repomd.xml.key`);
    expect(asc.toString()).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
    expect(key.toString()).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    const good = await gpgVerify(key.toString(), asc, repomd);
    expect(good.code, describeFailure("gpg --verify", good)).toBe(0);
    expect(good.stderr).toMatch(/Good signature from "beskar-yum repodata signing key"/);

    const tampered = Buffer.from(repomd);
    tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
    const bad = await gpgVerify(key.toString(), asc, tampered);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/BAD signature/);
    // Signed at publish, not per request: the same signature each time, on disk beside repomd.xml too.
    const { body: again } = await bytes(`${stack.repoUrl(repository)}repodata/repomd.xml.asc`);
    expect(again.equals(asc)).toBe(true);
    const onDisk = join(stack.dataDir, "artifacts/yum/signed-hosted/repodata/repomd.xml.asc");
    expect(readFileSync(onDisk).equals(asc)).toBe(true);
  });

  it("keeps the generated key in the data dir, mode 0600, outside every served directory", async () => {
    const keyFile = join(stack.dataDir, "signing-key.asc");
    const mode = (await runOk("stat", ["-c", "%a", keyFile])).stdout.trim();
    expect(mode).toBe("600");
    expect(readFileSync(keyFile, "utf8")).toMatch(/^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
    expect((await fetch(`${stack.url}/signing-key.asc`)).status).toBe(404);
    expect((await fetch(`${stack.repoUrl(repository)}repodata/signing-key.asc`)).status).toBe(404);
  });

  it("sends Cache-Control by kind of file, from the route and from the content cache alike", async () => {
    const { packages } = await fetchPrimary(stack.repoUrl(repository));
    const repomd = await (await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml`)).text();
    const primaryHref = /href="(repodata\/[0-9a-f]{64}-primary\.xml\.gz)"/.exec(repomd)![1]!;
    const expected: [string, string][] = [
      [`${stack.repoUrl(repository)}repodata/repomd.xml`, "no-cache"],
      [`${stack.repoUrl(repository)}repodata/repomd.xml.asc`, "no-cache"],
      [`${stack.repoUrl(repository)}repodata/repomd.xml.key`, "no-cache"],
      [`${stack.url}/${repository}/signed-hosted.repo`, "no-cache"],
      [`${stack.url}/${repository}/RPM-GPG-KEY`, "no-cache"],
      [`${stack.repoUrl(repository)}${primaryHref}`, "public, max-age=31536000, immutable"],
      [`${stack.repoUrl(repository)}${packages[0]!.href}`, "public, max-age=3600"],
    ];
    for (const [url, cacheControl] of expected) {
      // The first request may go through the route, the next ones are answered from memory.
      for (let i = 0; i < 3; i++) {
        const response = await fetch(url);
        expect(response.status, url).toBe(200);
        expect(response.headers.get("cache-control"), url).toBe(cacheControl);
        await response.arrayBuffer();
      }
      const etag = (await fetch(url, { method: "HEAD" })).headers.get("etag")!;
      const notModified = await fetch(url, { headers: { "if-none-match": etag } });
      expect(notModified.status, url).toBe(304);
      expect(notModified.headers.get("cache-control"), url).toBe(cacheControl);
    }
  });

  it("writes the URL the client used into the .repo file (X-Forwarded-* from a proxy in front)", async () => {
    const response = await fetch(`${stack.url}/${repository}/signed-hosted.repo`, {
      headers: { "x-forwarded-host": "yum.example.com", "x-forwarded-proto": "https" },
    });
    const text = await response.text();
    expect(text).toMatch(/^baseurl=https:\/\/yum\.example\.com\/artifacts\/yum\/signed-hosted\/repo\/$/m);
    expect(text).toMatch(/^gpgkey=https:\/\/yum\.example\.com\/artifacts\/yum\/signed-hosted\/RPM-GPG-KEY /m);
  });

  it("answers 404 REPO_NOT_FOUND for the .repo file of a repository that does not exist", async () => {
    const response = await fetch(`${stack.url}/artifacts/yum/no-such-repo/no-such-repo.repo`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { reason: string } }).error.reason).toBe("REPO_NOT_FOUND");
  });

  it("beskar-yum repo config prints the .repo file; an unknown repository exits 1", async () => {
    const env = { BESKARYUM_URL: stack.url, BESKARYUM_TOKEN: stack.token };
    const printed = await run("node", [cli, "repo", "config", "signed-hosted"], { env });
    expect(printed.code, describeFailure("repo config", printed)).toBe(0);
    expect(printed.stdout).toBe(await (await fetch(`${stack.url}/${repository}/signed-hosted.repo`)).text());
    const unknown = await run("node", [cli, "repo", "config", "no-such-repo"], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/repository artifacts\/yum\/no-such-repo not found/);
    const help = await run("node", [cli, "repo", "config", "--help"], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/repo config <repo>/);
  });

  it("a hosted repository without gpg_key: repodata signed, packages not checked (gpgcheck=0)", async () => {
    const plain = "artifacts/yum/signed-plain";
    expect((await stack.call("POST", "/repository", { repository: plain, properties: {} })).status).toBe(200);
    const text = await (await fetch(`${stack.url}/${plain}/signed-plain.repo`)).text();
    expect(text).toMatch(/^gpgcheck=0$/m);
    expect(text).toMatch(/^repo_gpgcheck=1$/m);
    expect(text).toMatch(/^gpgkey=\S+\/signed-plain\/repo\/repodata\/repomd\.xml\.key$/m);
    expect((await fetch(`${stack.url}/${plain}/RPM-GPG-KEY`)).status).toBe(404);
  });
});
