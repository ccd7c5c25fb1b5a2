import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { isYumError } from "@beskar-yum/errors";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "./load-config.js";
import { textLogLine, withLogFormat } from "./log-format.js";
import { installCpuProfiler } from "./profiling.js";

/** Configuration that is accepted must do something: each key here either works or is refused at start. */
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "beskar-yum-config-effect-"));
  dirs.push(dir);
  return dir;
}

function configError(yaml: string | undefined, env: Record<string, string> = {}): string {
  const cwd = tempDir();
  const argv: string[] = [];
  if (yaml !== undefined) {
    writeFileSync(path.join(cwd, "beskar-yum.yaml"), `version: 1.0\n${yaml}\n`);
    argv.push("--config", "beskar-yum.yaml");
  }
  try {
    loadConfig({ argv, env: { BESKARYUM_ADMIN_TOKEN: "t0ken", ...env }, cwd });
  } catch (err) {
    if (isYumError(err, "CONFIG_INVALID")) return err.message;
    throw err;
  }
  throw new Error("expected CONFIG_INVALID");
}

const load = (yaml: string, env: Record<string, string> = {}) => {
  const cwd = tempDir();
  writeFileSync(path.join(cwd, "beskar-yum.yaml"), `version: 1.0\n${yaml}\n`);
  return loadConfig({
    argv: ["--config", "beskar-yum.yaml"],
    env: { BESKARYUM_ADMIN_TOKEN: "t0ken", ...env },
    cwd,
  });
};

describe("storage.driver", () => {
  it.each(["s3", "gcs", "azure"])(
    "refuses %s, from the file or the environment, naming the key",
    (driver) => {
      expect(configError(`storage: { driver: ${driver} }`)).toBe(
        `invalid configuration: storage.driver: the ${driver} driver is not supported yet; use filesystem, or registry (an OCI registry that stores to ${driver})`,
      );
      expect(configError(undefined, { BESKARYUM_STORAGE_DRIVER: driver })).toBe(
        `invalid configuration: BESKARYUM_STORAGE_DRIVER: the ${driver} driver is not supported yet; use filesystem, or registry (an OCI registry that stores to ${driver})`,
      );
    },
  );

  it("accepts filesystem (the default)", () => {
    expect(load("storage: { driver: filesystem }").storage.driver).toBe("filesystem");
  });

  it("accepts registry only with registry.url and index.driver: postgres, naming the key otherwise", () => {
    const pg = "index: { driver: postgres, postgres: { url: 'postgres://u@127.0.0.1:5432/db' } }";
    const registry = "registry: { url: 'http://127.0.0.1:5000' }";
    expect(load(`storage: { driver: registry }\n${pg}\n${registry}`).storage.driver).toBe("registry");
    expect(configError(`storage: { driver: registry }\n${pg}`)).toBe(
      "invalid configuration: storage.driver: registry needs registry.url (the OCI registry that stores packages and repodata)",
    );
    expect(configError(`storage: { driver: registry }\n${registry}`)).toBe(
      "invalid configuration: storage.driver: registry needs index.driver: postgres (an index on a local disk ties each repository to one machine)",
    );
    expect(configError(`storage: { registry: { redirect: true } }\n${pg}\n${registry}`)).toBe(
      "invalid configuration: storage.registry.redirect: redirects to the registry need storage.driver: registry",
    );
    const authenticated = "registry: { url: 'http://127.0.0.1:5000', username: u, password: p }";
    expect(
      configError(`storage: { driver: registry, registry: { redirect: true } }\n${pg}\n${authenticated}`),
    ).toBe(
      "invalid configuration: storage.registry.redirect: clients are sent to the registry without credentials: not with registry.username or registry.token",
    );
    const redirecting = load(
      `storage: { driver: registry, registry: { redirect: true } }\n${pg}\n${registry}`,
    );
    expect(redirecting.storage.registryRedirect).toBe(true);
    expect(configError(registry, { BESKARYUM_STORAGE_DRIVER: "registry" })).toBe(
      "invalid configuration: BESKARYUM_STORAGE_DRIVER: registry needs index.driver: postgres (an index on a local disk ties each repository to one machine)",
    );
  });
});

describe("profiling", () => {
  it("is read from the file and the environment (default false), and refused when not a boolean", () => {
    expect(load("").profiling).toBe(false);
    expect(load("profiling: true").profiling).toBe(true);
    expect(load("profiling: false").profiling).toBe(false);
    expect(load("profiling: false", { BESKARYUM_PROFILING: "TRUE" }).profiling).toBe(true);
    expect(configError("profiling: yes please")).toBe(
      'invalid configuration: profiling: expected true or false, got "yes please"',
    );
    expect(configError(undefined, { BESKARYUM_PROFILING: "1" })).toBe(
      'invalid configuration: BESKARYUM_PROFILING: expected true or false, got "1"',
    );
  });

  it("SIGUSR2 starts a CPU profile and a second one writes it under <datadir>/profiles", async () => {
    const datadir = tempDir();
    const lines: string[] = [];
    let written: (file: string) => void;
    const done = new Promise<string>((resolve) => {
      written = resolve;
    });
    const uninstall = installCpuProfiler({
      datadir,
      name: "test-service",
      signal: "SIGUSR2",
      log: (message, fields) => {
        lines.push(message);
        if (fields?.file) written(fields.file as string);
      },
    });
    try {
      process.kill(process.pid, "SIGUSR2");
      await new Promise((r) => setTimeout(r, 200));
      expect(lines).toEqual(["cpu profile started; send SIGUSR2 again to write it"]);
      // Something to profile.
      let x = 0;
      for (let i = 0; i < 1e6; i++) x += Math.sqrt(i);
      expect(x).toBeGreaterThan(0);
      process.kill(process.pid, "SIGUSR2");
      const file = await done;
      expect(path.dirname(file)).toBe(path.join(datadir, "profiles"));
      expect(path.basename(file)).toMatch(new RegExp(`^test-service-${process.pid}-.*\\.cpuprofile$`));
      const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: unknown[]; startTime: number };
      expect(profile.nodes.length).toBeGreaterThan(0);
      expect(lines).toEqual(["cpu profile started; send SIGUSR2 again to write it", "cpu profile written"]);
    } finally {
      uninstall();
    }
  });

  it("without profiling, nothing listens to SIGUSR2", () => {
    const datadir = tempDir();
    const uninstall = installCpuProfiler({ datadir, name: "x", log: () => {} });
    const before = process.listenerCount("SIGUSR2");
    uninstall();
    expect(process.listenerCount("SIGUSR2")).toBe(before - 1);
    expect(existsSync(path.join(datadir, "profiles"))).toBe(false);
    expect(readdirSync(datadir)).toEqual([]);
  });
});

describe("log.format", () => {
  const line = `${JSON.stringify({
    level: 30,
    time: Date.UTC(2026, 11, 7, 6, 30, 0, 123),
    service: "beskar-yum-api",
    pid: 42,
    repository: "artifacts/yum/x",
    err: { type: "Error", message: 'bad "thing"\nsecond line' },
    empty: "",
    ok: true,
    list: [1, 2],
    msg: "api listening",
  })}\n`;

  it("text: one slog TextHandler line per record (time, level, msg first; nested keys dotted; quoted when needed)", () => {
    expect(textLogLine(line)).toBe(
      'time=2026-12-07T06:30:00.123Z level=INFO msg="api listening" service=beskar-yum-api pid=42 repository=artifacts/yum/x err.type=Error err.message="bad \\"thing\\"\\nsecond line" empty="" ok=true list=[1,2]\n',
    );
    expect(textLogLine('{"level":50,"time":0,"msg":"x"}\n')).toBe(
      "time=1970-01-01T00:00:00.000Z level=ERROR msg=x\n",
    );
    expect(textLogLine("not json\n")).toBe("not json\n");
  });

  it("json leaves pino's options alone; text rewrites lines after the hook already there (redaction)", () => {
    const options = { level: "info", hooks: { streamWrite: (s: string) => s.replace("secret", "***") } };
    expect(withLogFormat(options, "json")).toBe(options);
    const text = withLogFormat(options, "text");
    expect(text.level).toBe("info");
    expect(text.hooks.streamWrite('{"level":30,"time":0,"msg":"secret"}\n')).toBe(
      "time=1970-01-01T00:00:00.000Z level=INFO msg=*** \n".replace(" \n", "\n"),
    );
    expect(
      withLogFormat<{ hooks?: { streamWrite?: (s: string) => string } }>({}, "text").hooks?.streamWrite?.(
        '{"level":40,"msg":"m"}',
      ),
    ).toBe("level=WARN msg=m\n");
  });

  it("is read from the file and the environment and refused when unknown", () => {
    expect(load("").log.repositoryInfo).toBe(true);
    expect(load("log: { repository_info: false }").log.repositoryInfo).toBe(false);
    expect(load("", { BESKARYUM_LOG_REPOSITORY_INFO: "false" }).log.repositoryInfo).toBe(false);
    expect(load("log: { format: text }").log.format).toBe("text");
    expect(load("", { BESKARYUM_LOG_FORMAT: "text" }).log.format).toBe("text");
    expect(configError("log: { format: pretty }")).toBe(
      'invalid configuration: log.format: expected one of json, text, got "pretty"',
    );
  });
});
