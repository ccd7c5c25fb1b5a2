import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isYumError } from "@beskar-yum/errors";
import { afterAll, describe, expect, it } from "vitest";
import { defaultMaxConnections, type LoadConfigOptions, loadConfig } from "./load-config.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beskar-yum-config-"));
  dirs.push(dir);
  return dir;
}

/** Loads with an empty environment and a fixed token so that no token file is written, unless told. */
function load(opts: LoadConfigOptions = {}) {
  const cwd = opts.cwd ?? tempDir();
  return loadConfig({ argv: [], ...opts, cwd, env: { BESKARYUM_ADMIN_TOKEN: "t0ken", ...opts.env } });
}

function writeYaml(dir: string, text: string): string {
  const file = path.join(dir, "beskar-yum.yaml");
  fs.writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isYumError(err, "CONFIG_INVALID")).toBe(true);
    return (err as Error).message;
  }
  throw new Error("expected loadConfig to throw");
}

describe("loadConfig", () => {
  it("applies the SPEC §4 defaults", () => {
    const cwd = tempDir();
    const config = load({ cwd });
    expect(config).toEqual({
      version: "1.0",
      addr: { host: "127.0.0.1", port: 5200 },
      log: { level: "info", format: "json", repositoryInfo: true },
      profiling: false,
      datadir: path.join(cwd, "data"),
      redis: { url: "redis://127.0.0.1:6379", prefix: "beskar-yum" },
      adminToken: "t0ken",
      adminTokenSource: "env",
      gossip: {
        addr: { host: "0.0.0.0", port: 5201 },
        key: "XD1IOhcp0HWFgZJ/HAaARqMKJwfMWtz284Yj7wxmerA=",
        peers: [],
      },
      storage: {
        driver: "filesystem",
        registryRedirect: false,
        prefix: "",
        filesystem: { directory: path.join(cwd, "data") },
      },
      publish: { debounceMs: 200, maxDelayMs: 2000, graceSeconds: 300 },
      upload: { maxBytes: 4 * 1024 ** 3, waitTimeoutMs: 60_000 },
      worker: { concurrency: 4, lockTtlMs: 30_000, reconcileIntervalMs: 30_000 },
      sync: { concurrency: 32, timeoutMs: 30_000, waitTimeoutMs: 1_800_000 },
      http: {
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        uploadIdleTimeoutMs: 60_000,
        keepAliveTimeoutMs: 5_000,
        sendTimeoutMs: 30_000,
        maxConnections: defaultMaxConnections(),
      },
      serving: {
        workers: 1,
        contentCacheBytes: 64 * 1024 * 1024,
        accelRedirect: false,
        accelRedirectMinBytes: 1048576,
      },
      signing: {},
      fsyncTimeoutMs: 120_000,
      proxy: {},
      index: { driver: "sqlite" },
      limits: {
        maxPackagesPerRepository: 500_000,
        maxOpenIndexes: 256,
        logMaxRows: 10_000,
        logMaxAgeDays: 30,
      },
    });
  });

  it("reads signing.key_file (made absolute), its passphrase (never shown) and http.public_url", () => {
    const cwd = tempDir();
    const config = load({
      cwd,
      env: {
        BESKARYUM_SIGNING_KEY_FILE: "keys/server.asc",
        BESKARYUM_SIGNING_PASSPHRASE: "pass phrase",
        BESKARYUM_HTTP_PUBLIC_URL: "https://yum.example.com/",
      },
    });
    expect(config.signing).toEqual({ keyFile: path.join(cwd, "keys/server.asc"), passphrase: "pass phrase" });
    expect(config.serving.publicUrl).toBe("https://yum.example.com");
    const file = path.join(cwd, "beskar-yum.yaml");
    fs.writeFileSync(file, "version: 1.0\nsigning:\n  passphrase: [1, 2]\n");
    expect(() => load({ cwd, argv: ["--config", file] })).toThrow(
      "invalid configuration: signing.passphrase: expected a non-empty string (the value is a secret: not shown)",
    );
    expect(() =>
      load({ cwd, env: { BESKARYUM_HTTP_PUBLIC_URL: "https://u:secret@yum.example.com" } }),
    ).toThrow(
      /BESKARYUM_HTTP_PUBLIC_URL: expected an http:\/\/ or https:\/\/ URL without credentials or query, got "https:\/\/u:\*\*\*@yum.example.com"/,
    );
  });

  it("reads http.front_tree (made absolute) and refuses one that shares a directory with the data", () => {
    const cwd = tempDir();
    expect(load({ cwd }).serving.frontTree).toBeUndefined();
    const config = load({ cwd, env: { BESKARYUM_HTTP_FRONT_TREE: "front" } });
    expect(config.serving.frontTree).toBe(path.join(cwd, "front"));
    // nginx serves the tree: the data directory (indexes with mirror credentials) must not be in it, nor it in the data.
    for (const tree of ["data", "data/front", ".", "store/x"]) {
      expect(
        configError(() =>
          load({
            cwd,
            env: { BESKARYUM_HTTP_FRONT_TREE: tree, BESKARYUM_STORAGE_FILESYSTEM_DIRECTORY: "store" },
          }),
        ),
      ).toMatch(/^invalid configuration: BESKARYUM_HTTP_FRONT_TREE: .* overlaps the data directory/);
    }
    expect(configError(() => load({ cwd, env: { BESKARYUM_HTTP_FRONT_TREE: " " } }))).toMatch(
      /BESKARYUM_HTTP_FRONT_TREE: expected a path/,
    );
  });

  it("reads http.workers (a count or auto) and http.content_cache_bytes", () => {
    const cwd = tempDir();
    const config = load({
      cwd,
      env: { BESKARYUM_HTTP_WORKERS: "auto", BESKARYUM_HTTP_CONTENT_CACHE_BYTES: "0" },
    });
    expect(config.serving).toEqual({
      workers: "auto",
      contentCacheBytes: 0,
      accelRedirect: false,
      accelRedirectMinBytes: 1048576,
    });
    expect(load({ cwd, env: { BESKARYUM_HTTP_WORKERS: "3" } }).serving.workers).toBe(3);
    expect(load({ cwd, env: { BESKARYUM_HTTP_ACCEL_REDIRECT: "true" } }).serving.accelRedirect).toBe(true);
    expect(
      load({ cwd, env: { BESKARYUM_HTTP_ACCEL_REDIRECT_MIN_BYTES: "0" } }).serving.accelRedirectMinBytes,
    ).toBe(0);
    expect(() => load({ cwd, env: { BESKARYUM_HTTP_ACCEL_REDIRECT: "nginx" } })).toThrow(
      /BESKARYUM_HTTP_ACCEL_REDIRECT/,
    );
    expect(() => load({ cwd, env: { BESKARYUM_HTTP_WORKERS: "0" } })).toThrow(/BESKARYUM_HTTP_WORKERS/);
    expect(() => load({ cwd, env: { BESKARYUM_HTTP_WORKERS: "many" } })).toThrow(/auto or an integer/);
  });

  it("reads index.driver and index.postgres.url (BESKARYUM_INDEX_POSTGRES_URL); SQLite by default", () => {
    const cwd = tempDir();
    expect(load({ cwd }).index).toEqual({ driver: "sqlite" });
    const url = "postgres://beskar:s3cret@db.example:5432/beskar";
    expect(
      load({ cwd, env: { BESKARYUM_INDEX_DRIVER: "postgres", BESKARYUM_INDEX_POSTGRES_URL: url } }).index,
    ).toEqual({ driver: "postgres", postgres: { url } });
    writeYaml(cwd, `version: 1.0\nindex: { driver: postgres, postgres: { url: "${url}" } }\n`);
    expect(load({ cwd, argv: ["--config", "beskar-yum.yaml"] }).index).toEqual({
      driver: "postgres",
      postgres: { url },
    });
  });

  it("caps the default max connections below the process's open files limit", () => {
    const dir = tempDir();
    const limits = (soft: string) => {
      const file = path.join(dir, `limits-${soft}`);
      fs.writeFileSync(
        file,
        `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                 524288               files\n`,
      );
      return file;
    };
    expect(defaultMaxConnections(limits("1024"))).toBe(768);
    expect(defaultMaxConnections(limits("1048576"))).toBe(4096);
    expect(defaultMaxConnections(limits("unlimited"))).toBe(4096);
    expect(defaultMaxConnections(path.join(dir, "missing"))).toBe(4096);
  });

  it("reads the connection limits and timeouts from BESKARYUM_HTTP_* and the YAML file", () => {
    const config = load({
      env: {
        BESKARYUM_HTTP_HEADERS_TIMEOUT_MS: "1000",
        BESKARYUM_HTTP_SEND_TIMEOUT_MS: "2000",
        BESKARYUM_HTTP_MAX_CONNECTIONS: "50",
        BESKARYUM_SYNC_WAIT_TIMEOUT_MS: "3000",
        BESKARYUM_STORAGE_FSYNC_TIMEOUT_MS: "4000",
      },
    });
    expect(config.http).toMatchObject({ headersTimeoutMs: 1000, sendTimeoutMs: 2000, maxConnections: 50 });
    expect(config.sync.waitTimeoutMs).toBe(3000);
    expect(config.fsyncTimeoutMs).toBe(4000);
    expect(configError(() => load({ env: { BESKARYUM_HTTP_MAX_CONNECTIONS: "0" } }))).toMatch(
      /BESKARYUM_HTTP_MAX_CONNECTIONS: expected a positive integer/,
    );
  });

  it("reads the proxy variables once (lowercase first), and never shows a proxy password", () => {
    expect(
      load({
        env: {
          HTTP_PROXY: "http://upper:3128",
          http_proxy: "http://u:p@lower:3128",
          HTTPS_PROXY: "proxy.example:8080",
          NO_PROXY: "localhost,.internal",
        },
      }).proxy,
    ).toEqual({ http: "http://u:p@lower:3128", https: "proxy.example:8080", noProxy: "localhost,.internal" });
    const message = configError(() => load({ env: { https_proxy: "ftp://user:s3cret@proxy:21" } }));
    expect(message).toMatch(
      /^invalid configuration: https_proxy: "ftp:\/\/user:\*\*\*@proxy:21" is not an http\(s\) proxy URL/,
    );
    expect(message).not.toContain("s3cret");
  });

  it("reads a Beskar-style YAML file named by --config", () => {
    const cwd = tempDir();
    writeYaml(
      cwd,
      `version: 1.0
addr: 0.0.0.0:5300
log: { level: debug, format: text }
profiling: true
datadir: /var/lib/beskar-yum
gossip:
  addr: "[::1]:7946"
  key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=
  peers: [127.0.0.1:5102, "beskar.example:5102"]
storage:
  driver: filesystem
  prefix: /x
  filesystem: { directory: store }
  s3: { bucket: ignored }
redis: { url: "redis://10.0.0.1:6380/2", prefix: by-1 }
admin_token: from-file
publish: { debounce_ms: 0, max_delay_ms: 500, grace_seconds: 10 }
upload: { max_bytes: 1024, wait_timeout_ms: 5000 }
worker: { concurrency: 8 }
`,
    );
    const config = loadConfig({ argv: ["--config", "beskar-yum.yaml"], env: {}, cwd });
    expect(config).toMatchObject({
      version: "1.0",
      addr: { host: "0.0.0.0", port: 5300 },
      log: { level: "debug", format: "text" },
      profiling: true,
      datadir: "/var/lib/beskar-yum",
      gossip: {
        addr: { host: "::1", port: 7946 },
        key: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        peers: ["127.0.0.1:5102", "beskar.example:5102"],
      },
      storage: {
        driver: "filesystem",
        registryRedirect: false,
        prefix: "x",
        filesystem: { directory: path.join(cwd, "store") },
      },
      redis: { url: "redis://10.0.0.1:6380/2", prefix: "by-1" },
      adminToken: "from-file",
      adminTokenSource: "config",
      publish: { debounceMs: 0, maxDelayMs: 500, graceSeconds: 10 },
      upload: { maxBytes: 1024, waitTimeoutMs: 5000 },
      worker: { concurrency: 8, lockTtlMs: 30_000, reconcileIntervalMs: 30_000 },
      sync: { concurrency: 32, timeoutMs: 30_000, waitTimeoutMs: 1_800_000 },
      configFile: path.join(cwd, "beskar-yum.yaml"),
    });
  });

  it("finds the file through BESKARYUM_CONFIG and --config=FILE, argv first", () => {
    const cwd = tempDir();
    fs.writeFileSync(path.join(cwd, "a.yaml"), "version: 1.0\naddr: 127.0.0.1:1\n");
    fs.writeFileSync(path.join(cwd, "b.yaml"), 'version: "1.0"\naddr: 127.0.0.1:2\n');
    expect(load({ cwd, env: { BESKARYUM_CONFIG: "a.yaml" } }).addr.port).toBe(1);
    expect(load({ cwd, argv: ["--config=b.yaml"], env: { BESKARYUM_CONFIG: "a.yaml" } }).addr.port).toBe(2);
  });

  it("lets BESKARYUM_<PATH> variables override the file, nested keys included", () => {
    const cwd = tempDir();
    const file = writeYaml(cwd, "version: 1.0\naddr: 127.0.0.1:5300\nredis: { url: redis://a:1 }\n");
    const config = load({
      cwd,
      env: {
        BESKARYUM_CONFIG: file,
        BESKARYUM_ADDR: ":5400",
        BESKARYUM_REDIS_URL: "redis://b:2",
        BESKARYUM_REDIS_PREFIX: "bytest-x",
        BESKARYUM_DATADIR: "/srv/by",
        BESKARYUM_STORAGE_FILESYSTEM_DIRECTORY: "/srv/blobs",
        BESKARYUM_STORAGE_PREFIX: "tenant",
        BESKARYUM_GOSSIP_PEERS: "127.0.0.1:5102, 10.0.0.2:5102",
        BESKARYUM_PUBLISH_DEBOUNCE_MS: "50",
        BESKARYUM_UPLOAD_MAX_BYTES: "123",
        BESKARYUM_WORKER_CONCURRENCY: "2",
        BESKARYUM_LOG_LEVEL: "warn",
        BESKARYUM_SOMETHING_ELSE: "ignored",
        BESKARYUM_LOG_FORMAT: "",
      },
    });
    expect(config).toMatchObject({
      addr: { host: "0.0.0.0", port: 5400 },
      redis: { url: "redis://b:2", prefix: "bytest-x" },
      datadir: "/srv/by",
      storage: { prefix: "tenant/", filesystem: { directory: "/srv/blobs" } },
      gossip: { peers: ["127.0.0.1:5102", "10.0.0.2:5102"] },
      publish: { debounceMs: 50 },
      upload: { maxBytes: 123 },
      worker: { concurrency: 2 },
      log: { level: "warn", format: "json" },
    });
  });

  it("puts the storage directory under datadir unless told otherwise", () => {
    const cwd = tempDir();
    const config = load({ cwd, env: { BESKARYUM_DATADIR: "state" } });
    expect(config.datadir).toBe(path.join(cwd, "state"));
    expect(config.storage.filesystem.directory).toBe(path.join(cwd, "state"));
  });

  it.each([
    ["", ""],
    ["/", ""],
    ["x", "x/"],
    ["x/", "x/"],
    ["/x", "x"],
    ["/x/", "x/"],
  ])("normalises storage.prefix %j to %j as Beskar does", (raw, expected) => {
    expect(load({ env: { BESKARYUM_STORAGE_PREFIX: raw || undefined } }).storage.prefix).toBe(expected);
  });

  it.each([
    ["addr: abc", 'invalid configuration: addr: expected host:port, got "abc"'],
    ["addr: 127.0.0.1:70000", "addr: expected host:port"],
    ["log: { level: verbose }", 'log.level: expected one of debug, info, warn, error, got "verbose"'],
    ["storage: { driver: s3 }", "storage.driver: the s3 driver is not supported yet; use filesystem"],
    [
      "storage: { driver: nfs }",
      'storage.driver: expected one of filesystem, registry, s3, gcs, azure, got "nfs"',
    ],
    ["storage: { driver: registry }", "storage.driver: registry needs registry.url"],
    ["storage: { filesystem: { dir: x } }", "storage.filesystem.dir: unknown key"],
    ["color: blue", "color: unknown key"],
    ["gossip: { key: c2hvcnQ= }", "gossip.key: expected a base64 AES key of 16, 24 or 32 bytes, got 5 bytes"],
    ["gossip: { peers: [':5102'] }", 'gossip.peers: expected host:port, got ":5102"'],
    ["redis: { url: 'http://x' }", 'redis.url: expected a redis:// or rediss:// URL, got "http://x"'],
    ["upload: { max_bytes: -1 }", "upload.max_bytes: expected a positive integer, got -1"],
    ["worker: { concurrency: 1.5 }", "worker.concurrency: expected a positive integer, got 1.5"],
    ["worker: { lock_ttl_ms: 10 }", "worker.lock_ttl_ms: expected an integer >= 1000, got 10"],
    [
      "publish: { debounce_ms: 500, max_delay_ms: 100 }",
      "publish.max_delay_ms: max_delay_ms (100) must not be",
    ],
    // A token is a secret: never shown, even when refused.
    [
      "admin_token: 1234",
      "admin_token: expected a non-empty string without spaces (the value is a secret: not shown)",
    ],
    ["worker: 3", "worker: expected a mapping"],
    ["index: { driver: mysql }", 'index.driver: expected one of sqlite, postgres, got "mysql"'],
    ["index: { driver: postgres }", "index.postgres.url: required when index.driver is postgres"],
    [
      "index: { postgres: { url: 'mysql://u:pw@h/db' } }",
      'index.postgres.url: expected a postgres:// or postgresql:// URL, got "mysql://u:***@h/db"',
    ],
  ])("rejects %j naming the key", (yaml, message) => {
    const cwd = tempDir();
    writeYaml(cwd, `version: 1.0\n${yaml}\n`);
    expect(configError(() => load({ cwd, argv: ["--config", "beskar-yum.yaml"] }))).toContain(message);
  });

  it.each([
    [{ BESKARYUM_UPLOAD_MAX_BYTES: "x" }, 'BESKARYUM_UPLOAD_MAX_BYTES: expected a positive integer, got "x"'],
    [{ BESKARYUM_ADDR: "localhost" }, 'BESKARYUM_ADDR: expected host:port, got "localhost"'],
    [{ BESKARYUM_GOSSIP_PEERS: "a:1,b" }, 'BESKARYUM_GOSSIP_PEERS: expected host:port, got "b"'],
    [{ BESKARYUM_PUBLISH_MAX_DELAY_MS: "10" }, "BESKARYUM_PUBLISH_MAX_DELAY_MS: max_delay_ms (10)"],
    [{ BESKARYUM_CONFIG: "missing.yaml" }, "BESKARYUM_CONFIG: cannot read"],
    [
      { BESKARYUM_INDEX_DRIVER: "oracle" },
      'BESKARYUM_INDEX_DRIVER: expected one of sqlite, postgres, got "oracle"',
    ],
  ])("rejects the variable %j by name", (env, message) => {
    expect(configError(() => load({ env }))).toContain(`invalid configuration: ${message}`);
  });

  it("requires version 1.0 in a file, and valid YAML", () => {
    const cwd = tempDir();
    const argv = ["--config", "beskar-yum.yaml"];
    writeYaml(cwd, "addr: 127.0.0.1:1\n");
    expect(configError(() => load({ cwd, argv }))).toContain("version: required in");
    writeYaml(cwd, "version: 2.0\n");
    expect(configError(() => load({ cwd, argv }))).toContain("version: expected 1.0, got 2");
    writeYaml(cwd, "version: 1.0\naddr: [\n");
    expect(configError(() => load({ cwd, argv }))).toContain("--config: ");
    expect(configError(() => load({ cwd, argv: ["--config"] }))).toContain("--config: expected a file name");
  });

  it("accepts an empty file's siblings: null values keep the defaults", () => {
    const cwd = tempDir();
    writeYaml(cwd, "version: 1.0\naddr:\nstorage:\n  s3:\n");
    expect(load({ cwd, argv: ["--config", "beskar-yum.yaml"] }).addr).toEqual({
      host: "127.0.0.1",
      port: 5200,
    });
  });
});

describe("loadConfig admin token", () => {
  it("generates <datadir>/admin-token once (0600) and reuses it", () => {
    const cwd = tempDir();
    const first = loadConfig({ argv: [], env: {}, cwd });
    const file = path.join(cwd, "data", "admin-token");
    expect(first.adminToken).toMatch(/^[0-9a-f]{64}$/);
    expect(first.adminTokenSource).toEqual({ file, generated: true });
    expect(fs.readFileSync(file, "utf8")).toBe(`${first.adminToken}\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(file))).toEqual(["admin-token"]);

    const second = loadConfig({ argv: [], env: {}, cwd });
    expect(second.adminToken).toBe(first.adminToken);
    expect(second.adminTokenSource).toEqual({ file, generated: false });
  });

  it("reads a token written by hand, and replaces an empty file", () => {
    const cwd = tempDir();
    const datadir = path.join(cwd, "deep", "state");
    fs.mkdirSync(datadir, { recursive: true });
    fs.writeFileSync(path.join(datadir, "admin-token"), "  handmade\n");
    const env = { BESKARYUM_DATADIR: datadir };
    expect(loadConfig({ argv: [], env, cwd }).adminToken).toBe("handmade");
    fs.writeFileSync(path.join(datadir, "admin-token"), "\n");
    const config = loadConfig({ argv: [], env, cwd });
    expect(config.adminToken).toMatch(/^[0-9a-f]{64}$/);
    expect(config.adminTokenSource).toMatchObject({ generated: true });
  });

  it("does not touch datadir when a token is configured", () => {
    const cwd = tempDir();
    expect(load({ cwd }).adminTokenSource).toBe("env");
    expect(fs.existsSync(path.join(cwd, "data"))).toBe(false);
  });
});

describe("loadConfig registry", () => {
  it("is off without registry.url", () => {
    expect(load().registry).toBeUndefined();
  });

  it("reads the registry block, with environment overrides and the admin token as notification token", () => {
    const dir = tempDir();
    const file = writeYaml(
      dir,
      "version: 1.0\nregistry:\n  url: http://127.0.0.1:5000/ignored\n  username: alice\n",
    );
    const config = load({ argv: ["--config", file], env: { BESKARYUM_REGISTRY_PASSWORD: "s3cret pw" } });
    expect(config.registry).toEqual({
      url: "http://127.0.0.1:5000",
      username: "alice",
      password: "s3cret pw",
      notificationsToken: "t0ken",
    });
    const withToken = load({
      env: { BESKARYUM_REGISTRY_URL: "https://reg.example", BESKARYUM_REGISTRY_NOTIFICATIONS_TOKEN: "hook" },
    });
    expect(withToken.registry).toEqual({ url: "https://reg.example", notificationsToken: "hook" });
  });

  it("refuses a registry URL that is not http(s)", () => {
    expect(configError(() => load({ env: { BESKARYUM_REGISTRY_URL: "ftp://x" } }))).toMatch(
      /BESKARYUM_REGISTRY_URL: expected an http:\/\/ or https:\/\/ URL/,
    );
  });
});
