/**
 * Hosted-repository benchmark: N generated RPMs indexed by `createrepo_c` and by beskar-yum
 * (uploaded over HTTP to the real API + worker processes), measured side by side in one run.
 *
 *   npm run bench                       # N = 2000
 *   BENCH_PACKAGES=20000 npm run bench
 */
import { copyFileSync } from "node:fs";
import { basename, join } from "node:path";
import { startStack } from "../test/harness/stack.js";
import { manyFixtures } from "../test/support/rpm-fixtures.js";
import { runOk } from "../test/support/run.js";
import { cleanupTempDirs, makeTempDir } from "../test/support/tmp.js";
import { peakRssMiB, pool, timed, waitForPackages } from "./bench-util.js";

const count = Number(process.env.BENCH_PACKAGES ?? 2000);
const uploadConcurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);

async function main(): Promise<void> {
  console.log(`# hosted repository benchmark: ${count} packages, ${uploadConcurrency} concurrent uploads`);
  const built = await timed(() =>
    manyFixtures(makeTempDir("bench-rpms"), count + 1, { prefix: "benchpkg-" }),
  );
  const rpms = built.value.slice(0, count);
  const extra = built.value[count]!;
  console.log(`generated ${count + 1} RPMs with rpmbuild in ${(built.ms / 1000).toFixed(1)} s`);

  // createrepo_c, as users run it, on a directory holding the same RPMs.
  const dir = makeTempDir("bench-createrepo");
  for (const rpm of rpms) copyFileSync(rpm, join(dir, basename(rpm)));
  const full = await timed(() => runOk("createrepo_c", ["--no-database", "--quiet", dir]));
  copyFileSync(extra, join(dir, basename(extra)));
  const update = await timed(() => runOk("createrepo_c", ["--no-database", "--quiet", "--update", dir]));

  // beskar-yum: API + one worker, real HTTP uploads.
  const stack = await startStack({ name: "bench" });
  try {
    const repo = "artifacts/yum/bench";
    let uploadedMs = 0;
    const ingest = await timed(async () => {
      const t0 = performance.now();
      await pool(rpms, uploadConcurrency, async (rpm) => {
        const { status, json } = await stack.upload(repo, rpm);
        if (status !== 202) throw new Error(`${rpm}: HTTP ${status} ${JSON.stringify(json)}`);
      });
      uploadedMs = performance.now() - t0;
      await waitForPackages(stack.repoUrl(repo), count, 50);
    });
    const one = await timed(async () => {
      const { status } = await stack.upload(repo, extra, { wait: true });
      if (status !== 201) throw new Error(`extra upload: HTTP ${status}`);
    });
    const apiRss = peakRssMiB(stack.api.pid);
    const workerRss = peakRssMiB(stack.workers[0]!.pid);

    const rows: [string, number, number][] = [
      ["full index of N packages (ms)", full.ms, ingest.ms],
      ["add 1 package and republish (ms)", update.ms, one.ms],
    ];
    console.log("\n| measure | createrepo_c | beskar-yum | ratio (ours / theirs) |\n|---|---|---|---|");
    for (const [what, theirs, ours] of rows) {
      console.log(`| ${what} | ${theirs.toFixed(0)} | ${ours.toFixed(0)} | ${(ours / theirs).toFixed(2)}x |`);
    }
    console.log(
      `\nbeskar-yum full index includes ${count} HTTP uploads (streamed, sha256, parsed, validated) and the publish.`,
    );
    console.log(
      `throughput: ${((count / ingest.ms) * 1000).toFixed(0)} packages/s uploaded and published; the uploads alone took ${uploadedMs.toFixed(0)} ms (${((count / uploadedMs) * 1000).toFixed(0)}/s)`,
    );
    const publishes = stack.workers[0]!.output().match(/"msg":"published repodata"/g)?.length ?? 0;
    console.log(`publishes during the run: ${publishes} (debounced)`);
    console.log(`peak RSS: api ${apiRss.toFixed(0)} MiB, worker ${workerRss.toFixed(0)} MiB`);
  } finally {
    await stack.stop();
    await cleanupTempDirs();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
