/**
 * Serving benchmark: the 27 Rocky RPMs (test/fixtures/rocky-8.3-ha-debug) uploaded to a hosted
 * repository of the real API + worker processes, and the same bytes (repomd.xml, primary.xml.gz, the
 * biggest RPM) served by nginx (Debian `nginx-light`) from a directory, side by side in one run, both
 * driven by wrk (Debian package `wrk`, installed here when run as root) with the same settings.
 * Prints req/s, p99 latency and errors of both and the ratio (ours / nginx's req/s). A third column is
 * beskar-yum behind nginx with deploy/nginx/beskar-yum.conf and `http.front_tree` (nginx sends
 * packages, repodata and repomd.xml from the tree the worker keeps in step with each publish, and asks
 * the API for the rest), the deployment README "Behind nginx" describes.
 *
 *   npm run bench                                      # all benches
 *   node bench/dist/bench/serve-bench.js               # this one (after `npm run bench` built it)
 *   BENCH_SERVE_SECONDS=20 ...                         # each wrk run (default 10 s, after a 2 s warm-up)
 *   BENCH_SERVE_CONNECTIONS=100 ...                    # wrk connections (default 100)
 *   BENCH_SERVE_THREADS=2 ...                          # wrk threads (default 2)
 *   BENCH_SERVE_ROUNDS=3 ...                           # rounds (default 3, the order alternating); medians printed
 *   BENCH_SERVE_WORKERS=auto ...                       # our http.workers (default auto: one API process per core)
 *   BENCH_NGINX_WORKERS=auto ...                       # nginx worker_processes (default auto: one per core)
 *   BENCH_PROFILE_DIR=/tmp/prof ...                    # CPU profiles of the API (see cpu-profile.ts)
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseRepomd } from "@beskar-yum/repodata";
import { packageHref } from "@beskar-yum/repository";
import { startStack } from "../test/harness/stack.js";
import { startNginx } from "../test/support/nginx.js";
import { cleanupTempDirs, makeTempDir } from "../test/support/tmp.js";
import { requireWrk, type WrkResult, wrk } from "./wrk.js";

const seconds = Number(process.env.BENCH_SERVE_SECONDS ?? 10);
const connections = Number(process.env.BENCH_SERVE_CONNECTIONS ?? 100);
const threads = Number(process.env.BENCH_SERVE_THREADS ?? 2);
const nginxWorkers = process.env.BENCH_NGINX_WORKERS ?? "auto";
const ourWorkers = process.env.BENCH_SERVE_WORKERS ?? "auto";
const rounds = Math.max(1, Number(process.env.BENCH_SERVE_ROUNDS ?? 3));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median run by req/s, with the median p99 and the errors of all runs. */
function summary(runs: WrkResult[]): WrkResult {
  return {
    requests: runs.reduce((n, r) => n + r.requests, 0),
    rps: median(runs.map((r) => r.rps)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    bytesPerSec: median(runs.map((r) => r.bytesPerSec)),
  };
}
const profileDir = process.env.BENCH_PROFILE_DIR;

/** The repository's root, found from the source tree or from bench/dist. */
function repoRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "test", "fixtures", "rocky-8.3-ha-debug", "Packages"))) return dir;
  }
  throw new Error("test/fixtures/rocky-8.3-ha-debug not found");
}

const rockyFixture = () => join(repoRoot(), "test", "fixtures", "rocky-8.3-ha-debug");

async function get(url: string): Promise<Buffer> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

async function waitForPackages(repoUrl: string, n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const repomd = await get(`${repoUrl}repodata/repomd.xml`).catch(() => undefined);
    if (repomd) {
      const primary = parseRepomd(repomd.toString("utf8")).records.find((r) => r.type === "primary");
      const packages = primary && (await get(`${repoUrl}${primary.location}`).catch(() => undefined));
      // primary.xml.gz's own header: `packages="N"` is in the first few hundred bytes once gunzipped.
      if (packages) {
        const { gunzipSync } = await import("node:zlib");
        const head = gunzipSync(packages).subarray(0, 400).toString("utf8");
        if (head.includes(`packages="${n}"`)) return;
      }
    }
    if (Date.now() > deadline) throw new Error(`the ${n} packages were not published within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function fmt(r: WrkResult): string {
  return `${Math.round(r.rps).toLocaleString("en-US")} | ${r.p99Ms.toFixed(1)} ms | ${r.errors}`;
}

async function main(): Promise<void> {
  requireWrk();
  const packagesDir = join(rockyFixture(), "Packages");
  const rpms = readdirSync(packagesDir)
    .filter((f) => f.endsWith(".rpm"))
    .map((f) => ({ file: join(packagesDir, f), name: f, size: statSync(join(packagesDir, f)).size }));
  const biggest = rpms.reduce((a, b) => (b.size > a.size ? b : a));
  console.log(
    `# serving benchmark: ${rpms.length} Rocky RPMs in a hosted repository, wrk -c${connections} -t${threads} -d${seconds}s, ${rounds} rounds; beskar-yum http.workers ${ourWorkers}, nginx worker_processes ${nginxWorkers}`,
  );

  const frontTree = makeTempDir("bench-serve-front-tree");
  const stack = await startStack({
    name: "serve-bench",
    env: {
      BESKARYUM_HTTP_WORKERS: ourWorkers,
      BESKARYUM_HTTP_ACCEL_REDIRECT: "true",
      BESKARYUM_HTTP_FRONT_TREE: frontTree,
      ...(profileDir
        ? {
            BENCH_PROFILE_DIR: profileDir,
            NODE_OPTIONS: `--import=${new URL("./cpu-profile.js", import.meta.url).href}`,
          }
        : {}),
    },
  });
  const root = makeTempDir("bench-serve-nginx");
  const nginx = await startNginx({
    root,
    workers: nginxWorkers === "auto" ? "auto" : Number(nginxWorkers),
    config: "    access_log off;",
  });
  // The shipped front config, with only its addresses and the data directory replaced.
  const site = readFileSync(join(repoRoot(), "deploy", "nginx", "beskar-yum.conf"), "utf8")
    .replace("server api:5200;", `server ${new URL(stack.url).host};`)
    .replaceAll("/data/", `${stack.dataDir}/`)
    .replace("root /front;", `root ${frontTree};`);
  const front = await startNginx({
    workers: nginxWorkers === "auto" ? "auto" : Number(nginxWorkers),
    site: (port) => site.replace("listen 80;", `listen 127.0.0.1:${port};\n    access_log off;`),
  });
  try {
    const repo = "artifacts/yum/serve";
    const created = await stack.call("POST", "/repository", { repository: repo, properties: {} });
    if (created.status !== 200)
      throw new Error(`create: HTTP ${created.status} ${JSON.stringify(created.json)}`);
    for (const rpm of rpms) {
      const { status, json } = await stack.upload(repo, rpm.file);
      if (status !== 202) throw new Error(`${rpm.name}: HTTP ${status} ${JSON.stringify(json)}`);
    }
    const repoUrl = stack.repoUrl(repo);
    await waitForPackages(repoUrl, rpms.length);

    // The same bytes, at the same paths, for nginx.
    const repomd = await get(`${repoUrl}repodata/repomd.xml`);
    const primary = parseRepomd(repomd.toString("utf8")).records.find((r) => r.type === "primary")!;
    const files = [
      { label: "repomd.xml", path: "repodata/repomd.xml" },
      { label: "primary.xml.gz", path: primary.location },
      // At its href in primary.xml, the URL dnf asks for (and the one the front tree holds).
      { label: `${biggest.name} (${Math.round(biggest.size / 1024)} KiB)`, path: packageHref(biggest.name) },
    ];
    for (const { path } of files) {
      const target = join(root, "repo", path);
      mkdirSync(join(target, ".."), { recursive: true });
      writeFileSync(target, await get(`${repoUrl}${path}`));
    }
    const nginxRepoUrl = `${nginx.url}repo/`;
    const frontRepoUrl = `${front.url}${repo}/repo/`;

    const rows: { label: string; ours: WrkResult; fronted: WrkResult; theirs: WrkResult }[] = [];
    for (const { label, path } of files) {
      // A short warm-up of each (JIT, page cache, connection setup), then the measured runs.
      await wrk(`${repoUrl}${path}`, { connections, threads, seconds: 2 });
      await wrk(`${nginxRepoUrl}${path}`, { connections, threads, seconds: 2 });
      await wrk(`${frontRepoUrl}${path}`, { connections, threads, seconds: 2 });
      const runs = { ours: [] as WrkResult[], fronted: [] as WrkResult[], nginx: [] as WrkResult[] };
      const urls = {
        ours: `${repoUrl}${path}`,
        fronted: `${frontRepoUrl}${path}`,
        nginx: `${nginxRepoUrl}${path}`,
      };
      for (let round = 0; round < rounds; round++) {
        // Rotating who goes first, so that none always runs right after another's load.
        const order = (["ours", "fronted", "nginx"] as const).map(
          (_, i, all) => all[(i + round) % all.length]!,
        );
        for (const who of order) runs[who].push(await wrk(urls[who], { connections, threads, seconds }));
        console.log(
          `${label}, round ${round + 1}: beskar-yum ${fmt(runs.ours.at(-1)!)}; behind nginx ${fmt(runs.fronted.at(-1)!)}; nginx ${fmt(runs.nginx.at(-1)!)}`,
        );
      }
      rows.push({
        label,
        ours: summary(runs.ours),
        fronted: summary(runs.fronted),
        theirs: summary(runs.nginx),
      });
    }

    console.log(`\nmedians of ${rounds} rounds (errors: all rounds)`);
    console.log(
      "| file | beskar-yum req/s | p99 | errors | behind nginx req/s | p99 | errors | nginx alone req/s | p99 | errors | ratios (ours / nginx; behind nginx / nginx) |\n|---|---|---|---|---|---|---|---|---|---|---|",
    );
    for (const { label, ours, fronted, theirs } of rows) {
      console.log(
        `| ${label} | ${fmt(ours)} | ${fmt(fronted)} | ${fmt(theirs)} | ${(ours.rps / theirs.rps).toFixed(2)}x; ${(fronted.rps / theirs.rps).toFixed(2)}x |`,
      );
    }
  } finally {
    await front.stop();
    await nginx.stop();
    await stack.stop();
    await cleanupTempDirs();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
