import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import {
  assertAdminTokenRule,
  type Config,
  indexStorageOptions,
  installCpuProfiler,
  redactingLogOptions,
  runService,
  type StopService,
  withLogFormat,
} from "@beskar-yum/config";
import { RegistryClient, registryClientOptions } from "@beskar-yum/oci";
import { createRedis, RepoLock, RepoTrigger, SyncQueue } from "@beskar-yum/queue";
import { FrontTree, RepositoryService, recheckPendingWork, registryHoldings } from "@beskar-yum/repository";
import { loadSigningKey } from "@beskar-yum/signing";
import { RegistryBlobs, RepositoryStorage } from "@beskar-yum/storage";
import { pino } from "pino";
import { apiProcessCount, clusterMetrics, isApiWorker, joinCluster, runPrimary } from "./api-cluster.js";
import { buildApp } from "./app.js";
import { serverOptions } from "./connection-limits.js";
import { ContentCache } from "./content-cache.js";
import { ApiMetrics } from "./metrics.js";
import { startPluginMode } from "./plugin/start-plugin-mode.js";
import { installProcessGuards } from "./process-guards.js";
import { RegistryEvents } from "./registry/registry-events.js";
import { apiRuntimeFiles, runtimePath } from "./runtime-files.js";
import { StateMetrics } from "./state-metrics.js";

const version = (
  JSON.parse(readFileSync(runtimePath(apiRuntimeFiles.packageJson), "utf8")) as { version: string }
).version;

/** How often plugin mode looks for repository changes to push to Beskar's registry. */
const PLUGIN_REPLICA_INTERVAL_MS = 1000;

async function main(config: Config): Promise<StopService> {
  assertAdminTokenRule(config);
  const logger = pino(
    withLogFormat(
      {
        level: config.log.level,
        base: { service: "beskar-yum-api" },
        ...redactingLogOptions,
      },
      config.log.format,
    ),
  );
  installProcessGuards(logger);
  // http.workers > 1: this process is the cluster's primary, which serves nothing (api-cluster.ts).
  const processes = apiProcessCount(config);
  if (processes > 1 && !isApiWorker()) {
    await mkdir(config.storage.filesystem.directory, { recursive: true });
    // Once, before any worker reads storage: repositories of the previous layout move into this one.
    await new RepositoryStorage(config.storage.filesystem.directory, config.storage.prefix).prepare(logger);
    return runPrimary({
      count: processes,
      log: logger,
      profiling: config.profiling,
      listeningFields: {
        version,
        storage: config.storage.filesystem.directory,
        redisPrefix: config.redis.prefix,
      },
    });
  }
  if (config.profiling) {
    installCpuProfiler({
      datadir: config.datadir,
      name: "beskar-yum-api",
      log: (msg, fields) => logger.info(fields ?? {}, msg),
    });
  }
  await mkdir(config.storage.filesystem.directory, { recursive: true });
  // A key that cannot be read is a configuration error (exit 2), found before anything listens.
  const { signer } = await loadSigningKey({
    ...config.signing,
    datadir: config.datadir,
    ...(isApiWorker() ? {} : { log: (fields, message) => logger.info(fields, message) }),
  });
  const redis = createRedis(config.redis.url, "beskar-yum-api");
  // The registry replica: asked before a repository is created (never over content this node has
  // no index for), and the source of restored packages not stored here yet.
  const registry = config.registry ? new RegistryClient(registryClientOptions(config.registry)) : undefined;
  const storage = await RepositoryStorage.open(config.storage.filesystem.directory, config.storage.prefix, {
    ...indexStorageOptions(config),
    // storage.driver: registry: the registry is where blobs live, this datadir a cache of it.
    ...(config.storage.driver === "registry" && registry ? { registry: new RegistryBlobs(registry) } : {}),
    onPostgresError: (err) => logger.warn({ err: err.message }, "PostgreSQL index connection lost"),
  });
  // Before anything reads storage: repositories of the previous layout move into this one (the
  // cluster's primary did it already).
  if (!isApiWorker()) await storage.prepare(logger);
  const trigger = new RepoTrigger(redis, config.redis.prefix);
  const syncs = new SyncQueue(redis, config.redis.prefix);
  // Whatever held a repository's lock here (create, delete, the plugin replica) triggers, once it
  // lets go, the work that arrived meanwhile and found the lock taken.
  const lock = new RepoLock(redis, config.redis.prefix, {
    afterRelease: recheckPendingWork(storage, trigger, logger),
  });
  const service = new RepositoryService({
    storage,
    trigger,
    lock,
    ...(registry ? { registry: registryHoldings(registry) } : {}),
    maxUploadBytes: config.upload.maxBytes,
    waitTimeoutMs: config.upload.waitTimeoutMs,
    syncWaitTimeoutMs: config.sync.waitTimeoutMs,
    graceSeconds: config.publish.graceSeconds,
    signer,
    syncs,
    ...(config.serving.frontTree !== undefined
      ? { frontTree: new FrontTree(config.serving.frontTree, (message) => logger.warn(message)) }
      : {}),
  });
  // The registry replica's webhook: notifications are stored, then processed in the background.
  const registryEvents = config.registry
    ? new RegistryEvents({ service, storage, registry: config.registry, datadir: config.datadir, logger })
    : undefined;
  const metrics = new ApiMetrics({ defaultMetrics: true });
  // Hot repodata and packages answered from memory, checked against the index on every request.
  const accelRedirect = config.serving.accelRedirect
    ? { accelRedirect: { minBytes: config.serving.accelRedirectMinBytes } }
    : {};
  const contentCache = new ContentCache({
    storage,
    maxBytes: config.serving.contentCacheBytes,
    sendTimeoutMs: config.http.sendTimeoutMs,
    ...accelRedirect,
    observe: (url, method, status, seconds) => metrics.observeRequest(url, method, status, seconds),
  });
  metrics.watchContentCache(() => contentCache.stats());
  if (storage.registry) metrics.watchRegistryBlobs(storage.registry);
  // Per-repository metrics come from the indexes (the worker's totals, durable), queue depth from Redis.
  metrics.state = new StateMetrics(storage, [trigger.queue, syncs.queue]);
  const app = buildApp(
    {
      contentCache,
      ...accelRedirect,
      service,
      storage,
      redis,
      adminToken: config.adminToken,
      metrics,
      signer,
      ...(config.serving.publicUrl !== undefined ? { publicUrl: config.serving.publicUrl } : {}),
      waitTimeoutMs: config.upload.waitTimeoutMs,
      limits: config.http,
      version,
      syncTimeoutMs: config.sync.timeoutMs,
      proxy: config.proxy,
      ...(registry ? { registry } : {}),
      ...(config.storage.registryRedirect && config.registry
        ? { registryRedirect: config.registry.url }
        : {}),
      ...(registryEvents && config.registry
        ? { registryEvents: { token: config.registry.notificationsToken, events: registryEvents } }
        : {}),
    },
    { loggerInstance: logger, ...serverOptions(config.http) },
  );
  // Beyond this many open connections Node closes new ones at once (they cost a descriptor each).
  app.server.maxConnections = config.http.maxConnections;

  const source = config.adminTokenSource;
  if (typeof source === "object" && !isApiWorker()) {
    logger.info({ file: source.file, generated: source.generated }, "admin token read from file");
  }
  // Beskar plugin mode: the plugin server listens on `addr` (plain HTTP and TLS) and serves the app.
  const pluginMode =
    config.gossip.peers.length > 0
      ? await startPluginMode({
          config,
          app,
          service,
          storage,
          version,
          logger,
          observe: (url, method, status, seconds) => metrics.observeRequest(url, method, status, seconds),
          // Our writes go to Beskar's registry, unless a registry replica of our own is configured.
          ...(config.registry ? {} : { replica: { lock, intervalMs: PLUGIN_REPLICA_INTERVAL_MS } }),
        })
      : undefined;
  if (pluginMode && config.serving.publicUrl === undefined) {
    // Beskar proxies with our own host:port as Host and no X-Forwarded-*: a .repo file fetched through
    // it would send clients to the plugin port instead of Beskar.
    logger.warn(
      "plugin mode without http.public_url: .repo files served through Beskar name this plugin's address; set BESKARYUM_HTTP_PUBLIC_URL to Beskar's URL",
    );
  }
  await registryEvents?.start();
  const address = pluginMode
    ? `http://${config.addr.host.includes(":") ? `[${config.addr.host}]` : config.addr.host}:${pluginMode.port}`
    : await app.listen({ host: config.addr.host, port: config.addr.port });
  logger.info(
    {
      address,
      version,
      storage: config.storage.filesystem.directory,
      redisPrefix: config.redis.prefix,
      plugin: pluginMode !== undefined,
      registry: config.registry?.url,
    },
    isApiWorker() ? "api worker listening" : "api listening",
  );
  if (isApiWorker()) {
    joinCluster(metrics.registry, address);
    metrics.aggregate = clusterMetrics;
  }

  return async (signal) => {
    logger.info({ signal }, "api stopping");
    await pluginMode?.stop();
    await app.close();
    await registryEvents?.stop();
    registry?.close();
    await trigger.close();
    await syncs.close();
    contentCache.close();
    storage.close();
    redis.disconnect();
  };
}

runService("beskar-yum api", main);
