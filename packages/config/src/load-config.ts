import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { redactText, redactUrl, YumError } from "@beskar-yum/errors";
import { parse as parseYaml } from "yaml";
import type { Config, HostPort } from "./config.js";

export interface LoadConfigOptions {
  /** Command-line arguments; `--config FILE` (or `--config=FILE`) names the YAML file. Default `process.argv.slice(2)`. */
  argv?: string[];
  /** `BESKARYUM_CONFIG` (the file, when argv has none) and the `BESKARYUM_<PATH>` overrides. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Directory that relative paths (file, datadir, storage directory) are resolved against. Default `process.cwd()`. */
  cwd?: string;
}

/** Beskar's default gossip key (32 bytes, AES-256-GCM). */
const BESKAR_GOSSIP_KEY = "XD1IOhcp0HWFgZJ/HAaARqMKJwfMWtz284Yj7wxmerA=";
const ENV_PREFIX = "BESKARYUM_";
const ADMIN_TOKEN_FILE = "admin-token";

/** A value that does not fit its key; the loader adds `invalid configuration: <key>: ` in front. */
class Invalid extends Error {}

type Parser<T> = (value: unknown) => T;

/** Every key of the YAML file we read (dotted path → parser). Env names derive from these paths. */
const fields = {
  version: parseVersion,
  addr: parseHostPort,
  "log.level": oneOf(["debug", "info", "warn", "error"] as const),
  "log.format": oneOf(["json", "text"] as const),
  "log.repository_info": parseBoolean,
  profiling: parseBoolean,
  datadir: parsePath,
  "gossip.addr": parseHostPort,
  "gossip.key": parseGossipKey,
  "gossip.peers": parsePeers,
  "storage.driver": parseStorageDriver,
  "storage.prefix": parseStoragePrefix,
  "index.driver": oneOf(["sqlite", "postgres"] as const),
  "index.postgres.url": parsePostgresUrl,
  "storage.filesystem.directory": parsePath,
  "redis.url": parseRedisUrl,
  "redis.prefix": parseToken,
  admin_token: parseSecretToken,
  "publish.debounce_ms": parseInteger(0),
  "publish.max_delay_ms": parseInteger(1),
  "publish.grace_seconds": parseInteger(0),
  "upload.max_bytes": parseInteger(1),
  "upload.wait_timeout_ms": parseInteger(1),
  "worker.concurrency": parseInteger(1),
  "worker.lock_ttl_ms": parseInteger(1000),
  "worker.reconcile_interval_ms": parseInteger(100),
  "sync.concurrency": parseInteger(1),
  "sync.timeout_ms": parseInteger(100),
  "sync.wait_timeout_ms": parseInteger(100),
  "storage.fsync_timeout_ms": parseInteger(100),
  "storage.registry.redirect": parseBoolean,
  "http.headers_timeout_ms": parseInteger(100),
  "http.request_timeout_ms": parseInteger(100),
  "http.upload_idle_timeout_ms": parseInteger(100),
  "http.keep_alive_timeout_ms": parseInteger(100),
  "http.send_timeout_ms": parseInteger(100),
  "http.max_connections": parseInteger(1),
  "http.workers": parseWorkers,
  "http.content_cache_bytes": parseInteger(0),
  "http.accel_redirect": parseBoolean,
  "http.accel_redirect_min_bytes": parseInteger(0),
  "http.public_url": parsePublicUrl,
  "http.front_tree": parsePath,
  "signing.key_file": parsePath,
  "signing.passphrase": parsePassphrase,
  "limits.max_packages_per_repository": parseInteger(1),
  "limits.max_open_indexes": parseInteger(1),
  "limits.log_max_age_days": parseInteger(1),
  "limits.log_max_rows": parseInteger(1),
  "registry.url": parseRegistryUrl,
  "registry.username": parseToken,
  "registry.password": parseSecret,
  "registry.token": parseSecretToken,
  "registry.notifications_token": parseSecretToken,
} as const satisfies Record<string, Parser<unknown>>;

/** Beskar keys accepted for compatibility and not used (yet). */
const ignoredKeys = new Set(["storage.s3", "storage.gcs", "storage.azure"]);

type FieldName = keyof typeof fields;
type Values = { -readonly [K in FieldName]?: ReturnType<(typeof fields)[K]> };

const fieldNames = Object.keys(fields) as FieldName[];
const isFieldName = (key: string): key is FieldName => Object.hasOwn(fields, key);
const sections = new Set(
  fieldNames.flatMap((name) =>
    name
      .split(".")
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join(".")),
  ),
);

/** `BESKARYUM_STORAGE_FILESYSTEM_DIRECTORY` for `storage.filesystem.directory`. */
function envName(key: string): string {
  return ENV_PREFIX + key.replaceAll(".", "_").toUpperCase();
}

/**
 * Reads the configuration once at startup: defaults (SPEC §4), then the YAML file (`--config FILE` or
 * `BESKARYUM_CONFIG`), then `BESKARYUM_<PATH_UPPER>` variables. An empty variable counts as unset.
 * Without `admin_token`, the token is read from `<datadir>/admin-token`, or generated there (mode 0600).
 * @throws YumError `CONFIG_INVALID`, its message naming the key (or variable) at fault.
 */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const argv = opts.argv ?? process.argv.slice(2);
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();

  const values: Values = {};
  /** Where each value came from: the YAML key or the variable name, for error messages. */
  const origin = new Map<FieldName, string>();

  const source = configFile(argv, env, cwd);
  if (source !== undefined) {
    readFile(source, values, origin);
    if (values.version === undefined) throw invalid("version", `required in ${source.file} (version: 1.0)`);
  }
  for (const name of fieldNames) {
    const variable = envName(name);
    const raw = env[variable];
    if (raw === undefined || raw === "") continue;
    assign(values, name, raw, variable);
    origin.set(name, variable);
  }

  const publish = {
    debounceMs: values["publish.debounce_ms"] ?? 200,
    maxDelayMs: values["publish.max_delay_ms"] ?? 2000,
    graceSeconds: values["publish.grace_seconds"] ?? 300,
  };
  if (publish.maxDelayMs < publish.debounceMs) {
    throw invalid(
      origin.get("publish.max_delay_ms") ?? origin.get("publish.debounce_ms") ?? "publish.max_delay_ms",
      `max_delay_ms (${publish.maxDelayMs}) must not be smaller than debounce_ms (${publish.debounceMs})`,
    );
  }

  const datadir = path.resolve(cwd, values.datadir ?? "data");
  const directory = values["storage.filesystem.directory"];
  const token = adminToken(values.admin_token, origin.get("admin_token"), datadir);
  const config: Config = {
    version: values.version ?? "1.0",
    addr: values.addr ?? { host: "127.0.0.1", port: 5200 },
    log: {
      level: values["log.level"] ?? "info",
      format: values["log.format"] ?? "json",
      repositoryInfo: values["log.repository_info"] ?? true,
    },
    profiling: values.profiling ?? false,
    datadir,
    redis: {
      url: values["redis.url"] ?? "redis://127.0.0.1:6379",
      prefix: values["redis.prefix"] ?? "beskar-yum",
    },
    adminToken: token.token,
    adminTokenSource: token.source,
    gossip: {
      addr: values["gossip.addr"] ?? { host: "0.0.0.0", port: 5201 },
      key: values["gossip.key"] ?? BESKAR_GOSSIP_KEY,
      peers: values["gossip.peers"] ?? [],
    },
    storage: {
      driver: values["storage.driver"] ?? "filesystem",
      registryRedirect: values["storage.registry.redirect"] ?? false,
      prefix: values["storage.prefix"] ?? "",
      filesystem: { directory: directory === undefined ? datadir : path.resolve(cwd, directory) },
    },
    publish,
    upload: {
      maxBytes: values["upload.max_bytes"] ?? 4 * 1024 ** 3,
      waitTimeoutMs: values["upload.wait_timeout_ms"] ?? 60_000,
    },
    worker: {
      concurrency: values["worker.concurrency"] ?? 4,
      lockTtlMs: values["worker.lock_ttl_ms"] ?? 30_000,
      reconcileIntervalMs: values["worker.reconcile_interval_ms"] ?? 30_000,
    },
    sync: {
      concurrency: values["sync.concurrency"] ?? 32,
      timeoutMs: values["sync.timeout_ms"] ?? 30_000,
      waitTimeoutMs: values["sync.wait_timeout_ms"] ?? 30 * 60_000,
    },
    http: {
      headersTimeoutMs: values["http.headers_timeout_ms"] ?? 10_000,
      requestTimeoutMs: values["http.request_timeout_ms"] ?? 30_000,
      uploadIdleTimeoutMs: values["http.upload_idle_timeout_ms"] ?? 60_000,
      keepAliveTimeoutMs: values["http.keep_alive_timeout_ms"] ?? 5_000,
      sendTimeoutMs: values["http.send_timeout_ms"] ?? 30_000,
      maxConnections: values["http.max_connections"] ?? defaultMaxConnections(),
    },
    serving: {
      workers: values["http.workers"] ?? 1,
      contentCacheBytes: values["http.content_cache_bytes"] ?? 64 * 1024 * 1024,
      accelRedirect: values["http.accel_redirect"] ?? false,
      accelRedirectMinBytes: values["http.accel_redirect_min_bytes"] ?? 1024 * 1024,
      ...(values["http.public_url"] !== undefined ? { publicUrl: values["http.public_url"] } : {}),
    },
    signing: signingOf(values, cwd),
    fsyncTimeoutMs: values["storage.fsync_timeout_ms"] ?? 120_000,
    limits: {
      maxPackagesPerRepository: values["limits.max_packages_per_repository"] ?? 500_000,
      maxOpenIndexes: values["limits.max_open_indexes"] ?? 256,
      logMaxAgeDays: values["limits.log_max_age_days"] ?? 30,
      logMaxRows: values["limits.log_max_rows"] ?? 10_000,
    },
    proxy: {},
    index: { driver: "sqlite" },
  };
  const indexDriver = values["index.driver"] ?? "sqlite";
  const postgresUrl = values["index.postgres.url"];
  if (indexDriver === "postgres") {
    if (postgresUrl === undefined)
      throw invalid(
        "index.postgres.url",
        "required when index.driver is postgres (postgres://user@host:port/database)",
      );
    config.index = { driver: "postgres", postgres: { url: postgresUrl } };
  }
  const registryUrl = values["registry.url"];
  config.proxy = proxyFromEnv(env);
  if (registryUrl !== undefined) {
    config.registry = {
      url: registryUrl,
      ...(values["registry.username"] !== undefined ? { username: values["registry.username"] } : {}),
      ...(values["registry.password"] !== undefined ? { password: values["registry.password"] } : {}),
      ...(values["registry.token"] !== undefined ? { token: values["registry.token"] } : {}),
      notificationsToken: values["registry.notifications_token"] ?? token.token,
    };
  }
  if (config.storage.driver === "registry") {
    // The datadir is then a cache: a machine's own disk must hold nothing another node needs.
    const key = origin.get("storage.driver") ?? "storage.driver";
    if (!config.registry)
      throw invalid(key, "registry needs registry.url (the OCI registry that stores packages and repodata)");
    if (config.index.driver !== "postgres")
      throw invalid(
        key,
        "registry needs index.driver: postgres (an index on a local disk ties each repository to one machine)",
      );
  }
  if (config.storage.registryRedirect) {
    const key = origin.get("storage.registry.redirect") ?? "storage.registry.redirect";
    if (config.storage.driver !== "registry")
      throw invalid(key, "redirects to the registry need storage.driver: registry");
    // dnf cannot authenticate to the registry: it must serve blobs to anyone.
    if (config.registry?.username !== undefined || config.registry?.token !== undefined)
      throw invalid(
        key,
        "clients are sent to the registry without credentials: not with registry.username or registry.token",
      );
  }
  const frontTree = values["http.front_tree"];
  if (frontTree !== undefined) {
    config.serving.frontTree = frontTreeOf(
      path.resolve(cwd, frontTree),
      [datadir, config.storage.filesystem.directory],
      origin.get("http.front_tree") ?? "http.front_tree",
    );
  }
  if (source !== undefined) config.configFile = source.file;
  return config;
}

/**
 * `http.front_tree`: nginx serves whatever is in it, so it must share no directory with the data
 * (the indexes, which hold mirror credentials, and the admin token live there).
 */
function frontTreeOf(dir: string, data: string[], key: string): string {
  const inside = (a: string, b: string) => a === b || a.startsWith(b.endsWith(path.sep) ? b : b + path.sep);
  for (const other of data) {
    if (inside(dir, other) || inside(other, dir))
      throw invalid(
        key,
        `${dir} overlaps the data directory ${other}: the front serves this directory, give it one of its own`,
      );
  }
  return dir;
}

/** `signing.key_file` made absolute; the passphrase as given (a secret: never shown in errors). */
function signingOf(values: Values, cwd: string): Config["signing"] {
  const keyFile = values["signing.key_file"];
  const passphrase = values["signing.passphrase"];
  return {
    ...(keyFile !== undefined ? { keyFile: path.resolve(cwd, keyFile) } : {}),
    ...(passphrase !== undefined ? { passphrase } : {}),
  };
}

/**
 * `http.max_connections` when unset: 4096, or fewer when the process may open fewer files
 * (`ulimit -n`, read from /proc/self/limits on Linux): 256 descriptors are kept for packages,
 * indexes and Redis, so that connections never starve the files a request needs.
 */
export function defaultMaxConnections(limits = "/proc/self/limits"): number {
  let soft: number | undefined;
  try {
    const line = fs
      .readFileSync(limits, "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const value = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    if (value && /^\d+$/.test(value)) soft = Number(value);
  } catch {
    // Not Linux, or no /proc: the plain default.
  }
  return soft === undefined ? 4096 : Math.max(64, Math.min(4096, soft - 256));
}

/**
 * The standard proxy variables (lowercase first: curl ignores uppercase `HTTP_PROXY`, which a CGI
 * request's `Proxy:` header could set). A proxy URL must parse; its password never shows in the error.
 */
function proxyFromEnv(env: Record<string, string | undefined>): Config["proxy"] {
  const pick = (name: string) => {
    const value = env[name.toLowerCase()] || env[name.toUpperCase()];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const proxy: Config["proxy"] = {};
  for (const [key, name] of [
    ["http", "http_proxy"],
    ["https", "https_proxy"],
  ] as const) {
    const value = pick(name);
    if (value === undefined) continue;
    if (!isProxyUrl(value)) {
      const shown = redactUrl(value);
      throw invalid(name, `${JSON.stringify(shown)} is not an http(s) proxy URL`);
    }
    proxy[key] = value;
  }
  const noProxy = pick("no_proxy");
  if (noProxy !== undefined) proxy.noProxy = noProxy;
  return proxy;
}

/** `http(s)://[user:pass@]host[:port][/]`, or `host:port` (meaning http), as proxy variables hold. */
function isProxyUrl(value: string): boolean {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

function invalid(key: string, problem: string, details: Record<string, unknown> = {}): YumError {
  return new YumError("CONFIG_INVALID", `invalid configuration: ${key}: ${problem}`, { key, ...details });
}

function assign<K extends FieldName>(values: Values, name: K, raw: unknown, label: string): void {
  try {
    values[name] = fields[name](raw) as Values[K];
  } catch (err) {
    if (err instanceof Invalid) throw invalid(label, err.message);
    throw err;
  }
}

/** `--config FILE` / `--config=FILE` wins over `BESKARYUM_CONFIG`; the path is made absolute. */
function configFile(
  argv: string[],
  env: Record<string, string | undefined>,
  cwd: string,
): { file: string; label: string } | undefined {
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--config") {
      file = argv[i + 1];
      if (file === undefined || file === "" || file.startsWith("--"))
        throw invalid("--config", "expected a file name");
      i++;
    } else if (arg.startsWith("--config=")) {
      file = arg.slice("--config=".length);
      if (file === "") throw invalid("--config", "expected a file name");
    }
  }
  if (file !== undefined) return { file: path.resolve(cwd, file), label: "--config" };
  const fromEnv = env[`${ENV_PREFIX}CONFIG`];
  return fromEnv ? { file: path.resolve(cwd, fromEnv), label: `${ENV_PREFIX}CONFIG` } : undefined;
}

function readFile(
  { file, label }: { file: string; label: string },
  values: Values,
  origin: Map<FieldName, string>,
): void {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw invalid(label, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw invalid(label, `${file} is not valid YAML: ${(err as Error).message}`);
  }
  const walk = (node: unknown, section: string): void => {
    if (!isMapping(node)) throw invalid(section || label, `expected a mapping in ${file}, got ${show(node)}`);
    for (const [key, value] of Object.entries(node)) {
      const dotted = section === "" ? key : `${section}.${key}`;
      if (ignoredKeys.has(dotted) || value === null) continue;
      if (isFieldName(dotted)) {
        assign(values, dotted, value, dotted);
        origin.set(dotted, dotted);
      } else if (sections.has(dotted)) {
        walk(value, dotted);
      } else {
        throw invalid(dotted, `unknown key in ${file} (known here: ${knownKeys(section).join(", ")})`, {
          file,
        });
      }
    }
  };
  if (doc !== null && doc !== undefined) walk(doc, "");
}

function knownKeys(section: string): string[] {
  const all = [...fieldNames, ...ignoredKeys, ...sections];
  const depth = section === "" ? 0 : section.split(".").length;
  const inside = all.filter((k) => section === "" || k.startsWith(`${section}.`));
  return [...new Set(inside.map((k) => k.split(".")[depth] ?? ""))].filter((k) => k !== "");
}

/** The admin token from the configuration, else `<datadir>/admin-token`, else a new one written there. */
function adminToken(
  configured: string | undefined,
  origin: string | undefined,
  datadir: string,
): { token: string; source: Config["adminTokenSource"] } {
  if (configured !== undefined) {
    return { token: configured, source: origin?.startsWith(ENV_PREFIX) ? "env" : "config" };
  }
  const file = path.join(datadir, ADMIN_TOKEN_FILE);
  const existing = readTokenFile(file);
  if (existing) return { token: existing, source: { file, generated: false } };

  const token = randomBytes(32).toString("hex");
  let tmp: string | undefined;
  try {
    fs.mkdirSync(datadir, { recursive: true, mode: 0o700 });
    tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    const fd = fs.openSync(tmp, "wx", 0o600);
    try {
      fs.writeSync(fd, `${token}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (existing === undefined) {
      // link() never replaces: when the API and a worker start together, the first token written wins.
      fs.linkSync(tmp, file);
    } else {
      fs.renameSync(tmp, file); // an empty file left behind: replace it
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      const winner = readTokenFile(file);
      if (winner) return { token: winner, source: { file, generated: false } };
    }
    throw invalid(
      "datadir",
      `cannot write the admin token to ${file} (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  } finally {
    if (tmp !== undefined) fs.rmSync(tmp, { force: true });
  }
  return { token, source: { file, generated: true } };
}

/** The trimmed token, `""` for an empty file, `undefined` when the file does not exist. */
function readTokenFile(file: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw invalid("datadir", `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const token = text.trim();
  if (/\s/.test(token)) throw invalid("datadir", `${file} must hold one token on one line`);
  return token;
}

// ---- value parsers ---------------------------------------------------------------------------

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  // A URL's password (redis.url, registry.url) never shows in an error.
  if (typeof value === "string") return JSON.stringify(redactText(value));
  if (Array.isArray(value)) return "a list";
  if (isMapping(value)) return "a mapping";
  return String(value);
}

function expectString(value: unknown, what = "a string"): string {
  if (typeof value !== "string") throw new Invalid(`expected ${what}, got ${show(value)}`);
  return value;
}

/** `version: 1.0` reads as the number 1 in YAML 1.2; a quoted "1.0" is accepted too. */
function parseVersion(value: unknown): string {
  if (value === 1 || value === "1.0" || value === "1") return "1.0";
  throw new Invalid(`expected 1.0, got ${show(value)}`);
}

const HOST_PORT = /^(?:\[([0-9A-Za-z:.%]*)\]|([^:[\]\s]*)):(\d{1,5})$/;

/** `host:port`, `[v6]:port` or `:port` (all interfaces); port 0 lets the OS choose. */
function parseHostPort(value: unknown): HostPort {
  const text = expectString(value, "host:port");
  const m = HOST_PORT.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new Invalid(`expected host:port, got ${show(value)}`);
  return { host: (m[1] ?? m[2]) || "0.0.0.0", port };
}

/** A list in YAML, comma-separated in the environment; each peer needs a host and a non-zero port. */
function parsePeers(value: unknown): string[] {
  const list = typeof value === "string" ? value.split(",").map((p) => p.trim()) : value;
  if (!Array.isArray(list)) throw new Invalid(`expected a list of host:port, got ${show(value)}`);
  const peers = list.filter((p) => p !== "");
  for (const peer of peers) {
    const m = typeof peer === "string" ? HOST_PORT.exec(peer) : null;
    const port = Number(m?.[3]);
    if (!m || !(m[1] ?? m[2]) || port === 0 || port > 65535) {
      throw new Invalid(`expected host:port, got ${show(peer)}`);
    }
  }
  return peers as string[];
}

function parseGossipKey(value: unknown): string {
  const text = expectString(value, "a base64 key");
  const valid = /^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0;
  const size = valid ? Buffer.from(text, "base64").length : 0;
  if (![16, 24, 32].includes(size)) {
    throw new Invalid(
      `expected a base64 AES key of 16, 24 or 32 bytes, got ${valid ? `${size} bytes` : show(value)}`,
    );
  }
  return text;
}

function parseStorageDriver(value: unknown): "filesystem" | "registry" {
  const text = expectString(value);
  if (text === "filesystem" || text === "registry") return text;
  if (text === "s3" || text === "gcs" || text === "azure") {
    throw new Invalid(
      `the ${text} driver is not supported yet; use filesystem, or registry (an OCI registry that stores to ${text})`,
    );
  }
  throw new Invalid(`expected one of filesystem, registry, s3, gcs, azure, got ${show(value)}`);
}

/** Beskar's `storage.GetPrefix`, kept as is so both share bucket layouts: "/x" -> "x", "x" -> "x/", "/" -> "". */
function parseStoragePrefix(value: unknown): string {
  const prefix = expectString(value);
  if (prefix === "" || prefix === "/") return "";
  if (prefix.startsWith("/")) return prefix.slice(1);
  return prefix.endsWith("/") ? prefix : `${prefix}/`;
}

function parsePath(value: unknown): string {
  const text = expectString(value, "a path");
  if (text.trim() === "") throw new Invalid("expected a path, got an empty string");
  return text;
}

/** `text` as a URL, or undefined when it is not one (the caller says what it expected). */
function urlOrUndefined(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** An http:// or https:// URL of an OCI registry (its origin; a path is not used). */
function parseRegistryUrl(value: unknown): string {
  const text = expectString(value, "an http:// or https:// URL");
  const url = urlOrUndefined(text);
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    throw new Invalid(`expected an http:// or https:// URL, got ${show(value)}`);
  }
  return url.origin;
}

/** A `postgres://` (or `postgresql://`) connection URL; its password never shows in an error. */
function parsePostgresUrl(value: unknown): string {
  const text = expectString(value, "a postgres:// URL");
  const url = urlOrUndefined(text);
  if (!url || (url.protocol !== "postgres:" && url.protocol !== "postgresql:") || url.hostname === "") {
    throw new Invalid(`expected a postgres:// or postgresql:// URL, got ${JSON.stringify(redactUrl(text))}`);
  }
  return text;
}

/** `http.public_url`: an http(s) URL without credentials, query or fragment; kept without a trailing `/`. */
function parsePublicUrl(value: unknown): string {
  const text = expectString(value, "an http:// or https:// URL");
  const url = urlOrUndefined(text);
  if (
    !url ||
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    url.hostname === "" ||
    url.username !== "" ||
    url.password !== "" ||
    url.search !== "" ||
    url.hash !== ""
  ) {
    throw new Invalid(`expected an http:// or https:// URL without credentials or query, got ${show(value)}`);
  }
  return url.href.replace(/\/+$/, "");
}

/** A key's passphrase: any non-empty text (a YAML number too), never shown in an error. */
function parsePassphrase(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value !== "string" || value === "")
    throw new Invalid("expected a non-empty string (the value is a secret: not shown)");
  return value;
}

/** Any non-empty string (passwords may hold spaces). */
function parseSecret(value: unknown): string {
  const text = expectString(value);
  if (text === "") throw new Invalid("expected a non-empty string");
  return text;
}

function parseRedisUrl(value: unknown): string {
  const text = expectString(value, "a redis:// URL");
  const url = urlOrUndefined(text);
  if (!url || (url.protocol !== "redis:" && url.protocol !== "rediss:") || url.hostname === "") {
    throw new Invalid(`expected a redis:// or rediss:// URL, got ${show(value)}`);
  }
  return text;
}

/** A token: a non-empty string without whitespace, never shown in an error (it is a secret). */
function parseSecretToken(value: unknown): string {
  if (typeof value !== "string" || value === "" || /\s/.test(value))
    throw new Invalid("expected a non-empty string without spaces (the value is a secret: not shown)");
  return value;
}

/** A non-empty string without whitespace (tokens, key prefixes). */
function parseToken(value: unknown): string {
  const text = expectString(value);
  if (text === "" || /\s/.test(text))
    throw new Invalid(`expected a non-empty string without spaces, got ${show(value)}`);
  return text;
}

/** `http.workers`: a positive integer, or `auto` (one API process per core). */
function parseWorkers(value: unknown): number | "auto" {
  if (value === "auto") return "auto";
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1 || n > 256)
    throw new Invalid(`expected auto or an integer from 1 to 256, got ${show(value)}`);
  return n;
}

function parseInteger(min: number): Parser<number> {
  const what =
    min === 0 ? "a non-negative integer" : min === 1 ? "a positive integer" : `an integer >= ${min}`;
  return (value) => {
    const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min)
      throw new Invalid(`expected ${what}, got ${show(value)}`);
    return n;
  };
}

/** A YAML boolean, or true/false (any case) from a variable. */
function parseBoolean(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  throw new Invalid(`expected true or false, got ${show(value)}`);
}

function oneOf<const T extends readonly string[]>(choices: T): Parser<T[number]> {
  return (value) => {
    if (typeof value === "string" && choices.includes(value)) return value as T[number];
    throw new Invalid(`expected one of ${choices.join(", ")}, got ${show(value)}`);
  };
}
