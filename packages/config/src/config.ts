/**
 * The resolved configuration of one process. Read once at startup by `loadConfig` and passed down;
 * nothing below the apps' entry points reads `process.env`.
 *
 * YAML keys are given in the comments; each is overridable by `BESKARYUM_<PATH_UPPER>` with `_`
 * between path parts (SPEC §4), e.g. `BESKARYUM_STORAGE_FILESYSTEM_DIRECTORY`.
 */
export interface Config {
  /** `version`: must be "1.0" (Beskar's config format). */
  version: string;
  /** `addr`: HTTP listen address. Default `127.0.0.1:5200`. */
  addr: HostPort;
  /**
   * `log`: pino level and format. Defaults `info` / `json`; `text` writes slog TextHandler lines
   * (`time=... level=INFO msg="..." key=value`), see `withLogFormat`.
   */
  log: {
    level: "debug" | "info" | "warn" | "error";
    format: "json" | "text";
    /**
     * `log.repository_info` (default true): repository logs get INFO lines for uploads, removals,
     * publishes and syncs; false keeps errors only, as Beskar's (its integration tests expect no
     * lines after normal work).
     */
    repositoryInfo: boolean;
  };
  /**
   * `profiling` (default false): SIGUSR2 starts a CPU profile of the process and a second SIGUSR2
   * writes it to `<datadir>/profiles/` (`installCpuProfiler`); Beskar's pprof endpoints do not exist here.
   */
  profiling: boolean;
  /** `datadir`: local state (admin token, private Redis). Default `./data`, made absolute. */
  datadir: string;
  /** `redis`: `url` default `redis://127.0.0.1:6379`, `prefix` default `beskar-yum`. */
  redis: { url: string; prefix: string };
  /** `admin_token`: bearer token for the admin API and uploads; generated into `<datadir>/admin-token` when unset. */
  adminToken: string;
  /** Where the admin token came from, for the one startup log line. */
  adminTokenSource: "config" | "env" | { file: string; generated: boolean };
  /** `gossip`: Beskar plugin mode is on when `peers` is non-empty. */
  gossip: { addr: HostPort; key: string; peers: string[] };
  /**
   * `storage`: `driver: filesystem` (default) keeps packages and repodata under `directory`;
   * `driver: registry` makes the OCI registry of `registry.url` their primary store (with
   * `index.driver: postgres`), the directory only a cache of it. `driver: s3|gcs|azure` is refused
   * at start (CONFIG_INVALID naming `storage.driver`); `storage.s3|gcs|azure` sections are accepted
   * and unused, as in Beskar when the driver is another. `directory` defaults to `datadir`.
   * `registry.redirect` (default false): content requests are answered 301 to the registry's blob
   * URL (as Beskar does) instead of being streamed through this node.
   */
  storage: {
    driver: "filesystem" | "registry";
    registryRedirect: boolean;
    prefix: string;
    filesystem: { directory: string };
  };
  /**
   * `index`: where the repository indexes live. `driver: sqlite` (default): one SQLite file per
   * repository in its directory; `driver: postgres`: every repository's index in the PostgreSQL
   * database of `postgres.url` (`BESKARYUM_INDEX_POSTGRES_URL`), blobs and repodata still on disk.
   */
  index: { driver: "sqlite" } | { driver: "postgres"; postgres: { url: string } };
  /** `publish`: `debounce_ms` (default 200) groups bursts of events into one publish; `grace_seconds` (default 300) keeps the previous generation's files readable. */
  publish: { debounceMs: number; maxDelayMs: number; graceSeconds: number };
  /** `upload`: `max_bytes` (default 4 GiB) and `wait_timeout_ms` (default 60000) for `?wait=true`. */
  upload: { maxBytes: number; waitTimeoutMs: number };
  /**
   * `worker`: `concurrency` (default 4) repositories processed at once per worker process;
   * `lock_ttl_ms` (default 30000): how long a crashed worker's repository lock outlives it;
   * `reconcile_interval_ms` (default 30000): how often storage is scanned for work whose trigger was lost.
   */
  worker: { concurrency: number; lockTtlMs: number; reconcileIntervalMs: number };
  /**
   * `sync`: mirror downloads. `concurrency` (default 32) parallel package downloads per sync;
   * `timeout_ms` (default 30000): an upstream that sends no headers or no bytes for this long has stalled.
   */
  sync: { concurrency: number; timeoutMs: number; waitTimeoutMs: number };
  /**
   * `http`: the API's connection limits (README "Limits and timeouts"). `headers_timeout_ms` (10000)
   * to receive a request's headers; `request_timeout_ms` (30000) to receive a whole non-upload
   * request; `upload_idle_timeout_ms` (60000): an upload body silent this long is dropped (no limit
   * on an upload's total time); `keep_alive_timeout_ms` (5000) between requests of a connection;
   * `send_timeout_ms` (30000): a client that reads nothing of its response this long is dropped;
   * `max_connections` (4096, or `ulimit -n` minus 256 when lower) open connections per API process, more are closed at once.
   */
  http: HttpLimits;
  /**
   * How the API serves content (README "Serving performance"). `http.workers` (default 1): API
   * processes sharing the listening port (node:cluster), `auto` for one per core; standalone only
   * (plugin mode and a registry replica keep one process). `http.content_cache_bytes` (default 64 MiB):
   * bodies of hot repodata and packages held in memory per API process, 0 for none.
   * `http.accel_redirect` (default false): stored files are answered with `X-Accel-Redirect` to a
   * front nginx that declares it on the request (README "Behind nginx"), when they are at least
   * `http.accel_redirect_min_bytes` (default 1 MiB) long.
   * `http.front_tree` (unset: off): a directory of the public URL space that the worker keeps in step
   * with each publish, for a front nginx to send packages and repodata from (README "Behind nginx").
   * `http.public_url`: the URL clients reach the API at (`https://yum.example.com`), used in `.repo`
   * files; when unset, it is taken from each request (`X-Forwarded-Proto`/`-Host`, else `Host`).
   */
  serving: {
    workers: number | "auto";
    contentCacheBytes: number;
    accelRedirect: boolean;
    accelRedirectMinBytes: number;
    publicUrl?: string;
    frontTree?: string;
  };
  /**
   * `signing`: the key that signs the repomd.xml we publish (README "Signing"). `key_file`: an
   * armored OpenPGP secret key; when unset, one is generated into `<datadir>/signing-key.asc`.
   * `passphrase` (best given as `BESKARYUM_SIGNING_PASSPHRASE`): the key file's passphrase.
   */
  signing: { keyFile?: string; passphrase?: string };
  /**
   * `limits`: bounds on what one repository may grow to. `max_packages_per_repository` (default
   * 500000): an upload of a new package beyond it gets 400 `REPO_PACKAGE_LIMIT`, a sync of an
   * upstream listing more fails before downloading; `max_open_indexes` (default 256) index
   * connections kept open per process (3 file descriptors each; idle ones beyond it are closed);
   * `log_max_age_days` (default 30) and `log_max_rows` (default 10000) per repository log.
   */
  limits: {
    maxPackagesPerRepository: number;
    maxOpenIndexes: number;
    logMaxAgeDays: number;
    logMaxRows: number;
  };
  /**
   * `storage.fsync_timeout_ms` (default 120000): how long making a sync's new blobs durable may take
   * (`sync -f`, then per-file fsync in what is left of it) before the sync fails.
   */
  fsyncTimeoutMs: number;
  /**
   * `registry`: an OCI registry replica (SPEC §7), off unless `url` is set. The worker pushes every
   * repository there in Beskar's layout; the API takes the registry's webhook notifications at
   * `POST /artifacts/yum/registry/events`.
   */
  registry?: RegistryConfig;
  /**
   * Upstream HTTP proxies from the environment (`HTTP_PROXY`/`http_proxy`, `HTTPS_PROXY`/`https_proxy`,
   * `NO_PROXY`/`no_proxy`; lowercase wins, as curl reads them), read once here and passed to mirror
   * syncs and on_demand fetches. A repository's `proxy_url` wins over them.
   */
  proxy: ProxyConfig;
  /** Added by load-config: the absolute path of the YAML file read (`--config` / `BESKARYUM_CONFIG`), if any. */
  configFile?: string;
}

export interface ProxyConfig {
  /** Proxy for http:// upstreams. */
  http?: string;
  /** Proxy for https:// upstreams (reached through a CONNECT tunnel). */
  https?: string;
  /** Hosts reached directly: a comma list of `host`, `.suffix`, `suffix`, `host:port`, `*`. */
  noProxy?: string;
}

export interface RegistryConfig {
  /** `registry.url`: `http(s)://host:port` of the registry. */
  url: string;
  /** `registry.username` / `registry.password`: basic auth to the registry, when it wants it. */
  username?: string;
  password?: string;
  /** `registry.token`: a bearer token to the registry (wins over basic auth). */
  token?: string;
  /**
   * `registry.notifications_token`: the bearer token the registry's notification endpoint sends
   * (`Authorization: Bearer <token>` in its `headers`). Defaults to the admin token.
   */
  notificationsToken: string;
}

export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  uploadIdleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  sendTimeoutMs: number;
  maxConnections: number;
}

export interface HostPort {
  host: string;
  port: number;
}
