import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createrepoC } from "./support/createrepo.js";
import { makeDnf } from "./support/dnf.js";
import { freePort, startProcess, stopAll } from "./support/processes.js";
import { connectRedis, deletePrefix, uniquePrefix } from "./support/redis.js";
import { manyFixtures, standardFixtures } from "./support/rpm-fixtures.js";
import { run } from "./support/run.js";
import { startStaticServer } from "./support/static-server.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await stopAll();
  await cleanupTempDirs();
});

/** GET through node:http (status + body), with optional extra headers. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

describe("test support", () => {
  it("builds fixtures that createrepo_c indexes and dnf installs from the static server", async () => {
    const repo = makeTempDir("support-repo-");
    const fixtures = await standardFixtures(repo);
    expect(fixtures.all.map((p) => path.basename(p))).toEqual([
      "yumtest-lib-1.0-1.x86_64.rpm",
      "yumtest-app-2.0-1.noarch.rpm",
      "yumtest-extra-1.5-2.noarch.rpm",
    ]);
    const requires = await run("rpm", ["-qp", "--requires", fixtures.app]);
    expect(requires.stdout).toContain("yumtest-lib >= 1.0");
    expect(requires.stdout).not.toContain("/bin/sh");

    await createrepoC(repo);
    const server = await startStaticServer(repo);
    closers.push(server.close);

    const dnf = makeDnf(server.url);
    await dnf.makecache();
    const all = await dnf.repoquery(["--qf", "%{name}-%{version}-%{release}.%{arch}"]);
    expect(all.sort()).toEqual([
      "yumtest-app-2.0-1.noarch",
      "yumtest-extra-1.5-2.noarch",
      "yumtest-lib-1.0-1.x86_64",
    ]);
    expect(await dnf.repoquery(["--whatprovides", "yumtest-plugin(extra)", "--qf", "%{name}"])).toEqual([
      "yumtest-extra",
    ]);

    await dnf.install(["yumtest-app"]);
    expect(await dnf.installed()).toEqual([
      "yumtest-app-2.0-1.noarch",
      "yumtest-extra-1.5-2.noarch",
      "yumtest-lib-1.0-1.x86_64",
    ]);
    expect(fs.readFileSync(path.join(dnf.installroot, "etc/yumtest-app/app.conf"), "utf8")).toBe(
      "key=value\n",
    );

    const noWeak = makeDnf(server.url, { installWeakDeps: false });
    await noWeak.install(["yumtest-app"]);
    expect(await noWeak.installed()).toEqual(["yumtest-app-2.0-1.noarch", "yumtest-lib-1.0-1.x86_64"]);

    expect(server.requests.some((r) => r.path === "/repodata/repomd.xml" && r.status === 200)).toBe(true);
  });

  it("makes dnf fail loudly on a broken repository", async () => {
    const empty = makeTempDir("support-empty-");
    const server = await startStaticServer(empty);
    closers.push(server.close);
    await expect(makeDnf(server.url).makecache()).rejects.toThrow(/dnf .* exited 1/);
  });

  it("builds many packages with one rpmbuild", async () => {
    const out = makeTempDir("support-many-");
    const paths = await manyFixtures(out, 25);
    expect(paths).toHaveLength(25);
    expect(path.basename(paths[24]!)).toBe("yumtest-many-0025-1.0-1.noarch.rpm");
    expect(fs.readdirSync(out)).toHaveLength(25);
  });

  it("serves files with basic auth and ranges, and refuses traversal", async () => {
    const root = makeTempDir("support-static-");
    fs.mkdirSync(path.join(root, "private"));
    fs.writeFileSync(path.join(root, "private", "f.txt"), "0123456789");
    fs.writeFileSync(path.join(root, "open.txt"), "open");
    fs.symlinkSync("/etc/hostname", path.join(root, "escape"));
    const server = await startStaticServer(root, {
      basicAuth: { user: "u", pass: "p", prefix: "/private/" },
    });
    closers.push(server.close);
    const auth = { authorization: `Basic ${Buffer.from("u:p").toString("base64")}` };

    expect(await get(`${server.url}open.txt`)).toEqual({ status: 200, body: "open" });
    expect((await get(`${server.url}private/f.txt`)).status).toBe(401);
    expect(await get(`${server.url}private/f.txt`, auth)).toEqual({ status: 200, body: "0123456789" });
    expect(await get(`${server.url}private/f.txt`, { ...auth, range: "bytes=2-4" })).toEqual({
      status: 206,
      body: "234",
    });
    expect((await get(`${server.url}%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
    expect((await get(`${server.url}..%2f..%2fetc%2fpasswd`)).status).toBe(404);
    expect((await get(`${server.url}escape`)).status).toBe(404);
    expect((await get(`${server.url}private/`, auth)).status).toBe(404);
  });

  it("runs processes until a ready line and stops them", async () => {
    const port = await freePort();
    const script = `require("http").createServer((q, s) => s.end("ok")).listen(${port}, "127.0.0.1", () => console.log("listening on", ${port}))`;
    const proc = await startProcess(process.execPath, ["-e", script], { readyLine: /listening on \d+/ });
    expect(await get(`http://127.0.0.1:${port}/`)).toEqual({ status: 200, body: "ok" });
    expect(proc.output()).toContain(`listening on ${port}`);
    expect(await proc.stop()).toEqual({ code: null, signal: "SIGTERM" });

    await expect(
      startProcess(process.execPath, ["-e", "console.error('boom'); process.exit(3)"], {
        readyLine: /never/,
      }),
    ).rejects.toThrow(/exited \(code 3\)[\s\S]*boom/);
  });

  it("scopes Redis keys by a unique prefix", async () => {
    const prefix = uniquePrefix("support test");
    expect(prefix).toMatch(/^bytest-support-test-[0-9a-f]{8}$/);
    const redis = connectRedis();
    try {
      await redis.set(`${prefix}:a`, "1");
      await redis.set(`${prefix}:b:c`, "2");
      await redis.set(`${prefix}x:other`, "3");
      expect(await deletePrefix(prefix)).toBe(2);
      expect(await redis.exists(`${prefix}:a`, `${prefix}:b:c`)).toBe(0);
      expect(await redis.get(`${prefix}x:other`)).toBe("3");
      await redis.del(`${prefix}x:other`);
    } finally {
      await redis.quit();
    }
    await expect(deletePrefix("beskar-yum")).rejects.toThrow(/refusing/);
  });
});
