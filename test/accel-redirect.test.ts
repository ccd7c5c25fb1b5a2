import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { makeDnf } from "./support/dnf.js";
import { type Nginx, shippedSite, startNginx } from "./support/nginx.js";
import { standardFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const rocky = fileURLToPath(new URL("./fixtures/rocky-8.3-ha-debug/Packages/", import.meta.url));
const rockyRpm = "pacemaker-cli-debuginfo-2.0.4-6.el8.2.x86_64.rpm";

/**
 * beskar-yum behind Debian's nginx with deploy/nginx/beskar-yum.conf as shipped (only its addresses
 * and the data directory replaced): packages and repodata files are sent by nginx from the API's
 * X-Accel-Redirect, everything else is proxied, and a client talking to the API directly still gets
 * every body.
 */
describe("behind nginx with X-Accel-Redirect (http.accel_redirect)", () => {
  let stack: Stack;
  let nginx: Nginx;
  const repo = "artifacts/yum/accel";
  const frontRepoUrl = () => `${nginx.url}${repo}/repo/`;

  beforeAll(async () => {
    // Files from 200,000 bytes on go to nginx: the Rocky RPM (349 KiB) does, the small test RPMs and
    // the repodata do not.
    stack = await startStack({
      name: "accel-redirect",
      env: { BESKARYUM_HTTP_ACCEL_REDIRECT: "true", BESKARYUM_HTTP_ACCEL_REDIRECT_MIN_BYTES: "200000" },
    });
    const api = new URL(stack.url);
    // http.front_tree is off here: nginx finds nothing there and asks the API for everything.
    nginx = await startNginx({
      site: shippedSite({
        apiHost: api.host,
        dataDir: stack.dataDir,
        frontTree: makeTempDir("no-front-tree"),
      }),
    });
  }, 60_000);
  afterAll(async () => {
    await nginx?.stop();
    await stack?.stop();
    await cleanupTempDirs();
  });

  it("takes uploads through the front, and dnf installs through it", async () => {
    expect((await stack.call("POST", "/repository", { repository: repo, properties: {} })).status).toBe(200);
    const rpms = [...(await standardFixtures(makeTempDir("fixtures"))).all, join(rocky, rockyRpm)];
    for (const rpm of rpms) {
      const response = await fetch(`${frontRepoUrl()}Packages/${rpm.split("/").pop()}?wait=true`, {
        method: "PUT",
        headers: { authorization: `Bearer ${stack.token}`, "content-type": "application/x-rpm" },
        body: readFileSync(rpm),
      });
      expect(response.status, await response.text()).toBe(201);
    }
    const dnf = makeDnf(frontRepoUrl());
    const installed = await dnf.install(["yumtest-app"]);
    expect(installed.stdout).toMatch(/yumtest-lib/);
    expect(await dnf.installed()).toEqual(expect.arrayContaining([expect.stringMatching(/^yumtest-app-/)]));
    expect(nginx.log()).toMatch(
      /GET \/artifacts\/yum\/accel\/repo\/Packages\/(y\/)?yumtest-app[^ ]* 200 [1-9]/,
    );
  });

  it("sends the bytes of packages and repodata files itself: whole, ranged, repeated", async () => {
    const expected = readFileSync(join(rocky, rockyRpm));
    const url = `${frontRepoUrl()}Packages/${rockyRpm}`;
    // The first request goes through the API's routes, the next ones through its in-memory answers.
    for (let i = 0; i < 3; i++) {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/x-rpm");
      // One of each header: ours that nginx keeps would otherwise repeat its own.
      expect(response.headers.get("accept-ranges")).toBe("bytes");
      expect(response.headers.get("cache-control")).toBe("public, max-age=3600");
      expect(response.headers.get("x-accel-redirect")).toBeNull();
      // nginx's own validator (mtime-size), not ours (the sha256): nginx sent the file.
      expect(response.headers.get("etag")).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
      expect(Buffer.from(await response.arrayBuffer()).equals(expected)).toBe(true);
    }
    const ranged = await fetch(url, { headers: { range: "bytes=100-199" } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(expected.subarray(100, 200))).toBe(true);

    const primary = await fetchPrimary(frontRepoUrl());
    expect(primary.packages.map((p) => p.name)).toContain("pacemaker-cli-debuginfo");
    // Below http.accel_redirect_min_bytes the body comes from us through the proxy (our ETag: the sha256).
    const small = primary.packages.find((p) => p.name === "yumtest-lib")!;
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${frontRepoUrl()}${small.href}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("etag")).toBe(`"${small.pkgid}"`);
      const body = Buffer.from(await response.arrayBuffer());
      expect(createHash("sha256").update(body).digest("hex")).toBe(small.pkgid);
    }

    // What nginx asked the API for: an empty answer naming the file in the data directory.
    const direct = await fetch(`${stack.repoUrl(repo)}Packages/${rockyRpm}`, {
      headers: {
        "x-sendfile-type": "X-Accel-Redirect",
        "x-accel-mapping": `${stack.dataDir}/=/_beskar_yum_files/`,
      },
    });
    expect(direct.headers.get("x-accel-redirect")).toMatch(/^\/_beskar_yum_files\/.+/);
    expect((await direct.arrayBuffer()).byteLength).toBe(0);
  });

  it("keeps every body for clients that talk to the API directly, and the internal location closed", async () => {
    const expected = readFileSync(join(rocky, rockyRpm));
    for (let i = 0; i < 2; i++) {
      const direct = await fetch(`${stack.repoUrl(repo)}Packages/${rockyRpm}`);
      expect(direct.headers.get("x-accel-redirect")).toBeNull();
      expect(Buffer.from(await direct.arrayBuffer()).equals(expected)).toBe(true);
    }
    const target = (
      await fetch(`${stack.repoUrl(repo)}Packages/${rockyRpm}`, {
        headers: {
          "x-sendfile-type": "X-Accel-Redirect",
          "x-accel-mapping": `${stack.dataDir}/=/_beskar_yum_files/`,
        },
      })
    ).headers.get("x-accel-redirect")!;
    expect((await fetch(`${nginx.url}${target.slice(1)}`)).status).toBe(404);
    // A client cannot turn it on through the front: nginx replaces the headers it sends.
    const spoofed = await fetch(`${frontRepoUrl()}Packages/${rockyRpm}`, {
      headers: { "x-sendfile-type": "X-Accel-Redirect", "x-accel-mapping": "/=/_beskar_yum_files/" },
    });
    expect(Buffer.from(await spoofed.arrayBuffer()).equals(expected)).toBe(true);
  });
});
