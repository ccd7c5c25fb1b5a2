import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../test/support/run.js";
import { makeTempDir } from "../test/support/tmp.js";

/** What one wrk run measured. */
export interface WrkResult {
  requests: number;
  /** Requests per second over the run. */
  rps: number;
  /** 99th percentile latency, ms. */
  p99Ms: number;
  /** Socket errors (connect, read, write, timeout) plus responses that were not 2xx/3xx. */
  errors: number;
  /** Bytes read per second. */
  bytesPerSec: number;
}

const WRK = "/usr/bin/wrk";

/**
 * wrk (Debian package `wrk`). As root with apt-get it is installed, as the other benches install
 * /usr/bin/time; otherwise the bench stops and prints the install line.
 */
export function requireWrk(): void {
  if (existsSync(WRK)) return;
  const install = "apt-get install -y wrk";
  if (process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
    console.log(`bench: wrk is missing; running: apt-get update && ${install}`);
    spawnSync("apt-get", ["update"], { stdio: "inherit" });
    spawnSync("apt-get", ["install", "-y", "wrk"], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  }
  if (!existsSync(WRK)) {
    console.error(`bench: wrk (Debian package \`wrk\`) is needed. Install it with: sudo ${install}`);
    process.exit(1);
  }
}

/** A wrk script whose `done` prints the figures as one JSON line (wrk's text report rounds them). */
const reportScript = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"bytes\\":%d,\\"p99_us\\":%d,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d}\\n",
    summary.requests, summary.duration, summary.bytes, latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;

let scriptPath: string | undefined;

/** Drives `url` with wrk: `connections` keep-alive connections over `threads` threads for `seconds`. */
export async function wrk(
  url: string,
  options: { connections?: number; threads?: number; seconds?: number } = {},
): Promise<WrkResult> {
  requireWrk();
  if (!scriptPath) {
    scriptPath = join(makeTempDir("bench-wrk-"), "report.lua");
    writeFileSync(scriptPath, reportScript);
  }
  const args = [
    `-c${options.connections ?? 100}`,
    `-t${options.threads ?? 2}`,
    `-d${options.seconds ?? 10}s`,
    "--timeout",
    "5s",
    "-s",
    scriptPath,
    url,
  ];
  const r = await run(WRK, args, { timeoutMs: ((options.seconds ?? 10) + 30) * 1000 });
  const line = r.stdout.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (r.code !== 0 || !line)
    throw new Error(`wrk ${args.join(" ")} exited ${r.code}\n${r.stdout}${r.stderr}`);
  const j = JSON.parse(line.slice("WRK_JSON ".length)) as Record<string, number>;
  const seconds = j.duration_us! / 1e6;
  return {
    requests: j.requests!,
    rps: j.requests! / seconds,
    p99Ms: j.p99_us! / 1000,
    errors: j.connect! + j.read! + j.write! + j.status! + j.timeout!,
    bytesPerSec: j.bytes! / seconds,
  };
}
