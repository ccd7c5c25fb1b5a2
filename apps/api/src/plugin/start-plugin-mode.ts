import { join } from "node:path";
import type { Config } from "@beskar-yum/config";
import { type Logger, type RunningPlugin, startPlugin } from "@beskar-yum/plugin-sdk";
import type { RepoLock } from "@beskar-yum/queue";
import type { RepositoryService } from "@beskar-yum/repository";
import { readRouterPolicy } from "@beskar-yum/router";
import type { RepositoryStorage } from "@beskar-yum/storage";
import type { FastifyInstance } from "fastify";
import { beskarRegistry } from "./beskar-registry.js";
import { PluginEventStore } from "./plugin-event-store.js";
import { PluginReplica } from "./plugin-replica.js";
import { YumService } from "./yum-service.js";

export interface PluginModeOptions {
  config: Pick<Config, "addr" | "gossip" | "adminToken" | "datadir" | "http">;
  /** The API, routes registered (not listening): it answers on the plugin port. */
  app: FastifyInstance;
  service: RepositoryService;
  storage: RepositoryStorage;
  version: string;
  logger: Logger;
  /**
   * With it, our writes are pushed to Beskar's registry (`PluginReplica`), under this lock. Left out
   * when a registry replica of our own is configured (the worker pushes there instead).
   */
  replica?: { lock: RepoLock; intervalMs: number };
  /** `BeskarMeta.Hostname` and a DNS SAN of our certificate. Default `os.hostname()`. */
  hostname?: string;
  /** Counts the responses of `/info` and `/event` (metrics), which fastify does not see. */
  observe?: (url: string, method: string | undefined, status: number, seconds: number) => void;
}

export interface PluginMode {
  /** The port plain HTTP and TLS share (`config.addr`'s, or the one chosen for port 0). */
  readonly port: number;
  readonly plugin: RunningPlugin;
  /** Leaves the cluster and closes the listener. */
  stop(): Promise<void>;
}

const hostPort = ({ host, port }: { host: string; port: number }) =>
  `${host.includes(":") ? `[${host}]` : host}:${port}`;

/**
 * Beskar plugin mode (BESKAR.md §1.3): the plugin server listens on `config.addr` (one port for plain
 * HTTP and TLS, as Beskar's cmux) and serves our app there besides `/info` and `/event`; gossip on
 * `config.gossip.addr` joins `config.gossip.peers`. Resolves once a Beskar instance is found and we are
 * marked ready; rejects when none is (the API does not listen on its own in this mode).
 */
export async function startPluginMode(options: PluginModeOptions): Promise<PluginMode> {
  const { config, app, logger } = options;
  await app.ready();
  const abort = new AbortController();
  const service = new YumService({
    app,
    service: options.service,
    storage: options.storage,
    adminToken: config.adminToken,
    gossip: { addr: hostPort(config.gossip.addr), key: config.gossip.key, peers: config.gossip.peers },
    version: options.version,
    router: await readRouterPolicy(),
    events: new PluginEventStore(join(config.datadir, "_plugin_events_")),
    signal: abort.signal,
    logger,
  });
  const plugin = await startPlugin(service, {
    addr: hostPort(config.addr),
    // Beskar's 5 s headers timeout stays; the body idle timeout and the cap on connections are ours.
    http: { idleTimeoutMs: config.http.uploadIdleTimeoutMs, maxConnections: config.http.maxConnections },
    ...(options.observe ? { observe: options.observe } : {}),
    ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
  });
  const replica = options.replica
    ? new PluginReplica({
        storage: options.storage,
        lock: options.replica.lock,
        client: () => {
          const transport = service.registryTransport;
          return transport ? beskarRegistry(transport) : undefined;
        },
        intervalMs: options.replica.intervalMs,
        logger,
      })
    : undefined;
  replica?.start();
  return {
    port: plugin.port,
    plugin,
    stop: async () => {
      await replica?.stop();
      abort.abort();
      await plugin.stop();
    },
  };
}
