/**
 * Mirror benchmark: a local upstream of N generated packages (default 5,000), synced by
 * `dnf reposync` and by beskar-yum (API + one worker, checksums verified while streaming), side by
 * side in one run.
 *
 *   npm run bench                               # all benches
 *   BENCH_MIRROR_PACKAGES=1000 node bench/dist/bench/mirror-bench.js
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import { startStack } from "../test/harness/stack.js";
import { createrepoC } from "../test/support/createrepo.js";
import { manyFixtures } from "../test/support/rpm-fixtures.js";
import { startStaticServer } from "../test/support/static-server.js";
import { cleanupTempDirs, makeTempDir } from "../test/support/tmp.js";
import { measure, peakRssMiB, timed } from "./bench-util.js";

const count = Number(process.env.BENCH_MIRROR_PACKAGES ?? 5000);

async function main(): Promise<void> {
  console.log(`# mirror benchmark: ${count} packages from a local upstream over HTTP`);
  const upstreamDir = makeTempDir("bench-upstream");
  mkdirSync(join(upstreamDir, "Packages"));
  const perSpec = 2000;
  for (let done = 0; done < count; done += perSpec) {
    const rpms = await manyFixtures(makeTempDir("bench-mirror-rpms"), Math.min(perSpec, count - done), {
      prefix: `mirrorbench${done / perSpec}-`,
    });
    for (const rpm of rpms) copyFileSync(rpm, join(upstreamDir, "Packages", basename(rpm)));
  }
  await createrepoC(upstreamDir);
  const server = await startStaticServer(upstreamDir);
  try {
    const root = makeTempDir("bench-reposync-root");
    const reposync = await measure("dnf", [
      `--installroot=${root}`,
      "--releasever=1",
      "--setopt=reposdir=/dev/null",
      `--setopt=cachedir=${join(root, "cache")}`,
      `--repofrompath=up,${server.url}`,
      "--repo=up",
      "--nogpgcheck",
      "-q",
      "reposync",
      `--download-path=${makeTempDir("bench-reposync-out")}`,
      "--download-metadata",
    ]);

    const stack = await startStack({
      name: "bench-mirror",
      ...(process.env.BENCH_PROFILE_DIR
        ? { env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}` } }
        : {}),
    });
    try {
      const repository = "artifacts/yum/bench-mirror";
      await stack.call("POST", "/repository", {
        repository,
        properties: { mirror: true, mirror_urls: [server.url] },
      });
      const ours = await timed(() => stack.call("GET", "/repository/sync", { repository, wait: true }));
      if (ours.value.status !== 200) throw new Error(`sync failed: ${JSON.stringify(ours.value.json)}`);
      const again = await timed(() => stack.call("GET", "/repository/sync", { repository, wait: true }));
      const workerRss = peakRssMiB(stack.workers[0]!.pid);
      const status = (await stack.call("GET", "/repository/sync:status", { repository })).json.sync_status;

      console.log(
        "\n| measure | dnf reposync | beskar-yum sync | ratio (ours / theirs) |\n|---|---|---|---|",
      );
      console.log(
        `| wall time, first sync (ms) | ${reposync.ms.toFixed(0)} | ${ours.ms.toFixed(0)} | ${(ours.ms / reposync.ms).toFixed(2)}x |`,
      );
      console.log(
        `| peak RSS (MiB) | ${reposync.rssMiB.toFixed(0)} | ${workerRss.toFixed(0)} (worker) | ${(workerRss / reposync.rssMiB).toFixed(2)}x |`,
      );
      console.log(
        `\nbeskar-yum: ${status.synced_packages}/${status.total_packages} packages, every one checked against upstream's sha256 while streaming, RPM headers parsed and indexed.`,
      );
      console.log(
        `second sync of the unchanged upstream: ${again.ms.toFixed(0)} ms (downloads repomd.xml only)`,
      );
    } finally {
      await stack.stop();
    }
  } finally {
    await server.close();
    await cleanupTempDirs();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
