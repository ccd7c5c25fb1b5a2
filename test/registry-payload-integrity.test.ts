import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata } from "./harness/upstream.js";
import { type DockerRegistry, dockerRegistry, notifyStack } from "./support/docker-registry.js";
import { eventually } from "./support/eventually.js";
import { cleanupTempDirs } from "./support/tmp.js";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const EMPTY = `sha256:${createHash("sha256").digest("hex")}`;
const md5 = (text: string) => createHash("md5").update(text).digest("hex");
const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const fileName = "booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm";
const gpgKey = Buffer.from(readFileSync(join(rockyTestdata, "RPM-GPG-KEY-rockyofficial"))).toString("base64");

/** A registry notification (the same path as uploads) with a payload that does not match its signed header. */
describe("a tampered RPM pushed to the registry", () => {
  let stack: Stack;
  let registry: DockerRegistry;
  const hookToken = randomBytes(16).toString("hex");

  beforeAll(async () => {
    registry = await dockerRegistry();
    stack = await startStack({
      name: "registry-payload",
      env: { BESKARYUM_REGISTRY_URL: registry.url, BESKARYUM_REGISTRY_NOTIFICATIONS_TOKEN: hookToken },
    });
    await registry.start(notifyStack(stack.url, hookToken));
  });
  afterAll(async () => {
    await registry?.stop();
    await stack?.stop();
    await cleanupTempDirs();
  });

  const pushBlob = async (ociRepo: string, body: Buffer) => {
    const start = await fetch(`${registry.url}/v2/${ociRepo}/blobs/uploads/`, { method: "POST" });
    expect(start.status).toBe(202);
    const put = await fetch(`${start.headers.get("location")}&digest=${sha256(body)}`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body,
    });
    expect(put.status).toBe(201);
  };
  /** Pushes an RPM as beskarctl does: the layer, the empty config, the manifest tagged md5(file name). */
  const push = async (ociRepo: string, bytes: Buffer): Promise<string> => {
    await pushBlob(ociRepo, bytes);
    await pushBlob(ociRepo, Buffer.alloc(0));
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
          platform: { architecture: "amd64", os: "linux" },
        },
      ],
    });
    const put = await fetch(`${registry.url}/v2/${ociRepo}/manifests/${md5(fileName)}`, {
      method: "PUT",
      headers: { "content-type": OCI_MANIFEST },
      body,
    });
    expect(put.status).toBe(201);
    return put.headers.get("docker-content-digest")!;
  };

  it("is refused (the log says why), its manifest deleted, and the package served stays the good one", async () => {
    const repo = "artifacts/yum/oci-tampered";
    const ociRepo = `${repo}/packages`;
    const created = await stack.call("POST", "/repository", {
      repository: repo,
      properties: { gpg_key: gpgKey },
    });
    expect(created.status).toBe(200);
    const good = readFileSync(join(rockyTestdata, "Packages", fileName));
    await push(ociRepo, good);
    const pkgid = sha256(good).slice("sha256:".length);
    await eventually("the good package in our repodata", async () =>
      (await fetchPrimary(stack.repoUrl(repo))).packages.some((p) => p.pkgid === pkgid) ? true : undefined,
    );

    const tampered = Buffer.from(good);
    tampered[tampered.length - 10]! ^= 1;
    const digest = await push(ociRepo, tampered);
    const logs = await eventually("the refusal in the repository log", async () => {
      const { json } = await stack.call("GET", "/repository/logs", { repository: repo });
      const line = (json.logs as { level: string; message: string }[]).find((l) =>
        l.message.includes(digest),
      );
      return line;
    });
    expect(logs.level).toBe("ERROR");
    expect(logs.message).toMatch(
      new RegExp(
        `${fileName.replace(/\./g, "\\.")}: payload SHA256 digest \\(main header tag 5092 \\(PAYLOADDIGEST\\)\\) mismatch`,
      ),
    );
    // As Beskar does with refused content: the manifest is deleted from the registry.
    await eventually("the refused manifest deleted", async () => {
      const res = await fetch(`${registry.url}/v2/${ociRepo}/manifests/${digest}`, {
        headers: { accept: OCI_MANIFEST },
      });
      return res.status === 404 ? true : undefined;
    });
    const { packages } = await fetchPrimary(stack.repoUrl(repo));
    expect(packages.map((p) => p.pkgid)).toEqual([pkgid]);
    const list = (await stack.call("GET", "/repository/package:list", { repository: repo })).json
      .repository_packages;
    expect(list).toMatchObject([{ id: pkgid, verified: true }]);
    const served = Buffer.from(
      await (await fetch(`${stack.repoUrl(repo)}Packages/${fileName}`)).arrayBuffer(),
    );
    expect(served.equals(good)).toBe(true);
  });
});
