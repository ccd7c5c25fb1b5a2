import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata } from "./harness/upstream.js";
import { describeFailure, runOk } from "./support/run.js";
import { type StaticServer, startStaticServer } from "./support/static-server.js";
import { cleanupTempDirs } from "./support/tmp.js";
import { zypperWithRepoFile } from "./support/zypper.js";

const rockyKey = readFileSync(join(rockyTestdata, "RPM-GPG-KEY-rockyofficial"), "utf8");
const booth = "booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64";

describe("zypper with its default settings (repomd.xml must be signed)", () => {
  let stack: Stack;
  let unsigned: StaticServer;
  const repository = "artifacts/yum/zypper-hosted";
  beforeAll(async () => {
    stack = await startStack({ name: "signing-zypper" });
    unsigned = await startStaticServer(rockyTestdata);
    const created = await stack.call("POST", "/repository", {
      repository,
      properties: { gpg_key: Buffer.from(rockyKey).toString("base64") },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const uploaded = await stack.upload(repository, join(rockyTestdata, "Packages", `${booth}.rpm`), {
      wait: true,
    });
    expect(uploaded.status, JSON.stringify(uploaded.json)).toBe(201);
  });
  afterAll(async () => {
    await stack?.stop();
    await unsigned?.close();
    await cleanupTempDirs();
  });

  it("refuses an unsigned repomd.xml (the same packages from a plain file server): what every repository of ours met before", async () => {
    const { zypper } = await zypperWithRepoFile(`[plain]\nname=plain\nbaseurl=${unsigned.url}\nenabled=1\n`);
    const refreshed = await zypper(["refresh"]);
    expect(refreshed.code).not.toBe(0);
    expect(refreshed.stdout + refreshed.stderr).toMatch(
      /File 'repomd\.xml' from repository 'plain' is unsigned/,
    );
  });

  it("refreshes and installs from a hosted repository with the .repo file we serve", async () => {
    const repoFile = await (await fetch(`${stack.url}/${repository}/zypper-hosted.repo`)).text();
    const { root, zypper } = await zypperWithRepoFile(repoFile);
    const refreshed = await zypper(["refresh"]);
    expect(refreshed.code, describeFailure("zypper refresh", refreshed)).toBe(0);
    expect(refreshed.stdout).toMatch(/beskar-yum test signing key/);
    const installed = await zypper(["install", "booth-debugsource"]);
    expect(installed.code, describeFailure("zypper install", installed)).toBe(0);
    const rpms = (
      await runOk("rpm", ["--root", root, "-qa", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n"])
    ).stdout;
    expect(rpms.split("\n")).toContain(booth);
  });

  it("refreshes, searches and installs from a mirror (of that unsigned upstream) with the .repo file we serve", async () => {
    const mirror = "artifacts/yum/zypper-mirror";
    const created = await stack.call("POST", "/repository", {
      repository: mirror,
      properties: {
        mirror: true,
        mirror_urls: [unsigned.url],
        gpg_key: Buffer.from(rockyKey).toString("base64"),
      },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const synced = await stack.call("GET", "/repository/sync", { repository: mirror, wait: true });
    expect(synced.status, JSON.stringify(synced.json)).toBe(200);
    const repoFile = await (await fetch(`${stack.url}/${mirror}/zypper-mirror.repo`)).text();
    const { root, zypper } = await zypperWithRepoFile(repoFile);
    const refreshed = await zypper(["refresh"]);
    expect(refreshed.code, describeFailure("zypper refresh", refreshed)).toBe(0);
    const searched = await zypper(["search", "kronosnet"]);
    expect(searched.code, describeFailure("zypper search", searched)).toBe(0);
    expect(searched.stdout).toMatch(/kronosnet-debugsource/);
    const installed = await zypper(["install", "kronosnet-debugsource"]);
    expect(installed.code, describeFailure("zypper install", installed)).toBe(0);
    const rpms = (await runOk("rpm", ["--root", root, "-qa", "--qf", "%{NAME}\\n"])).stdout;
    expect(rpms.split("\n")).toContain("kronosnet-debugsource");
  });
});
