#!/usr/bin/env node
// `npm start` (API + worker), `npm run start:api`, `npm run start:worker` (`--only api|worker`).
// Builds when the compiled output is missing or older than the sources, makes sure Redis answers
// (starting a private redis-server under <datadir>/redis when none does and one is installed), then
// runs the apps with the remaining arguments and this environment. An app that dies is restarted with a
// backoff (scripts/lib/supervisor.mjs); SIGINT/SIGTERM/SIGHUP stop them all, then this script exits.
// Plain Node ESM, no dependencies besides the built @beskar-yum/config.

import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Supervisor } from "./lib/supervisor.mjs";
import { onPath, pingRedis } from "./lib/system.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const apps = { api: "apps/api/dist/main.js", worker: "apps/worker/dist/main.js" };

/**
 * Node's own flags for an app (apps/<name>/node-flags.json): the worker's young generation is kept
 * small, which keeps a 50,000-package sync under 300 MiB (README, Benchmarks).
 */
function nodeFlags(name) {
  const file = path.join(root, "apps", name, "node-flags.json");
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : [];
}
const STOP_TIMEOUT_MS = 15_000;

const say = (line) => console.error(`start: ${line}`);
const fail = (line) => {
  say(line);
  process.exit(1);
};

main().catch((err) => fail(err?.stack ?? String(err)));

async function main() {
  const { only, passthrough } = parseArgs(process.argv.slice(2));
  const names = only ? [only] : ["api", "worker"];

  if (isBuildNeeded(names)) {
    say("building (npx tsc -b tsconfig.build.json)");
    const res = spawnSync("npx", ["tsc", "-b", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
    if (res.status !== 0) fail(`build failed (${res.error?.message ?? `exit ${res.status}`})`);
    for (const name of names) {
      if (!fs.existsSync(path.join(root, apps[name]))) fail(`the build did not produce ${apps[name]}`);
    }
  }

  // The configuration the apps will see (file, env overrides, defaults); the token is the API's business.
  const { loadConfig } = await import(pathToFileURL(path.join(root, "packages/config/dist/index.js")).href);
  let config;
  try {
    config = loadConfig({
      argv: passthrough,
      env: { ...process.env, BESKARYUM_ADMIN_TOKEN: process.env.BESKARYUM_ADMIN_TOKEN || "unused-by-start" },
    });
  } catch (err) {
    fail(err?.message ?? String(err));
  }

  const env = { ...process.env };
  let redis;
  const url = new URL(config.redis.url);
  if (!(await pingRedis(url))) {
    const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    if (!loopback) fail(`no Redis answers at ${url.host} (redis.url / BESKARYUM_REDIS_URL)`);
    if (!onPath("redis-server")) {
      fail(
        `no Redis answers at ${url.host}: install it (apt-get install redis-server) or set BESKARYUM_REDIS_URL`,
      );
    }
    redis = await startPrivateRedis(path.join(config.datadir, "redis"));
    const db = url.pathname && url.pathname !== "/" ? url.pathname : "";
    env.BESKARYUM_REDIS_URL = `redis://127.0.0.1:${redis.port}${db}`;
  }

  runApps(names, passthrough, env, redis);
}

/** `npm start -- --help`; a declaration, since main() runs before this module's constants exist. */
function usage() {
  return `usage: npm start [-- options]      API + worker (npm run start:api, npm run start:worker: one)

  --only api|worker    start one of them
  --config FILE        beskar-yum.yaml (also BESKARYUM_CONFIG); every key also as BESKARYUM_<PATH>
  --help               this text

Builds when needed, uses Redis at redis.url (else starts a private redis-server under <datadir>/redis),
and restarts an app that dies. The admin token is in <datadir>/admin-token (./data by default);
the beskar-yum CLI, run from here, finds the server and the token by itself (npx beskar-yum --help).`;
}

function parseArgs(args) {
  const passthrough = [];
  let only;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") {
      // Before anything is built or started.
      console.log(usage());
      process.exit(0);
    }
    if (arg === "--only" || arg.startsWith("--only=")) {
      only = arg === "--only" ? args[++i] : arg.slice("--only=".length);
      if (only !== "api" && only !== "worker")
        fail(`--only expects api or worker, got ${JSON.stringify(only ?? "")}`);
    } else {
      passthrough.push(arg);
    }
  }
  return { only, passthrough };
}

// ---- build check -------------------------------------------------------------------------------

/** True when an app's main.js is missing or some project's sources are newer than its dist/. */
function isBuildNeeded(names) {
  if (names.some((name) => !fs.existsSync(path.join(root, apps[name])))) return true;
  const build = JSON.parse(fs.readFileSync(path.join(root, "tsconfig.build.json"), "utf8"));
  for (const { path: project } of build.references ?? []) {
    const dir = path.join(root, project);
    const sources = newest(
      path.join(dir, "src"),
      (f) => /\.[cm]?tsx?$/.test(f) && !/\.(test|spec)\.[cm]?tsx?$/.test(f),
    );
    if (sources === 0) continue; // a project without sources yet
    const inputs = Math.max(sources, mtime(path.join(dir, "tsconfig.json")));
    if (inputs > newest(path.join(dir, "dist"), () => true)) return true;
  }
  return false;
}

/** The newest mtime (ms) of the files under `dir` that pass `keep`; 0 when there are none. */
function newest(dir, keep) {
  let max = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) max = Math.max(max, newest(p, keep));
    else if (keep(entry.name)) max = Math.max(max, mtime(p));
  }
  return max;
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

// ---- Redis -------------------------------------------------------------------------------------

/** The first port from 6380 up that 127.0.0.1 can listen on (an OS-chosen one past 6480). */
async function freePort() {
  const tryListen = (port) =>
    new Promise((resolve) => {
      const server = net.createServer();
      server.once("error", () => resolve(undefined));
      server.listen(port, "127.0.0.1", () => {
        const chosen = server.address().port;
        server.close(() => resolve(chosen));
      });
    });
  for (let port = 6380; port < 6480; port++) {
    const free = await tryListen(port);
    if (free !== undefined) return free;
  }
  const any = await tryListen(0);
  if (any === undefined) fail("found no free port for a private redis-server");
  return any;
}

async function startPrivateRedis(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const log = path.join(dir, "redis.log");
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"];
  args.push("--dir", dir, "--logfile", log);
  say(
    `no Redis at the configured URL; starting a private redis-server on 127.0.0.1:${port} (data in ${dir})`,
  );
  // Supervised like the apps: one that dies comes back on the same port with its append-only file,
  // so the apps' connections recover. Own process group: a terminal's Ctrl-C reaches only us, and
  // we stop Redis after the apps.
  const supervisor = new Supervisor({
    say,
    stopTimeoutMs: STOP_TIMEOUT_MS,
    spawnChild: () => spawn("redis-server", args, { stdio: "ignore", detached: true }),
  });
  supervisor.start("redis-server");
  const url = new URL(`redis://127.0.0.1:${port}`);
  for (let i = 0; i < 100; i++) {
    if (await pingRedis(url)) return { port, supervisor };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await supervisor.stop("SIGKILL");
  fail(`the private redis-server did not answer on 127.0.0.1:${port}; see ${log}`);
}

// ---- apps --------------------------------------------------------------------------------------

function runApps(names, passthrough, env, redis) {
  const supervisor = new Supervisor({
    say,
    stopTimeoutMs: STOP_TIMEOUT_MS,
    // Own process group, so that a terminal's Ctrl-C is delivered once, by us.
    spawnChild: (name) =>
      spawn(process.execPath, [...nodeFlags(name), path.join(root, apps[name]), ...passthrough], {
        env,
        stdio: "inherit",
        detached: true,
      }),
  });
  for (const name of names) supervisor.start(name);

  const stopRedis = async (exitCode) => {
    await redis?.supervisor.stop("SIGTERM");
    process.exit(exitCode);
  };
  // The apps stop either on a signal below or when one exits in a way a restart cannot fix.
  supervisor.stopped.then(stopRedis);

  // Should this script die unexpectedly, do not leave the detached processes behind.
  process.on("exit", () => {
    supervisor.killAll("SIGTERM");
    redis?.supervisor.killAll("SIGTERM");
  });

  let signals = 0;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      signals++;
      say(signals > 1 ? `${signal} again: killing everything` : `${signal}: stopping ${names.join(" and ")}`);
      // A second signal while stopping: no more waiting.
      const forward = signals > 1 ? "SIGKILL" : signal === "SIGHUP" ? "SIGTERM" : signal;
      supervisor.stop(forward);
      if (signals > 1) redis?.supervisor.stop("SIGKILL");
    });
  }
}
