import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startProcess } from "./support/processes.js";
import { deletePrefix, redisUrl, uniquePrefix } from "./support/redis.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

/** Configuration that is accepted must do something: the built processes refuse what does not, or do it. */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const api = join(root, "apps/api/dist/main.js");
const worker = join(root, "apps/worker/dist/main.js");

const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await deletePrefix(prefix);
  await cleanupTempDirs();
});

function baseEnv(): Record<string, string> {
  const prefix = uniquePrefix("config-effect");
  prefixes.push(prefix);
  return {
    BESKARYUM_ADDR: "127.0.0.1:0",
    BESKARYUM_DATADIR: makeTempDir("config-effect"),
    BESKARYUM_REDIS_URL: redisUrl(),
    BESKARYUM_REDIS_PREFIX: prefix,
    BESKARYUM_ADMIN_TOKEN: randomBytes(16).toString("hex"),
  };
}

/** Runs `main` until it exits; returns its exit code and output. */
async function exitOf(main: string, env: Record<string, string>, argv: string[] = []) {
  const proc = await startProcess("node", [main, ...argv], { env });
  const status = await Promise.race([
    proc.exited,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`still running:\n${proc.output()}`)), 15_000),
    ),
  ]).finally(() => proc.stop("SIGKILL", 1000).catch(() => undefined));
  return { code: status.code, output: proc.output() };
}

describe("configuration the processes cannot honour is refused at start, naming the key", () => {
  it.each([
    [
      "BESKARYUM_STORAGE_DRIVER",
      "s3",
      "the s3 driver is not supported yet; use filesystem, or registry (an OCI registry that stores to s3)",
    ],
    [
      "BESKARYUM_STORAGE_DRIVER",
      "registry",
      "registry needs registry.url (the OCI registry that stores packages and repodata)",
    ],
    ["BESKARYUM_PROFILING", "maybe", 'expected true or false, got "maybe"'],
    ["BESKARYUM_LOG_FORMAT", "pretty", 'expected one of json, text, got "pretty"'],
  ])("the API exits 2 on %s=%s", async (variable, value, problem) => {
    const { code, output } = await exitOf(api, { ...baseEnv(), [variable]: value });
    expect(code).toBe(2);
    expect(output.trim()).toBe(`beskar-yum api: invalid configuration: ${variable}: ${problem}`);
  });

  it("the API and the worker exit 2 on storage.driver: gcs in the YAML file", async () => {
    const env = baseEnv();
    const file = join(env.BESKARYUM_DATADIR!, "beskar-yum.yaml");
    writeFileSync(file, "version: 1.0\nstorage:\n  driver: gcs\n  gcs: { bucket: b }\n");
    for (const [main, name] of [
      [api, "api"],
      [worker, "worker"],
    ] as const) {
      const { code, output } = await exitOf(main, env, ["--config", file]);
      expect(code).toBe(2);
      expect(output.trim()).toBe(
        `beskar-yum ${name}: invalid configuration: storage.driver: the gcs driver is not supported yet; use filesystem, or registry (an OCI registry that stores to gcs)`,
      );
    }
  });
});

describe("configuration that is accepted takes effect", () => {
  it("log.format: text makes the API log slog-style text lines", async () => {
    const proc = await startProcess("node", [api], {
      env: { ...baseEnv(), BESKARYUM_LOG_FORMAT: "text" },
      readyLine: /msg="api listening"/,
      timeoutMs: 20_000,
    });
    try {
      const line = proc
        .output()
        .split("\n")
        .find((l) => l.includes('msg="api listening"'))!;
      expect(line).toMatch(
        /^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=INFO msg="api listening" service=beskar-yum-api .*address=http:\/\/127\.0\.0\.1:\d+/,
      );
      // No JSON lines at all.
      expect(
        proc
          .output()
          .split("\n")
          .filter((l) => l.startsWith("{")),
      ).toEqual([]);
    } finally {
      await proc.stop();
    }
  });

  it("profiling: true makes SIGUSR2 write a CPU profile of the worker under <datadir>/profiles", async () => {
    const env: Record<string, string> = { ...baseEnv(), BESKARYUM_PROFILING: "true" };
    const proc = await startProcess("node", [worker], {
      env,
      readyLine: /"msg":"worker ready"/,
      timeoutMs: 20_000,
    });
    try {
      process.kill(proc.pid, "SIGUSR2");
      await proc.waitFor(/cpu profile started/, 10_000);
      await new Promise((r) => setTimeout(r, 300));
      process.kill(proc.pid, "SIGUSR2");
      const [line] = await proc.waitFor(/\{[^\n]*"msg":"cpu profile written"[^\n]*\}/, 10_000);
      const file = (JSON.parse(line) as { file: string }).file;
      expect(dirname(file)).toBe(join(env.BESKARYUM_DATADIR!, "profiles"));
      expect(existsSync(file)).toBe(true);
      expect((JSON.parse(readFileSync(file, "utf8")) as { nodes: unknown[] }).nodes.length).toBeGreaterThan(
        0,
      );
    } finally {
      expect((await proc.stop()).code).toBe(0);
    }
  });
});
