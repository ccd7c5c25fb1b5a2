import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "./support/eventually.js";
import { freePort, type ProcessHandle, startProcess } from "./support/processes.js";
import { deletePrefix, redisUrl, uniquePrefix } from "./support/redis.js";
import { manyFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The processes whose parent is `pid`, with their command lines. */
function childrenOf(pid: number): { pid: number; args: string }[] {
  let out = "";
  try {
    out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(pid)], { encoding: "utf8" });
  } catch {
    return []; // ps exits 1 when there is none
  }
  return out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [, p, args] = /^\s*(\d+)\s+(.*)$/.exec(line)!;
      return { pid: Number(p), args: args! };
    });
}

const appPid = (start: ProcessHandle, app: "api" | "worker") =>
  childrenOf(start.pid).find((c) => c.args.includes(`apps/${app}/dist/main.js`))?.pid;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("npm start (scripts/start.mjs) supervising the API and the worker", () => {
  const prefix = uniquePrefix("start-supervisor");
  const started: ProcessHandle[] = [];
  afterAll(async () => {
    // SIGTERM, so that start.mjs takes its children down with it (SIGKILL would orphan them).
    await Promise.all(started.map((p) => p.stop("SIGTERM", 20_000)));
    await deletePrefix(prefix);
    await cleanupTempDirs();
  });

  it("restarts a worker killed with SIGKILL while the API keeps serving, and stops everything on SIGTERM", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const start = await startProcess("node", [join(root, "scripts/start.mjs")], {
      cwd: root,
      env: {
        BESKARYUM_ADDR: `127.0.0.1:${port}`,
        BESKARYUM_DATADIR: makeTempDir("start-supervisor"),
        BESKARYUM_REDIS_URL: redisUrl(),
        BESKARYUM_REDIS_PREFIX: prefix,
        BESKARYUM_ADMIN_TOKEN: "start-supervisor-token-0123456789abcdef",
      },
      readyLine: /"msg":"worker ready"/,
      // start.mjs builds first when the sources are newer than dist/.
      timeoutMs: 180_000,
    });
    started.push(start);
    await start.waitFor(/"msg":"api listening"/, 30_000);
    const api = appPid(start, "api")!;
    const worker = appPid(start, "worker")!;
    expect(api).toBeGreaterThan(0);
    expect(worker).toBeGreaterThan(0);

    // The API answers all along, while the worker dies and comes back.
    let polling = true;
    const failures: string[] = [];
    const poller = (async () => {
      while (polling) {
        const res = await fetch(`${base}/healthz`).catch((err: Error) => ({ status: err.message }));
        if (res.status !== 200) failures.push(String(res.status));
        await sleep(50);
      }
    })();

    const from = start.output().length;
    process.kill(worker, "SIGKILL");
    await start.waitFor(
      new RegExp(
        `start: worker \\(pid ${worker}\\) exited \\(signal SIGKILL\\) after [\\d.]+ s; restarting in 1 s`,
      ),
      10_000,
      from,
    );
    const [, restarted] = (await start.waitFor(
      /start: worker restarted \(pid (\d+)\)/,
      10_000,
      from,
    )) as string[];
    await start.waitFor(new RegExp(`"pid":${restarted},[^\\n]*"msg":"worker ready"`), 30_000, from);
    polling = false;
    await poller;

    expect(Number(restarted)).not.toBe(worker);
    expect(appPid(start, "worker")).toBe(Number(restarted));
    expect(appPid(start, "api")).toBe(api);
    expect(alive(worker)).toBe(false);
    expect(failures).toEqual([]);
    expect(start.output()).not.toMatch(/stopping the rest/);

    const exit = await start.stop("SIGTERM", 20_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(start.output()).toMatch(/start: SIGTERM: stopping api and worker/);
    expect([api, Number(restarted)].filter(alive)).toEqual([]);
  });

  it("restarts its private redis-server when it dies, and the apps recover", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const token = "start-supervisor-token-0123456789abcdef";
    const start = await startProcess("node", [join(root, "scripts/start.mjs")], {
      cwd: root,
      env: {
        BESKARYUM_ADDR: `127.0.0.1:${port}`,
        BESKARYUM_DATADIR: makeTempDir("start-private-redis"),
        // Nothing answers there: start.mjs starts a private redis-server.
        BESKARYUM_REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
        BESKARYUM_ADMIN_TOKEN: token,
      },
      readyLine: /"msg":"worker ready"/,
      timeoutMs: 180_000,
    });
    started.push(start);
    await start.waitFor(/"msg":"api listening"/, 30_000);
    const redis = childrenOf(start.pid).find((c) => c.args.startsWith("redis-server"))!.pid;

    const from = start.output().length;
    process.kill(redis, "SIGKILL");
    await start.waitFor(
      new RegExp(
        `start: redis-server \\(pid ${redis}\\) exited \\(signal SIGKILL\\) after [\\d.]+ s; restarting in 1 s`,
      ),
      10_000,
      from,
    );
    const [, restarted] = (await start.waitFor(
      /start: redis-server restarted \(pid (\d+)\)/,
      10_000,
      from,
    )) as string[];
    await eventually("the API ready again", async () =>
      (await fetch(`${base}/readyz`)).status === 200 ? true : undefined,
    );
    // The worker works with it: an upload is published.
    const [rpm] = await manyFixtures(makeTempDir("start-private-redis-rpms"), 1);
    const uploaded = await fetch(`${base}/artifacts/yum/s-redis/repo/Packages/${basename(rpm!)}?wait=true`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/x-rpm" },
      body: await readFile(rpm!),
    });
    expect(uploaded.status).toBe(201);

    const apps = [appPid(start, "api")!, appPid(start, "worker")!, Number(restarted)];
    const stopped = await start.stop("SIGTERM", 20_000);
    expect(stopped.code, start.output().slice(from)).toBe(0);
    expect(apps.filter(alive)).toEqual([]);
  });
});

describe("Supervisor (scripts/lib/supervisor.mjs)", () => {
  it("restarts a child that keeps dying with a doubling, capped backoff, reset by a healthy run", async () => {
    // @ts-expect-error plain ESM script without types
    const { Supervisor, restartDelay } = await import("../scripts/lib/supervisor.mjs");
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => restartDelay(n))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);

    const lines: string[] = [];
    let lifeMs = 0;
    const { spawn } = await import("node:child_process");
    // healthyAfterMs well above a loaded machine's Node start-up: a child meant to die young must not
    // count as healthy because it took long to start.
    const policy = { firstDelayMs: 20, maxDelayMs: 80, healthyAfterMs: 2000 };
    const supervisor = new Supervisor({
      say: (line: string) => lines.push(line),
      stopTimeoutMs: 5000,
      policy,
      spawnChild: () => spawn(process.execPath, ["-e", `setTimeout(() => process.exit(3), ${lifeMs})`]),
    });
    supervisor.start("app");
    const restartLines = () => lines.filter((l) => l.includes("restarting in"));
    const context = { timeoutMs: 20_000, intervalMs: 10, context: () => lines.join("\n") };
    await eventually(
      "the capped delay",
      async () => restartLines().some((l) => l.endsWith("restarting in 0.08 s")) || undefined,
      context,
    );
    // Each delay is what the policy gives for the life that line reports: doubling from 20 ms while
    // the child dies young, capped at 80 ms, back to 20 ms after a life past healthyAfterMs.
    const lived = (l: string) => Number(/after ([\d.]+) s/.exec(l)?.[1] ?? 0);
    let attempt = 0;
    for (const line of restartLines()) {
      if (lived(line) * 1000 >= policy.healthyAfterMs) attempt = 0;
      const expected = Math.min(policy.firstDelayMs * 2 ** attempt++, policy.maxDelayMs) / 1000;
      expect(line).toMatch(new RegExp(`restarting in ${expected} s$`));
    }
    expect(lines[0]).toMatch(/^app \(pid \d+\) exited \(code 3\) after [\d.]+ s; restarting in 0.02 s$/);

    // A child that lived past healthyAfterMs starts the backoff again from the first delay.
    lifeMs = 2100;
    const before = lines.length;
    const healthy = () => lines.slice(before).find((l) => lived(l) >= 2.1);
    await eventually("a restart after a healthy run", async () => healthy(), context);
    expect(healthy()).toMatch(/restarting in 0.02 s$/);

    lifeMs = 60_000;
    await eventually("a running child", async () => supervisor.pids()[0], context);
    // The fake child does not handle SIGTERM (the apps do, and exit 0): killed by a signal is 1.
    expect(await supervisor.stop("SIGTERM")).toBe(1);
    expect(supervisor.pids()).toEqual([]);
  });
});
