import type * as http from "node:http";
import type { BeskarMeta } from "../beskar-meta.js";
import type { CaState } from "../ca-state.js";
import type { Logger } from "../logger.js";
import type { PluginInfo } from "../proto/plugin-info.js";
import type { Handler } from "../repository/handler.js";
import type { RepositoryManager } from "../repository/repository-manager.js";
import type { BeskarTransport } from "./beskar-transport.js";

/** Beskar's `gossip.Config`. */
export interface GossipConfig {
  /**
   * `host:port` the gossip member binds (UDP and TCP). An empty host means 0.0.0.0; `::`/`[::]` the first
   * global unicast address of this host. Default "0.0.0.0:0" (any port); Beskar's YUM plugin uses :5201.
   */
  addr?: string;
  /** The cluster key, base64 of 16, 24 or 32 bytes (AES-GCM). Required, as in Beskar. */
  key: string;
  /** Peers to join, `host:port` (Beskar's default for plugins: 127.0.0.1:5102). None: the plugin is alone. */
  peers?: readonly string[];
}

/** Beskar's `pluginsrv.Config`. */
export interface ServiceConfig {
  /**
   * Serves every request the SDK does not (everything but `/`, `/info`, `/event`), plain HTTP and TLS
   * alike (`isTlsRequest` tells them apart). Without it those get 404. A fastify app plugs in through
   * its `serverFactory` handler.
   */
  router?: http.RequestListener;
  gossip: GossipConfig;
  /** What `GET /info` answers. */
  info: PluginInfo;
}

/** Beskar's service context: cancellation and logging. */
export interface ServiceContext {
  /** Aborting it stops `servePlugin` (a plugin's main aborts it on SIGTERM). */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/**
 * A plugin service (Beskar's `pluginsrv.Service`). Its events reach it through its repository manager,
 * i.e. through the handlers its `HandlerFactory` makes.
 */
export interface Service<H extends Handler = Handler> {
  readonly context: ServiceContext;
  readonly config: ServiceConfig;
  /** Where `/event` sends events; undefined for a plugin without state (then `/event` answers 501). */
  readonly repositoryManager?: RepositoryManager<H> | undefined;
  /**
   * Called once a Beskar instance is known and `/info` and `/event` are mounted, before the plugin is
   * marked ready: the time to finish wiring (Beskar's YUM plugin sets its default registry here).
   * `transport` reaches Beskar's registry with mTLS; `ca` is the cluster CA; `beskarMeta` the Beskar
   * instance found.
   */
  start(transport: BeskarTransport, ca: CaState, beskarMeta: BeskarMeta): Promise<void>;
}
