import { copyFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { createrepoC } from "./support/createrepo.js";
import { makeDnf } from "./support/dnf.js";
import { standardFixtures } from "./support/rpm-fixtures.js";
import { run } from "./support/run.js";
import { startStaticServer } from "./support/static-server.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const rockyDir = new URL("./fixtures/rocky-8.3-ha-debug/Packages/", import.meta.url).pathname;

describe("hosted repository served to a real dnf", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ name: "hosted-dnf" });
  });
  afterAll(async () => {
    await stack?.stop();
    await cleanupTempDirs();
  });

  it("installs an uploaded package and pulls its dependency", async () => {
    const repo = "artifacts/yum/e2e-dnf";
    expect((await stack.call("POST", "/repository", { repository: repo, properties: {} })).status).toBe(200);
    const rpms = (await standardFixtures(makeTempDir("fixtures"))).all;
    expect(rpms.length).toBeGreaterThanOrEqual(3);
    for (const rpm of rpms) {
      const { status, json } = await stack.upload(repo, rpm, { wait: true });
      expect(status, JSON.stringify(json)).toBe(201);
      expect(json).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f]{64}$/),
        tag: expect.stringMatching(/^[0-9a-f]{32}$/),
      });
    }
    const archs = new Set((await fetchPrimary(stack.repoUrl(repo))).packages.map((p) => p.arch));
    expect(archs).toEqual(new Set(["noarch", "x86_64"]));

    const dnf = makeDnf(stack.repoUrl(repo));
    const installed = await dnf.install(["yumtest-app"]);
    expect(installed.stdout).toMatch(/yumtest-lib/);
    expect(installed.stdout).toMatch(/Complete!/);
    const all = await dnf.repoquery(["-a", "--qf", "%{name}.%{arch}"]);
    expect(all.sort()).toEqual(["yumtest-app.noarch", "yumtest-extra.noarch", "yumtest-lib.x86_64"]);
  });

  it("serves repodata and packages with validators and byte ranges", async () => {
    const repo = "artifacts/yum/e2e-dnf";
    const repomd = await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`);
    const body = await repomd.text();
    expect(repomd.headers.get("content-type")).toMatch(/xml/);
    expect(Number(repomd.headers.get("content-length"))).toBe(Buffer.byteLength(body));
    const etag = repomd.headers.get("etag")!;
    expect(repomd.headers.get("last-modified")).toBeTruthy();
    const again = await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`, {
      headers: { "if-none-match": etag },
    });
    expect(again.status).toBe(304);

    const { packages } = await fetchPrimary(stack.repoUrl(repo));
    const pkg = packages[0]!;
    expect(pkg.href).toMatch(/^Packages\/[a-z0-9]\/[^/]+\.rpm$/);
    const whole = Buffer.from(await (await fetch(`${stack.repoUrl(repo)}${pkg.href}`)).arrayBuffer());
    const head = await fetch(`${stack.repoUrl(repo)}${pkg.href}`, { method: "HEAD" });
    expect(Number(head.headers.get("content-length"))).toBe(whole.length);
    expect(head.headers.get("content-type")).toBe("application/x-rpm");
    const ranged = await fetch(`${stack.repoUrl(repo)}${pkg.href}`, { headers: { range: "bytes=96-199" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes 96-199/${whole.length}`);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(whole.subarray(96, 200));
    const outside = await fetch(`${stack.repoUrl(repo)}${pkg.href}`, {
      headers: { range: `bytes=${whole.length}-` },
    });
    expect(outside.status).toBe(416);
    // Beskar routes packages by file name, whatever the path before it.
    const byName = await fetch(`${stack.repoUrl(repo)}${pkg.href.split("/").pop()}`, { method: "HEAD" });
    expect(byName.status).toBe(200);
    const missing = await fetch(`${stack.repoUrl(repo)}repodata/nope-primary.xml.gz`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "NotFound" } });
  });

  it("indexes the 27 signed Rocky RPMs so that dnf sees what createrepo_c gives", async () => {
    const repo = "artifacts/yum/e2e-rocky";
    const files = readdirSync(rockyDir).filter((f) => f.endsWith(".rpm"));
    expect(files).toHaveLength(27);
    const results = await Promise.all(
      files.map((f) => stack.upload(repo, join(rockyDir, f), { wait: true })),
    );
    expect(results.map((r) => r.status)).toEqual(files.map(() => 201));

    const reference = makeTempDir("rocky-createrepo");
    for (const f of files) copyFileSync(join(rockyDir, f), join(reference, f));
    await createrepoC(reference);
    const server = await startStaticServer(reference);
    try {
      const ours = makeDnf(stack.repoUrl(repo));
      const theirs = makeDnf(server.url);
      await ours.makecache();
      await theirs.makecache();
      // Per package: every dependency kind, then the fields dnf shows; both lists in dnf's own rendering.
      const deps =
        "%{name}-%{evr}.%{arch}|%{provides}|%{requires}|%{recommends}|%{suggests}|%{supplements}|%{enhances}|%{conflicts}|%{obsoletes}";
      const fields =
        "%{name}-%{evr}.%{arch} %{sourcerpm} %{size} %{installsize} %{buildtime} %{license} %{vendor}";
      for (const qf of [deps, fields]) {
        const [a, b] = await Promise.all([
          ours.repoquery(["-a", "--qf", qf]),
          theirs.repoquery(["-a", "--qf", qf]),
        ]);
        expect(a.filter((line) => /^[^|]+\.(x86_64|i686)[| ]/.test(line))).toHaveLength(27);
        expect(a).toEqual(b);
      }
    } finally {
      await server.close();
    }
  });

  it("is driven by the beskar-yum CLI: create, push with wait, list, remove", async () => {
    const cli = fileURLToPath(new URL("../apps/cli/bin/beskar-yum.js", import.meta.url));
    const env = { BESKARYUM_URL: stack.url, BESKARYUM_TOKEN: stack.token };
    const beskarYum = (...args: string[]) => run("node", [cli, ...args], { env, timeoutMs: 60_000 });
    const fixtures = await standardFixtures(makeTempDir("cli-fixtures"));

    expect((await beskarYum("repo", "create", "e2e-cli")).stdout).toBe("created artifacts/yum/e2e-cli\n");
    expect((await beskarYum("repo", "list")).stdout).toMatch(/^artifacts\/yum\/e2e-cli +hosted +0$/m);
    const pushed = await beskarYum("push", "e2e-cli", fixtures.lib, fixtures.extra);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toMatch(/yumtest-lib-1\.0-1\.x86_64 id=[0-9a-f]{64} tag=[0-9a-f]{32}/);
    expect((await beskarYum("repo", "list")).stdout).toMatch(/^artifacts\/yum\/e2e-cli +hosted +2$/m);
    const listed = await beskarYum("packages", "e2e-cli", "--json");
    expect(JSON.parse(listed.stdout)).toHaveLength(2);
    const id = /id=([0-9a-f]{64})/.exec(pushed.stdout)![1]!;
    expect((await beskarYum("package", "rm", "e2e-cli", id)).code).toBe(0);
    expect(JSON.parse((await beskarYum("packages", "e2e-cli", "--json")).stdout)).toHaveLength(1);
    const refused = await beskarYum("repo", "delete", "e2e-cli");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      "beskar-yum: FailedPrecondition (HTTP 400): repository artifacts/yum/e2e-cli has 1 packages associated with it\n",
    );
    expect((await beskarYum("repo", "delete", "e2e-cli", "--delete-packages")).code).toBe(0);
    // Nor any <datadir>/admin-token to fall back on: ./data of an empty directory.
    const noToken = await run("node", [cli, "packages", "x"], {
      cwd: makeTempDir("cli-no-token"),
      env: { BESKARYUM_TOKEN: undefined, BESKARYUM_ADMIN_TOKEN: undefined, BESKARYUM_DATADIR: undefined },
      timeoutMs: 30_000,
    });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/no admin token/);
  });
});
