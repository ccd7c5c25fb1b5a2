import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, type ProcessHandle, startProcess } from "./support/processes.js";
import { deletePrefix, uniquePrefix } from "./support/redis.js";
import { run } from "./support/run.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The ```sh blocks of the README's "Five-minute walkthrough" section, in order. */
function walkthroughBlocks(): string[] {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("## Five-minute walkthrough\n");
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Ctrl-C in the server's terminal: SIGINT to its process group; SIGKILL to it after 30 s. */
async function interrupt(server: ProcessHandle): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-server.pid, name);
    } catch {
      // Already gone.
    }
  };
  signal("SIGINT");
  const timer = setTimeout(() => signal("SIGKILL"), 30_000);
  await server.exited;
  clearTimeout(timer);
}

/**
 * The README's walkthrough, run as written: its first block (`npm start`) as the server, every other
 * block in order in one bash, from the repository's root, on a fresh data directory, with the address,
 * the upstream's port and Redis key prefix the only things chosen here (the walkthrough reads them
 * from the environment, with the defaults a reader gets).
 */
describe("README five-minute walkthrough", () => {
  let server: ProcessHandle | undefined;
  const prefix = uniquePrefix("walkthrough");
  afterAll(async () => {
    if (server) await interrupt(server);
    await deletePrefix(prefix);
    await cleanupTempDirs();
  });

  it("runs as written: hosted repo, push, dnf through the .repo file, mirror, sync, schedule, logs, dashboard", async () => {
    const [serverBlock, ...steps] = walkthroughBlocks();
    expect(steps.length).toBeGreaterThanOrEqual(4);
    const commands = serverBlock!.split("\n").filter((line) => line.trim() && !line.trim().startsWith("#"));
    expect(commands).toEqual(["npm start"]);

    const env = {
      BESKARYUM_DATADIR: makeTempDir("walkthrough-data"),
      BESKARYUM_ADDR: `127.0.0.1:${await freePort()}`,
      BESKARYUM_REDIS_PREFIX: prefix,
      UPSTREAM: `127.0.0.1:${await freePort()}`,
      // mktemp's scratch directories land among the test's own.
      TMPDIR: makeTempDir("walkthrough-tmp"),
      // The CLI finds the server and token as a reader's shell would: from these and the data dir.
      BESKARYUM_URL: undefined,
      BESKARYUM_TOKEN: undefined,
      BESKARYUM_ADMIN_TOKEN: undefined,
      // Nor from a CLI config file of this machine's user (beskar-yum login).
      BESKARYUM_CLI_CONFIG: undefined,
      XDG_CONFIG_HOME: makeTempDir("walkthrough-config"),
    };
    // In a process group of its own, stopped as Ctrl-C in its terminal would (npm does not pass a
    // SIGTERM on to the script's shell).
    server = await startProcess("setsid", ["bash", "-c", `exec ${commands[0]}`], {
      cwd: root,
      env,
      readyLine: /"msg":"worker ready"/,
      timeoutMs: 120_000,
    });
    await server.waitFor(/"msg":"api listening"/, 60_000);

    const script = ["set -euo pipefail", ...steps].join("\n");
    const result = await run("bash", ["-c", script], { cwd: root, env, timeoutMs: 300_000 });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(0);
    expect(result.stdout).toMatch(/27 of 27 pushed/);
    expect(result.stdout).toMatch(/pacemaker-cli-debuginfo-2\.0\.4-6\.el8\.2\.x86_64/);
    expect(result.stdout).toMatch(/^repo_gpgcheck=1$/m);
    expect(result.stdout).toMatch(/Installed:\s+booth-debugsource-1\.0-6/);
    expect(result.stdout).toMatch(/synced artifacts\/yum\/rocky-ha: 27\/27 packages/);
    expect(result.stdout).toMatch(/updated artifacts\/yum\/rocky-ha/);
    expect(result.stdout).toMatch(/INFO\s+sync finished in \d+ ms: 27 packages upstream, 27 downloaded/);
    expect(result.stdout).toContain(`open http://${env.BESKARYUM_ADDR}/ui/`);
  }, 420_000);
});
