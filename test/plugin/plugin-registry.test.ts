import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GoPeer } from "../gossip/go-programs.js";
import type { Stack } from "../harness/stack.js";
import { type DockerRegistry, dockerRegistry } from "../support/docker-registry.js";
import { type EventuallyOptions, eventually as poll } from "../support/eventually.js";
import { stopAll } from "../support/processes.js";
import { buildRpms } from "../support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "../support/tmp.js";
import { startBeskarWithPlugin } from "./beskar-stand-in.js";

// Plugin mode writes to Beskar's registry: Go plays Beskar and proxies its registry port (mTLS) to a
// real docker-registry; an RPM uploaded to us ends up there in Beskar's layout, pushed with our
// plugin certificate, and so does repomdxml.

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const md5 = (text: string) => createHash("md5").update(text).digest("hex");
const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

let go: GoPeer;
let stack: Stack;
let registry: DockerRegistry;
let registryUrl: string;

beforeAll(async () => {
  registry = await dockerRegistry();
  registryUrl = registry.url;
  await registry.start();
  ({ go, stack } = await startBeskarWithPlugin("plugin-registry", ["-registry-upstream", registryUrl]));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await go?.stop();
  await registry?.stop();
  await stopAll();
  await cleanupTempDirs();
});

/** Every 200 ms for up to 30 s; a timeout shows the end of the API's output. */
const eventually = <T>(what: string, probe: () => Promise<T | undefined>) =>
  poll(what, probe, {
    intervalMs: 200,
    context: () => stack.api.output().slice(-4000),
  } satisfies EventuallyOptions);

const manifest = async (repo: string, reference: string) => {
  const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${reference}`, {
    headers: { accept: OCI_MANIFEST },
  });
  return res.status === 200 ? ((await res.json()) as any) : undefined;
};

describe("beskar-yum as Beskar's yum plugin, with Beskar's registry as storage", () => {
  it("pushes an uploaded package and repomd.xml to Beskar's registry over the plugin transport", async () => {
    await go.waitForEvent((e) => e.event === "pluginRegistered", 30_000);
    const repo = "artifacts/yum/plugin-push";
    const [rpm] = await buildRpms([{ name: "pluginpushed", arch: "noarch" }], makeTempDir("rpms-"));
    const { status, json } = await stack.upload(repo, rpm!, { wait: true });
    expect(status, JSON.stringify(json)).toBe(201);

    const fileName = basename(rpm!);
    const pushed = await eventually("the package manifest in the registry", () =>
      manifest(`${repo}/packages`, md5(fileName)),
    );
    expect(pushed.config.mediaType).toBe("application/vnd.ciq.rpm.package.v1.config+json");
    expect(pushed.layers[0]).toMatchObject({
      digest: sha256(readFileSync(rpm!)),
      annotations: { "org.opencontainers.image.title": fileName },
    });
    await eventually("repomdxml matching the served repomd.xml", async () => {
      const text = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();
      const repomd = await manifest(`${repo}/repodata`, "repomdxml");
      return repomd?.layers[0].digest === sha256(Buffer.from(text)) ? true : undefined;
    });
    // The pushes went through Beskar's registry port with our plugin certificate.
    const put = await go.waitForEvent(
      (e) =>
        e.event === "registryRequest" &&
        (e as any).method === "PUT" &&
        String((e as any).path).includes("/manifests/"),
    );
    expect((put as any).plugin).toBe(true);
  });
});
