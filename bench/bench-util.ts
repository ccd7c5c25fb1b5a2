import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fetchPrimary } from "../test/harness/repodata-client.js";
import { run } from "../test/support/run.js";
import { makeTempDir } from "../test/support/tmp.js";

/** One measured run of a command. */
export interface Measure {
  /** Wall time, ms. */
  ms: number;
  /** User + system CPU, ms. */
  cpuMs: number;
  /** Peak resident set size, MiB. */
  rssMiB: number;
}

/**
 * /usr/bin/time (Debian package `time`; the shell's `time` keyword reports no peak RSS). As root
 * with apt-get it is installed, as scripts/check-tools.mjs installs the tests' tools; otherwise the
 * bench stops and prints the install line.
 */
export function requireGnuTime(): void {
  if (existsSync("/usr/bin/time")) return;
  const install = "apt-get install -y time";
  if (process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
    console.log(`bench: /usr/bin/time is missing; running: apt-get update && ${install}`);
    spawnSync("apt-get", ["update"], { stdio: "inherit" });
    spawnSync("apt-get", ["install", "-y", "time"], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  }
  if (!existsSync("/usr/bin/time")) {
    console.error(
      `bench: /usr/bin/time (Debian package \`time\`) is needed. Install it with: sudo ${install}`,
    );
    process.exit(1);
  }
}

/** Runs one command under /usr/bin/time (Debian package `time`): wall time here, CPU and peak RSS from the kernel. */
export async function measure(
  cmd: string,
  args: string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<Measure> {
  requireGnuTime();
  const report = join(makeTempDir("bench-time-"), "time");
  const t0 = performance.now();
  const r = await run("/usr/bin/time", ["-f", "%U %S %M", "-o", report, cmd, ...args], {
    timeoutMs: options.timeoutMs ?? 1_800_000,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}\n${r.stderr}`);
  const [user, sys, rssKiB] = readFileSync(report, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  return { ms, cpuMs: (user! + sys!) * 1000, rssMiB: rssKiB! / 1024 };
}

/** Peak resident set size of a running process (VmHWM), MiB. */
export function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** Runs `fn` on every item, `size` at a time (uploads in the benches). */
export async function pool<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Polls the published primary.xml every `intervalMs` until it lists `n` packages. */
export async function waitForPackages(repoUrl: string, n: number, intervalMs: number): Promise<void> {
  for (;;) {
    const found = await fetchPrimary(repoUrl).then(
      (p) => p.packages.length,
      () => 0,
    );
    if (found >= n) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
