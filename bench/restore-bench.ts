/**
 * Restore benchmark: a hosted repository of N packages replicated to Debian's docker-registry, then
 * restored on a fresh node (`POST /repository/restore`, header-only ranged reads), side by side in
 * one run with what a restore that downloads every package would at least cost: reading every
 * package blob whole from the same registry (16 at a time, as many as the restore reads).
 *
 *   node bench/dist/bench/restore-bench.js            # N = 5000 small packages + 20 of 1 MiB
 *   BENCH_PACKAGES=1000 BENCH_BIG_PACKAGES=0 node bench/dist/bench/restore-bench.js
 */
import { createHash, randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { parseRepomd } from "@beskar-yum/repodata";
import { type Stack, startStack } from "../test/harness/stack.js";
import { dockerRegistry } from "../test/support/docker-registry.js";
import { buildRpms, manyFixtures } from "../test/support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "../test/support/tmp.js";
import { pool, timed } from "./bench-util.js";

const count = Number(process.env.BENCH_PACKAGES ?? 5000);
const bigCount = Number(process.env.BENCH_BIG_PACKAGES ?? 20);
const repo = "artifacts/yum/restore-bench";

/** The decompressed primary.xml a stack serves. */
async function primaryXml(stack: Stack): Promise<string> {
  const repomd = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();
  const primary = parseRepomd(repomd).records.find((r) => r.type === "primary")!;
  const res = await fetch(`${stack.repoUrl(repo)}${primary.location}`);
  return gunzipSync(Buffer.from(await res.arrayBuffer())).toString("utf8");
}

async function main(): Promise<void> {
  console.log(`# restore benchmark: ${count} small packages + ${bigCount} of 1 MiB, docker-registry`);
  const dir = makeTempDir("bench-restore-rpms");
  const small = await manyFixtures(dir, count, { prefix: "restorebench-" });
  const big = await buildRpms(
    Array.from({ length: bigCount }, (_, i) => ({
      name: `restorebench-big-${i}`,
      arch: "noarch" as const,
      files: { "/usr/share/restorebench/blob": randomBytes(768 << 10).toString("base64") },
    })),
    dir,
  );
  const rpms = [...small, ...big];
  const totalBytes = rpms.reduce((sum, rpm) => sum + statSync(rpm).size, 0);

  const registry = await dockerRegistry();
  await registry.start();
  const env = { BESKARYUM_REGISTRY_URL: registry.url, BESKARYUM_WORKER_RECONCILE_INTERVAL_MS: "1000" };
  let stack = await startStack({ name: "restore-bench-a", env });
  try {
    const uploaded = await timed(() =>
      pool(rpms, 8, async (rpm) => {
        const { status } = await stack.upload(repo, rpm);
        if (status !== 202) throw new Error(`upload of ${rpm}: HTTP ${status}`);
      }),
    );
    // Replicated: the registry's repomd.xml is the one served, once every upload is published.
    for (;;) {
      const served = await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`).then((r) => r.text());
      const tags = await fetch(`${registry.url}/v2/${repo}/packages/tags/list`).then((r) => r.json());
      const pushed = await fetch(`${registry.url}/v2/${repo}/repodata/manifests/repomdxml`, {
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      }).then((r) => (r.status === 200 ? r.json() : undefined));
      const layer = (pushed as { layers?: { digest: string }[] } | undefined)?.layers?.[0]?.digest;
      const digest = `sha256:${createHash("sha256").update(served).digest("hex")}`;
      if ((tags as { tags?: string[] }).tags?.length === rpms.length && layer === digest) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    console.log(
      `uploaded and replicated ${rpms.length} packages (${totalBytes} bytes) in ${(uploaded.ms / 1000).toFixed(1)} s`,
    );
    const before = await primaryXml(stack);
    await stack.stop();

    stack = await startStack({ name: "restore-bench-b", env });
    const restored = await timed(async () => {
      const r = await stack.call("POST", "/repository/restore", { repository: repo, wait: true });
      if (r.status !== 200) throw new Error(`restore: HTTP ${r.status} ${JSON.stringify(r.json)}`);
    });
    const logs = await stack.call("GET", "/repository/logs", { repository: repo });
    const summary = (logs.json.logs as { message: string }[]).find((l) => l.message.startsWith("restored "));
    const read = Number(/read (\d+) bytes/.exec(summary?.message ?? "")?.[1]);
    const identical = (await primaryXml(stack)) === before;

    // Side by side: every package blob read whole from the same registry, 16 at a time.
    const tags = (
      (await fetch(`${registry.url}/v2/${repo}/packages/tags/list`).then((r) => r.json())) as {
        tags: string[];
      }
    ).tags;
    let downloaded = 0;
    const whole = await timed(() =>
      pool(tags, 16, async (tag) => {
        const manifest = (await fetch(`${registry.url}/v2/${repo}/packages/manifests/${tag}`, {
          headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
        }).then((r) => r.json())) as { layers: { digest: string }[] };
        const blob = await fetch(`${registry.url}/v2/${repo}/packages/blobs/${manifest.layers[0]!.digest}`);
        const bytes = (await blob.arrayBuffer()).byteLength;
        downloaded += bytes;
      }),
    );
    console.log(summary?.message);
    console.log(`package tags listed: ${tags.length}`);
    console.log("| | time | bytes read of packages |");
    console.log("|---|---|---|");
    console.log(
      `| restore (headers, ranged) + publish | ${(restored.ms / 1000).toFixed(2)} s | ${read} of ${totalBytes} (${((100 * read) / totalBytes).toFixed(1)}%) |`,
    );
    console.log(
      `| every package blob read whole | ${(whole.ms / 1000).toFixed(2)} s | ${downloaded} (100%) |`,
    );
    console.log(`primary.xml byte-identical after restore: ${identical}`);
  } finally {
    await stack.stop();
    await registry.stop();
    await cleanupTempDirs();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
