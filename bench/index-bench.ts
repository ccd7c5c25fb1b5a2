/**
 * Index driver benchmark (`index.driver`): the same generated RPMs uploaded over HTTP to the real API +
 * worker processes with the SQLite index and with the PostgreSQL one (127.0.0.1:5432, a database made
 * for the run and dropped after it), side by side in one run:
 * - the throughput of N uploads (8 at a time), until the published repodata lists them all;
 * - the latency of one more upload with `?wait=true` (stored, applied, published) into that
 *   N-package repository, median of 5.
 *
 *   node bench/dist/bench/index-bench.js                          # N = 2000
 *   BENCH_INDEX_PACKAGES=20000 node bench/dist/bench/index-bench.js
 *   BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432 ...          # the server (trust auth)
 */
import { randomBytes } from "node:crypto";
import { startStack } from "../test/harness/stack.js";
import { manyFixtures } from "../test/support/rpm-fixtures.js";
import { runOk } from "../test/support/run.js";
import { cleanupTempDirs, makeTempDir } from "../test/support/tmp.js";
import { pool, timed, waitForPackages } from "./bench-util.js";

const count = Number(process.env.BENCH_INDEX_PACKAGES ?? 2000);
const concurrency = 8;
const latencyRounds = 5;
const postgres = new URL(process.env.BENCH_POSTGRES ?? "postgres://postgres@127.0.0.1:5432");

async function psql(sql: string): Promise<void> {
  await runOk("psql", [
    "-h",
    postgres.hostname,
    "-p",
    postgres.port || "5432",
    "-U",
    postgres.username || "postgres",
    "-d",
    "postgres",
    "-v",
    "ON_ERROR_STOP=1",
    "-c",
    sql,
  ]);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface DriverResult {
  uploadsPerSecond: number;
  ingestMs: number;
  publishLatencyMs: number;
}

async function measure(name: string, env: Record<string, string>, rpms: string[], extras: string[]) {
  const stack = await startStack({ name: `index-bench-${name}`, env });
  try {
    const repo = "artifacts/yum/bench";
    const created = await stack.call("POST", "/repository", { repository: repo, properties: {} });
    if (created.status !== 200)
      throw new Error(`create: HTTP ${created.status} ${JSON.stringify(created.json)}`);
    const ingest = await timed(async () => {
      await pool(rpms, concurrency, async (rpm) => {
        const { status, json } = await stack.upload(repo, rpm);
        if (status !== 202) throw new Error(`${rpm}: HTTP ${status} ${JSON.stringify(json)}`);
      });
      await waitForPackages(stack.repoUrl(repo), rpms.length, 100);
    });
    const latencies: number[] = [];
    for (const extra of extras) {
      const one = await timed(async () => {
        const { status } = await stack.upload(repo, extra, { wait: true });
        if (status !== 201) throw new Error(`extra upload: HTTP ${status}`);
      });
      latencies.push(one.ms);
    }
    const result: DriverResult = {
      uploadsPerSecond: (rpms.length / ingest.ms) * 1000,
      ingestMs: ingest.ms,
      publishLatencyMs: median(latencies),
    };
    console.log(
      `${name}: ${rpms.length} uploads published in ${(ingest.ms / 1000).toFixed(1)} s (${result.uploadsPerSecond.toFixed(0)}/s); one more upload until published: ${latencies.map((ms) => ms.toFixed(0)).join(", ")} ms`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  console.log(`# index driver benchmark: ${count} packages, ${concurrency} concurrent uploads`);
  const built = await timed(() =>
    manyFixtures(makeTempDir("bench-index-rpms"), count + latencyRounds, { prefix: "idxpkg-" }),
  );
  console.log(`generated ${count + latencyRounds} RPMs with rpmbuild in ${(built.ms / 1000).toFixed(1)} s`);
  const rpms = built.value.slice(0, count);
  const extras = built.value.slice(count);

  const database = `beskaryum_bench_${randomBytes(4).toString("hex")}`;
  await psql(`CREATE DATABASE ${database}`);
  try {
    const pgUrl = new URL(postgres);
    pgUrl.pathname = `/${database}`;
    const sqlite = await measure("sqlite", {}, rpms, extras);
    const pg = await measure(
      "postgres",
      { BESKARYUM_INDEX_DRIVER: "postgres", BESKARYUM_INDEX_POSTGRES_URL: pgUrl.href },
      rpms,
      extras,
    );
    console.log("\n| measure | sqlite | postgres | ratio (postgres / sqlite) |\n|---|---|---|---|");
    console.log(
      `| ${count} uploads until published (uploads/s) | ${sqlite.uploadsPerSecond.toFixed(0)} | ${pg.uploadsPerSecond.toFixed(0)} | ${(pg.uploadsPerSecond / sqlite.uploadsPerSecond).toFixed(2)}x |`,
    );
    console.log(
      `| one upload into ${count} packages until published (ms, median of ${latencyRounds}) | ${sqlite.publishLatencyMs.toFixed(0)} | ${pg.publishLatencyMs.toFixed(0)} | ${(pg.publishLatencyMs / sqlite.publishLatencyMs).toFixed(2)}x |`,
    );
  } finally {
    await psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await cleanupTempDirs();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
