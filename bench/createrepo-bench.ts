/**
 * Offline indexer benchmark: `beskar-yum createrepo` (the installed bin, as users run it)
 * against `createrepo_c --no-database` 0.17, side by side in one run, on generated
 * repositories: full index, `--update` after adding 1 package, `--update` after adding 100.
 * Reports wall time (median of BENCH_CREATEREPO_REPEAT runs), packages/s, CPU and peak RSS
 * (`/usr/bin/time`), and the ratios, as a markdown table.
 *
 *   npm run bench                                      # 2,000 packages
 *   BENCH_CREATEREPO_SIZES=2000,20000 npm run bench    # adds 20,000 (~2 min of rpmbuild)
 *   BENCH_CREATEREPO_CACHE=/var/tmp/rpms ...           # keep generated RPMs between runs
 */
import {
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { manyFixtures } from "../test/support/rpm-fixtures.js";
import { run } from "../test/support/run.js";
import { cleanupTempDirs, makeTempDir } from "../test/support/tmp.js";
import { type Measure, measure } from "./bench-util.js";

const sizes = (process.env.BENCH_CREATEREPO_SIZES ?? "2000").split(",").map((s) => Number(s.trim()));
const repeat = Number(process.env.BENCH_CREATEREPO_REPEAT ?? 3);
const cacheDir = process.env.BENCH_CREATEREPO_CACHE;

/** The repository root: the nearest ancestor with apps/cli (this file runs compiled under bench/dist). */
function findRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "apps", "cli", "bin", "beskar-yum.js"))) return dir;
  }
  throw new Error(`no repository root above ${from}`);
}
const bin = join(findRoot(dirname(fileURLToPath(import.meta.url))), "apps", "cli", "bin", "beskar-yum.js");

interface Tool {
  name: string;
  command(dir: string, update: boolean): [string, string[]];
}

const tools: Tool[] = [
  {
    name: "createrepo_c",
    command: (dir, update) => [
      "createrepo_c",
      ["--no-database", "--quiet", ...(update ? ["--update"] : []), dir],
    ],
  },
  {
    name: "beskar-yum",
    command: (dir, update) => [
      process.execPath,
      [bin, "createrepo", "--quiet", ...(update ? ["--update"] : []), dir],
    ],
  },
];

/** One run of a createrepo, bounded at 10 minutes. */
const measureRun = (cmd: string, args: string[]) => measure(cmd, args, { timeoutMs: 600_000 });

function median(values: Measure[]): Measure {
  const sorted = [...values].sort((a, b) => a.ms - b.ms);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** N + 101 small RPMs; rpmbuild slows down with thousands of subpackages, so 2,000 per spec, two at a time. */
async function generate(n: number): Promise<string[]> {
  const total = n + 101;
  const out = cacheDir ? join(cacheDir, String(total)) : makeTempDir(`bench-rpms-${n}-`);
  if (cacheDir && existsSync(join(out, ".complete"))) {
    return readdirSync(out)
      .filter((f) => f.endsWith(".rpm"))
      .sort()
      .map((f) => join(out, f));
  }
  mkdirSync(out, { recursive: true });
  const chunks = Array.from({ length: Math.ceil(total / 2000) }, (_, k) => Math.min(2000, total - k * 2000));
  const all: string[][] = new Array(chunks.length);
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < chunks.length) {
        const k = next++;
        all[k] = await manyFixtures(out, chunks[k]!, { prefix: `bench${String(k).padStart(2, "0")}-` });
      }
    }),
  );
  if (cacheDir) writeFileSync(join(out, ".complete"), "");
  return all.flat().sort();
}

/** Hard links keep size and mtime, so both tools see identical files, and cost no copying. */
function link(files: string[], dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    try {
      linkSync(f, join(dir, basename(f)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
      cpSync(f, join(dir, basename(f)), { preserveTimestamps: true });
    }
  }
}

function unlink(files: string[], dir: string): void {
  for (const f of files) rmSync(join(dir, basename(f)));
}

function snapshotRepodata(dir: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to);
  for (const f of readdirSync(join(dir, "repodata"))) linkSync(join(dir, "repodata", f), join(to, f));
}

function restoreRepodata(from: string, dir: string): void {
  rmSync(join(dir, "repodata"), { recursive: true, force: true });
  mkdirSync(join(dir, "repodata"));
  for (const f of readdirSync(from)) linkSync(join(from, f), join(dir, "repodata", f));
}

function primaryOf(dir: string): string {
  const name = readdirSync(join(dir, "repodata")).find((f) => f.endsWith("-primary.xml.gz"))!;
  return gunzipSync(readFileSync(join(dir, "repodata", name))).toString("utf8");
}

type Step = "full index" | "--update, 1 added" | "--update, 100 added";

async function benchSize(
  n: number,
): Promise<{ n: number; step: Step; packages: number; results: Measure[] }[]> {
  const t0 = performance.now();
  const rpms = await generate(n);
  console.error(`generated ${rpms.length} RPMs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // The added packages are spread over the name order, as new versions of real packages would be.
  const stride = Math.floor(rpms.length / 101);
  const extra = new Set(Array.from({ length: 101 }, (_, i) => i * stride + Math.floor(stride / 2)));
  const base = rpms.filter((_, i) => !extra.has(i));
  const added = rpms.filter((_, i) => extra.has(i));
  const one = added.slice(50, 51);
  const hundred = [...added.slice(0, 50), ...added.slice(51)];
  const rows: { n: number; step: Step; packages: number; results: Measure[] }[] = [
    { n, step: "full index", packages: n, results: [] },
    { n, step: "--update, 1 added", packages: n + 1, results: [] },
    { n, step: "--update, 100 added", packages: n + 100, results: [] },
  ];
  const work = makeTempDir(`bench-createrepo-${n}-`);
  for (const tool of tools) {
    const dir = join(work, tool.name);
    const saved = join(work, `${tool.name}-repodata`);
    link(base, dir);
    const runs: Record<Step, Measure[]> = {
      "full index": [],
      "--update, 1 added": [],
      "--update, 100 added": [],
    };
    for (let i = 0; i < repeat; i++) {
      rmSync(join(dir, "repodata"), { recursive: true, force: true });
      runs["full index"].push(await measureRun(...tool.command(dir, false)));
    }
    snapshotRepodata(dir, saved);
    for (const [step, added] of [
      ["--update, 1 added", one],
      ["--update, 100 added", hundred],
    ] as const) {
      for (let i = 0; i < repeat; i++) {
        restoreRepodata(saved, dir);
        link(added, dir);
        runs[step].push(await measureRun(...tool.command(dir, true)));
        if (i < repeat - 1) unlink(added, dir);
      }
      unlink(added, dir);
    }
    for (const row of rows) row.results.push(median(runs[row.step]));
    // Leave the final state (base + 100) for the comparison below.
    link(hundred, dir);
    restoreRepodata(saved, dir);
    await measureRun(...tool.command(dir, true));
  }
  const same = primaryOf(join(work, "createrepo_c")) === primaryOf(join(work, "beskar-yum"));
  console.error(`${n}: primary.xml of both tools identical after the last update: ${same ? "yes" : "NO"}`);
  if (!same) process.exitCode = 1;
  rmSync(work, { recursive: true, force: true });
  return rows;
}

async function main(): Promise<void> {
  const version = (await run("createrepo_c", ["--version"])).stdout.trim();
  console.log(
    `# createrepo benchmark: beskar-yum createrepo (node ${process.version}) vs createrepo_c ${version}, median of ${repeat}`,
  );
  const rows = [];
  for (const n of sizes) rows.push(...(await benchSize(n)));
  console.log(
    "\n| packages | step | createrepo_c | beskar-yum | speed-up (c / ours) | createrepo_c pkg/s | beskar-yum pkg/s | CPU c / ours (s) | peak RSS c / ours (MiB) |",
  );
  console.log("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const { n, step, packages, results } of rows) {
    const [c, ours] = results as [Measure, Measure];
    const s = (m: Measure) => `${(m.ms / 1000).toFixed(2)} s`;
    const rate = (m: Measure) => Math.round((packages / m.ms) * 1000).toLocaleString("en-US");
    console.log(
      `| ${n.toLocaleString("en-US")} | ${step} | ${s(c)} | ${s(ours)} | ${(c.ms / ours.ms).toFixed(2)}x | ` +
        `${rate(c)} | ${rate(ours)} | ${(c.cpuMs / 1000).toFixed(2)} / ${(ours.cpuMs / 1000).toFixed(2)} | ` +
        `${c.rssMiB.toFixed(0)} / ${ours.rssMiB.toFixed(0)} |`,
    );
  }
  console.log(
    "\npkg/s: packages in the repodata written / wall time. Targets (issue 4, at 20,000): full index within 1.5x of " +
      "createrepo_c's time (speed-up >= 0.67x), --update after adding 1 at least 5x faster, peak RSS under 300 MB.",
  );
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => cleanupTempDirs());
