import { createHash, randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { parseRepomd } from "@beskar-yum/repodata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { makeDnf } from "./support/dnf.js";
import { type DockerRegistry, dockerRegistry } from "./support/docker-registry.js";
import { eventually } from "./support/eventually.js";
import { buildRpms, manyFixtures, standardFixtures } from "./support/rpm-fixtures.js";
import { runOk } from "./support/run.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const cli = fileURLToPath(new URL("../apps/cli/bin/beskar-yum.js", import.meta.url));
const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** Uploads with a few requests in flight (the last one waits for its publish). */
async function uploadAll(stack: Stack, repo: string, rpms: string[]): Promise<void> {
  let next = 0;
  const one = async () => {
    for (let i = next++; i < rpms.length - 1; i = next++) {
      const { status, json } = await stack.upload(repo, rpms[i]!);
      expect(status, JSON.stringify(json)).toBe(202);
    }
  };
  await Promise.all([one(), one(), one(), one()]);
  const { status, json } = await stack.upload(repo, rpms.at(-1)!, { wait: true });
  expect(status, JSON.stringify(json)).toBe(201);
}

/** repomd.xml and the decompressed primary/filelists/other a repository serves. */
async function servedRepodata(stack: Stack, repo: string) {
  const repomd = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();
  const files: Record<string, { name: string; xml: string }> = {};
  for (const record of parseRepomd(repomd).records) {
    if (!["primary", "filelists", "other"].includes(record.type)) continue;
    const res = await fetch(`${stack.repoUrl(repo)}${record.location}`);
    expect(res.status, record.location).toBe(200);
    files[record.type] = {
      name: basename(record.location),
      xml: gunzipSync(Buffer.from(await res.arrayBuffer())).toString("utf8"),
    };
  }
  return {
    repomd,
    files,
    types: parseRepomd(repomd)
      .records.map((r) => r.type)
      .sort(),
  };
}

describe("restore from the registry replica (docker-registry)", () => {
  let registry: DockerRegistry;
  let first: Stack | undefined;
  let second: Stack | undefined;
  const repo = "artifacts/yum/restore-hosted";

  const manifest = async (oci: string, reference: string) => {
    const res = await fetch(`${registry.url}/v2/${oci}/manifests/${reference}`, {
      headers: { accept: OCI_MANIFEST },
    });
    if (res.status !== 200) return undefined;
    return { digest: res.headers.get("docker-content-digest")!, json: (await res.json()) as any };
  };
  const tags = async (oci: string): Promise<string[]> => {
    const res = await fetch(`${registry.url}/v2/${oci}/tags/list`);
    return res.status === 200 ? (((await res.json()) as { tags: string[] | null }).tags ?? []) : [];
  };
  /** Waits until the registry's repodata:repomdxml is the repomd.xml `stack` serves. */
  const replicated = (stack: Stack) =>
    eventually("repomdxml manifest matching the served repomd.xml", async () => {
      const text = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();
      const pushed = await manifest(`${repo}/repodata`, "repomdxml");
      return pushed?.json.layers[0].digest === sha256(Buffer.from(text)) ? pushed : undefined;
    });

  beforeAll(async () => {
    registry = await dockerRegistry();
    await registry.start();
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await registry?.stop();
    await cleanupTempDirs();
  });

  it("rebuilds a hosted repository on a fresh node, header-only: same primary/filelists/other, dnf installs", async () => {
    const env = { BESKARYUM_REGISTRY_URL: registry.url, BESKARYUM_WORKER_RECONCILE_INTERVAL_MS: "1000" };
    first = await startStack({ name: "restore-a", env });
    const dir = makeTempDir("restore-fixtures-");
    const standard = await standardFixtures(dir);
    // One package with a 3 MiB incompressible payload: a restore must not read it.
    const [big] = await buildRpms(
      [
        {
          name: "yumtest-big",
          arch: "noarch",
          files: { "/usr/share/yumtest-big/blob": randomBytes(3 << 20).toString("base64") },
        },
      ],
      dir,
    );
    const rpms = [...standard.all, big!, ...(await manyFixtures(dir, 150))];
    await uploadAll(first, repo, rpms);
    const updateinfo = Buffer.from('<?xml version="1.0"?>\n<updates/>\n');
    const extra = await fetch(
      `${first.repoUrl(repo)}repodata/extra/updateinfo?filename=updateinfo.xml&wait=true`,
      {
        method: "PUT",
        headers: { authorization: `Bearer ${first.token}` },
        body: updateinfo,
      },
    );
    expect(extra.status, await extra.text()).toBe(201);
    await replicated(first);
    const before = await servedRepodata(first, repo);
    expect(before.types).toContain("updateinfo");
    const packageTags = (await tags(`${repo}/packages`)).sort();
    expect(packageTags).toHaveLength(rpms.length);
    const registryRepomd = await manifest(`${repo}/repodata`, "repomdxml");
    await first.stop();
    first = undefined;

    // A fresh node (new datadir) sharing the registry: the repository is not there.
    second = await startStack({ name: "restore-b", env });
    const asB = { BESKARYUM_URL: second.url, BESKARYUM_TOKEN: second.token };

    // Safety: nothing is created empty over the registry's copy (upload, create), REPO_NOT_RESTORED.
    const upload = await second.upload(repo, standard.app, { wait: true });
    expect(upload.status).toBe(409);
    expect(upload.json.error).toMatchObject({ code: "AlreadyExists", reason: "REPO_NOT_RESTORED" });
    const create = await second.call("POST", "/repository", { repository: repo, properties: {} });
    expect(create.status).toBe(409);
    expect(create.json.error.reason).toBe("REPO_NOT_RESTORED");
    expect((await fetch(`${second.repoUrl(repo)}repodata/repomd.xml`)).status).toBe(404);

    const t0 = Date.now();
    const restored = await runOk("node", [cli, "restore", "restore-hosted"], {
      env: asB,
      timeoutMs: 120_000,
    });
    const ms = Date.now() - t0;
    const summary =
      /restored (\d+) packages and (\d+) extra metadata files .* \(read (\d+) bytes of (\d+) package bytes\)/.exec(
        restored.stdout,
      );
    expect(summary, restored.stdout).not.toBeNull();
    const [, packages, extras, bytesRead, packageBytes] = summary!.map(Number);
    expect(packages).toBe(rpms.length);
    expect(extras).toBe(1);
    const total = rpms.reduce((sum, rpm) => sum + statSync(rpm).size, 0);
    expect(packageBytes).toBe(total);
    // Header-only: the 3 MiB payload alone is more than everything read.
    expect(bytesRead!).toBeLessThan(statSync(big!).size);
    console.log(
      `restore: ${packages} packages in ${ms} ms (CLI round trip), read ${bytesRead} of ${packageBytes} package bytes (${((100 * bytesRead!) / packageBytes!).toFixed(1)}%)`,
    );

    // Byte-identical primary/filelists/other (the same checksum-named files, so the same gzip too).
    const after = await servedRepodata(second, repo);
    for (const kind of ["primary", "filelists", "other"]) {
      expect(after.files[kind]!.xml === before.files[kind]!.xml, `${kind}.xml differs`).toBe(true);
      expect(after.files[kind]!.name).toBe(before.files[kind]!.name);
    }
    expect(after.types).toEqual(before.types);

    // dnf installs: packages not stored on this node come from the registry on first request.
    const dnf = makeDnf(second.repoUrl(repo));
    await dnf.install(["yumtest-app", "yumtest-big"]);
    expect(await dnf.installed()).toEqual(
      expect.arrayContaining([
        "yumtest-app-2.0-1.noarch",
        "yumtest-lib-1.0-1.x86_64",
        "yumtest-big-1.0-1.noarch",
      ]),
    );

    // The replica goes on from the restored index: the new repomd.xml is pushed, no package manifest is lost.
    const pushed = await replicated(second);
    expect(pushed.digest).not.toBe(registryRepomd!.digest);
    expect((await tags(`${repo}/packages`)).sort()).toEqual(packageTags);
    // And the repository takes uploads again.
    const again = await second.upload(repo, standard.app, { wait: true });
    expect(again.status, JSON.stringify(again.json)).toBe(201);
  }, 300_000);

  it("a node with its own index of a repository never pushes its repodata over the registry's", async () => {
    // Node C had `restore-hosted` before the registry was configured (or from another source): its
    // index records no registry manifest. With the registry configured, its replica refuses.
    const dataDir = makeTempDir("restore-c-");
    const alone = await startStack({ name: "restore-c1", dataDir });
    const dir = makeTempDir("restore-c-fixtures-");
    const [only] = await buildRpms([{ name: "yumtest-partial", arch: "noarch" }], dir);
    expect((await alone.upload(repo, only!, { wait: true })).status).toBe(201);
    await alone.stop();
    const before = await manifest(`${repo}/repodata`, "repomdxml");
    expect(before).toBeDefined();

    const node = await startStack({
      name: "restore-c2",
      dataDir,
      env: { BESKARYUM_REGISTRY_URL: registry.url, BESKARYUM_WORKER_RECONCILE_INTERVAL_MS: "1000" },
    });
    try {
      // Another upload: a publish, then a replica round, which refuses.
      const [more] = await buildRpms([{ name: "yumtest-partial2", arch: "noarch" }], dir);
      expect((await node.upload(repo, more!, { wait: true })).status).toBe(201);
      await node.workers[0]!.waitFor(/REPO_NOT_RESTORED|nothing is pushed over it/, 30_000);
      expect((await manifest(`${repo}/repodata`, "repomdxml"))!.digest).toBe(before!.digest);
      const partialTag = createHash("md5").update(basename(more!)).digest("hex");
      expect(await tags(`${repo}/packages`)).not.toContain(partialTag);
    } finally {
      await node.stop();
    }
  }, 120_000);
});
