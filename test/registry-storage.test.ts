import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseRepomd } from "@beskar-yum/repodata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata } from "./harness/upstream.js";
import { makeDnf } from "./support/dnf.js";
import { type DockerRegistry, dockerRegistry, notifyStack } from "./support/docker-registry.js";
import { eventually } from "./support/eventually.js";
import { buildRpms, standardFixtures } from "./support/rpm-fixtures.js";
import { startStaticServer } from "./support/static-server.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const EMPTY = `sha256:${createHash("sha256").digest("hex")}`;
const md5 = (text: string) => createHash("md5").update(text).digest("hex");
const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

describe("Debian's docker-registry as the OCI storage replica, with notifications", () => {
  let stack: Stack;
  let registry: DockerRegistry;
  let registryUrl: string;
  const hookToken = randomBytes(16).toString("hex");

  const manifest = async (repo: string, reference: string) => {
    const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${reference}`, {
      headers: { accept: OCI_MANIFEST },
    });
    if (res.status !== 200) return undefined;
    return { digest: res.headers.get("docker-content-digest")!, json: (await res.json()) as any };
  };
  const tags = async (repo: string): Promise<string[]> => {
    const res = await fetch(`${registryUrl}/v2/${repo}/tags/list`);
    if (res.status !== 200) return [];
    return ((await res.json()) as { tags: string[] | null }).tags ?? [];
  };

  beforeAll(async () => {
    registry = await dockerRegistry();
    registryUrl = registry.url;
    stack = await startStack({
      name: "registry-storage",
      env: {
        BESKARYUM_REGISTRY_URL: registryUrl,
        BESKARYUM_REGISTRY_NOTIFICATIONS_TOKEN: hookToken,
        // The retry of a failed push comes with the reconciler's next scan.
        BESKARYUM_WORKER_RECONCILE_INTERVAL_MS: "1000",
      },
    });
    await registry.start(notifyStack(stack.url, hookToken));
  });
  afterAll(async () => {
    await registry?.stop();
    await stack?.stop();
    await cleanupTempDirs();
  });

  it("pushes uploaded packages and repomd.xml in Beskar's layout", async () => {
    const repo = "artifacts/yum/oci-upload";
    const rpms = (await standardFixtures(makeTempDir("fixtures-"))).all;
    for (const rpm of rpms) {
      const { status, json } = await stack.upload(repo, rpm, { wait: true });
      expect(status, JSON.stringify(json)).toBe(201);
    }
    const expectedTags = rpms.map((rpm) => md5(basename(rpm))).sort();
    await eventually("package tags", async () =>
      JSON.stringify((await tags(`${repo}/packages`)).sort()) === JSON.stringify(expectedTags)
        ? true
        : undefined,
    );
    for (const rpm of rpms) {
      const pushed = (await manifest(`${repo}/packages`, md5(basename(rpm))))!;
      expect(pushed.json.config).toEqual({
        mediaType: "application/vnd.ciq.rpm.package.v1.config+json",
        digest: EMPTY,
        size: 0,
      });
      expect(pushed.json.layers).toHaveLength(1);
      expect(pushed.json.layers[0]).toMatchObject({
        mediaType: "application/vnd.ciq.rpm.package.v1.rpm",
        digest: sha256(readFileSync(rpm)),
        annotations: { "org.opencontainers.image.title": basename(rpm) },
        platform: { os: "linux" },
      });
    }

    // User extra metadata: repodata:<type>.
    const updateinfo = Buffer.from('<?xml version="1.0"?>\n<updates/>\n');
    const extra = await fetch(
      `${stack.repoUrl(repo)}repodata/extra/updateinfo?filename=updateinfo.xml&wait=true`,
      {
        method: "PUT",
        headers: { authorization: `Bearer ${stack.token}` },
        body: updateinfo,
      },
    );
    expect(extra.status, await extra.text()).toBeLessThan(300);
    const extraManifest = await eventually("repodata:updateinfo", async () =>
      manifest(`${repo}/repodata`, "updateinfo"),
    );
    expect(extraManifest.json.config.mediaType).toBe("application/vnd.ciq.rpm.repomd.extra.v1.config+xml");
    expect(extraManifest.json.layers).toEqual([
      {
        mediaType: "application/vnd.ciq.rpm.repomd.extra.v1.updateinfo",
        digest: sha256(updateinfo),
        size: updateinfo.length,
        annotations: { "org.opencontainers.image.title": "updateinfo.xml" },
      },
    ]);

    // repodata:repomdxml follows the served repomd.xml (the replica is pushed after each publish).
    const served = await eventually("repomdxml manifest matching the served repomd.xml", async () => {
      const text = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();
      const asc = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml.asc`)).text();
      const pushed = await manifest(`${repo}/repodata`, "repomdxml");
      return pushed?.json.layers[0].digest === sha256(Buffer.from(text)) ? { text, asc, pushed } : undefined;
    });
    expect(served.pushed.json.config.mediaType).toBe("application/vnd.ciq.rpm.repomd.v1.config+json");
    expect(served.pushed.json.layers[0].mediaType).toBe("application/vnd.ciq.rpm.repomd.v1.xml");
    // Our signature of it (hosted repodata is signed with the server's key), as Beskar's layer.
    expect(served.pushed.json.layers[1]).toMatchObject({
      mediaType: "application/vnd.ciq.rpm.repomd.v1.xml.asc",
      digest: sha256(Buffer.from(served.asc)),
    });
    const dataLayers = served.pushed.json.layers.slice(2).map((l: any) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      title: l.annotations["org.opencontainers.image.title"],
    }));
    const records = parseRepomd(served.text).records.map((r) => ({
      mediaType: `application/vnd.ciq.rpm.repomd.extra.v1.${r.type}`,
      digest: `sha256:${r.checksum.value}`,
      title: basename(r.location),
    }));
    expect(dataLayers).toEqual(records);
    expect(records.map((r) => r.title)).toContainEqual(
      expect.stringMatching(/^[0-9a-f]{64}-primary\.xml\.gz$/),
    );
    // Every blob the manifest names is in the registry.
    for (const layer of served.pushed.json.layers) {
      const head = await fetch(`${registryUrl}/v2/${repo}/repodata/blobs/${layer.digest}`, {
        method: "HEAD",
      });
      expect(head.status, layer.digest).toBe(200);
    }
  });

  it("takes an RPM pushed straight to the registry (as beskarctl yum push does), its replacement, then its delete", async () => {
    const repo = "artifacts/yum/oci-pushed";
    const ociRepo = `${repo}/packages`;
    const spec = { name: "ocipushed", version: "3.1", release: "2", arch: "noarch" as const };
    const [rpm] = await buildRpms([spec], makeTempDir("pushed-"));
    const fileName = basename(rpm!);
    const pushBlob = async (body: Buffer) => {
      const start = await fetch(`${registryUrl}/v2/${ociRepo}/blobs/uploads/`, { method: "POST" });
      expect(start.status).toBe(202);
      const put = await fetch(`${start.headers.get("location")}&digest=${sha256(body)}`, {
        method: "PUT",
        headers: { "content-type": "application/octet-stream" },
        body,
      });
      expect(put.status).toBe(201);
    };
    /** Pushes an RPM as beskarctl does: the layer, the empty config, the manifest tagged md5(file name). */
    const push = async (bytes: Buffer): Promise<string> => {
      await pushBlob(bytes);
      await pushBlob(Buffer.alloc(0));
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: "application/vnd.ciq.rpm.package.v1.config+json", digest: EMPTY, size: 0 },
        layers: [
          {
            mediaType: "application/vnd.ciq.rpm.package.v1.rpm",
            digest: sha256(bytes),
            size: bytes.length,
            annotations: { "org.opencontainers.image.title": fileName },
            platform: { architecture: "noarch", os: "linux" },
          },
        ],
        annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
      });
      const put = await fetch(`${registryUrl}/v2/${ociRepo}/manifests/${md5(fileName)}`, {
        method: "PUT",
        headers: { "content-type": OCI_MANIFEST },
        body,
      });
      expect(put.status).toBe(201);
      return put.headers.get("docker-content-digest")!;
    };
    const listedWith = (bytes: Buffer) =>
      eventually("the pushed package in our repodata", async () => {
        const { packages } = await fetchPrimary(stack.repoUrl(repo));
        const found = packages.find((p) => p.name === "ocipushed");
        return found?.pkgid === sha256(bytes).slice("sha256:".length) ? found : undefined;
      });

    const bytes = readFileSync(rpm!);
    const digest = await push(bytes);
    await listedWith(bytes);
    const dnf = makeDnf(stack.repoUrl(repo));
    const installed = await dnf.install(["ocipushed"]);
    expect(installed.stdout).toMatch(/Complete!/);
    expect(await dnf.installed()).toEqual(["ocipushed-3.1-2.noarch"]);
    // Our replica keeps the client's manifest: the same layer is not pushed again under another digest.
    expect((await manifest(ociRepo, md5(fileName)))?.digest).toBe(digest);

    // The same file name with other bytes: the package is replaced, the manifest it replaced deleted.
    const [rebuilt] = await buildRpms(
      [{ ...spec, files: { "/usr/share/ocipushed/README": "rebuilt\n" } }],
      makeTempDir("rebuilt-"),
    );
    const rebuiltBytes = readFileSync(rebuilt!);
    expect(sha256(rebuiltBytes)).not.toBe(sha256(bytes));
    const rebuiltDigest = await push(rebuiltBytes);
    await listedWith(rebuiltBytes);
    await eventually("the replaced manifest deleted from the registry", async () =>
      (await manifest(ociRepo, digest)) === undefined ? true : undefined,
    );
    expect((await manifest(ociRepo, md5(fileName)))?.digest).toBe(rebuiltDigest);

    const deleted = await fetch(`${registryUrl}/v2/${ociRepo}/manifests/${rebuiltDigest}`, {
      method: "DELETE",
    });
    expect(deleted.status).toBe(202);
    await eventually("the deleted package gone from our repodata", async () => {
      const { packages } = await fetchPrimary(stack.repoUrl(repo));
      return packages.some((p) => p.name === "ocipushed") ? undefined : true;
    });
  });

  it("refuses notifications without the token (401) and malformed ones (400)", async () => {
    const url = `${stack.url}/artifacts/yum/registry/events`;
    const contentType = "application/vnd.docker.distribution.events.v1+json";
    const noToken = await fetch(url, {
      method: "POST",
      headers: { "content-type": contentType },
      body: '{"events":[]}',
    });
    expect(noToken.status).toBe(401);
    const badToken = await fetch(url, {
      method: "POST",
      headers: { "content-type": contentType, authorization: "Bearer wrong" },
      body: '{"events":[]}',
    });
    expect(badToken.status).toBe(401);
    for (const body of ["{not json", '{"nothing":1}', '{"events":[42]}']) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": contentType, authorization: `Bearer ${hookToken}` },
        body,
      });
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as any).error.reason).toBe("REGISTRY_EVENT_INVALID");
    }
    const ok = await fetch(url, {
      method: "POST",
      headers: { "content-type": contentType, authorization: `Bearer ${hookToken}` },
      body: '{"events":[{"action":"pull","target":{"repository":"other/x","digest":"sha256:00"}}]}',
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ accepted: 0 });
  });

  it("retries a push that failed while the registry was down", async () => {
    const repo = "artifacts/yum/oci-retry";
    await registry.stop();
    const [rpm] = await buildRpms([{ name: "ociretry", arch: "noarch" }], makeTempDir("retry-"));
    const { status, json } = await stack.upload(repo, rpm!, { wait: true });
    expect(status, JSON.stringify(json)).toBe(201);
    // Published and served from local storage although the registry is down.
    expect((await fetchPrimary(stack.repoUrl(repo))).packages.map((p) => p.name)).toEqual(["ociretry"]);
    await stack.workers[0]!.waitFor(/registry replica: push failed, retried on the next round/, 20_000);

    await registry.start();
    await eventually("the package pushed once the registry is back", async () =>
      (await tags(`${repo}/packages`)).includes(md5(basename(rpm!))) ? true : undefined,
    );
    await eventually("repomdxml pushed once the registry is back", async () =>
      manifest(`${repo}/repodata`, "repomdxml"),
    );
  });

  it("pushes a mirror's packages and upstream's repodata as they are served", async () => {
    const upstream = await startStaticServer(rockyTestdata);
    try {
      const repo = "artifacts/yum/oci-mirror";
      const created = await stack.call("POST", "/repository", {
        repository: repo,
        properties: { mirror: true, mirror_urls: [upstream.url] },
      });
      expect(created.status, JSON.stringify(created.json)).toBe(200);
      const synced = await stack.call("GET", "/repository/sync", { repository: repo, wait: true });
      expect(synced.status, JSON.stringify(synced.json)).toBe(200);
      const served = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();
      const pushed = await eventually("the mirror's repomdxml", async () => {
        const m = await manifest(`${repo}/repodata`, "repomdxml");
        return m?.json.layers[0].digest === sha256(Buffer.from(served)) ? m : undefined;
      });
      const titles = pushed.json.layers
        .slice(1)
        .map((l: any) => l.annotations["org.opencontainers.image.title"])
        .sort();
      expect(titles).toEqual(
        parseRepomd(served)
          .records.map((r) => basename(r.location))
          .sort(),
      );
      const rpms = readdirSync(join(rockyTestdata, "Packages"), { recursive: true })
        .map(String)
        .filter((f) => f.endsWith(".rpm"));
      expect(rpms).toHaveLength(27);
      await eventually("the 27 packages pushed", async () =>
        JSON.stringify((await tags(`${repo}/packages`)).sort()) ===
        JSON.stringify(rpms.map((f) => md5(basename(f))).sort())
          ? true
          : undefined,
      );
      const one = rpms[0]!;
      const layer = (await manifest(`${repo}/packages`, md5(basename(one))))!.json.layers[0];
      expect(layer.digest).toBe(sha256(readFileSync(join(rockyTestdata, "Packages", one))));
    } finally {
      await upstream.close();
    }
  });

  it("deletes a deleted repository's manifests from the registry", async () => {
    const repo = "artifacts/yum/oci-deleted";
    const rpms = await buildRpms(
      [
        { name: "ocidel-a", arch: "noarch" },
        { name: "ocidel-b", arch: "noarch" },
      ],
      makeTempDir("deleted-"),
    );
    for (const rpm of rpms) expect((await stack.upload(repo, rpm, { wait: true })).status).toBe(201);
    const repomd = await eventually("repomdxml pushed", async () =>
      manifest(`${repo}/repodata`, "repomdxml"),
    );
    const packageDigests = await eventually("both packages pushed", async () => {
      const found = await Promise.all(rpms.map((rpm) => manifest(`${repo}/packages`, md5(basename(rpm)))));
      return found.every((m) => m !== undefined) ? found.map((m) => m!.digest) : undefined;
    });

    const deleted = await stack.call("DELETE", "/repository", { repository: repo, delete_packages: true });
    expect(deleted.status, JSON.stringify(deleted.json)).toBe(200);
    await eventually("the package manifests deleted", async () =>
      (await tags(`${repo}/packages`)).length === 0 ? true : undefined,
    );
    for (const digest of [...packageDigests])
      expect(await manifest(`${repo}/packages`, digest)).toBeUndefined();
    await eventually("the repomdxml manifest deleted", async () =>
      (await manifest(`${repo}/repodata`, repomd.digest)) === undefined ? true : undefined,
    );
  });
});
