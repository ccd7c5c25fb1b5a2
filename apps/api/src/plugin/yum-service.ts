import { YUM_EVENT_MEDIATYPES } from "@beskar-yum/oci";
import {
  type BeskarMeta,
  type BeskarTransport,
  type CaState,
  type GossipConfig,
  type Logger,
  RepositoryManager,
  type Service,
  type ServiceConfig,
  type ServiceContext,
} from "@beskar-yum/plugin-sdk";
import type { RepositoryService } from "@beskar-yum/repository";
import type { RouterPolicy } from "@beskar-yum/router";
import type { RepositoryStorage } from "@beskar-yum/storage";
import type { FastifyInstance } from "fastify";
import type { PluginEventStore } from "./plugin-event-store.js";
import { pluginListener } from "./plugin-listener.js";
import { YumRepoHandler } from "./yum-repo-handler.js";

export interface YumServiceOptions {
  /** The API (routes registered, ready): served on the plugin port. */
  app: FastifyInstance;
  service: RepositoryService;
  storage: RepositoryStorage;
  adminToken: string;
  gossip: GossipConfig;
  /** Our package version (`Info.version`, a semver). */
  version: string;
  /** `policy/router.rego` and `data.json` (`Info.router`). */
  router: RouterPolicy;
  /** Where events wait until processed; without it they are not stored (lost on a restart). */
  events?: PluginEventStore;
  /** Aborting it stops the plugin. */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * beskar-yum as Beskar's `yum` plugin (BESKAR.md §1.7, §3): `/info` says name `yum`, our version, the
 * package and extra metadata config mediatypes and our Rego router; events go to one `YumRepoHandler`
 * per repository; every other request is our fastify app.
 */
export class YumService implements Service<YumRepoHandler> {
  readonly context: ServiceContext;
  readonly config: ServiceConfig;
  readonly repositoryManager: RepositoryManager<YumRepoHandler>;
  private transport: BeskarTransport | undefined;
  private beskar: BeskarMeta | undefined;
  private readonly events: PluginEventStore | undefined;

  constructor(options: YumServiceOptions) {
    this.events = options.events;
    this.context = { signal: options.signal, logger: options.logger };
    this.config = {
      router: pluginListener(options.app, options.adminToken),
      gossip: options.gossip,
      info: {
        name: "yum",
        version: options.version,
        mediatypes: YUM_EVENT_MEDIATYPES,
        router: { rego: options.router.rego, data: options.router.data },
      },
    };
    this.repositoryManager = new RepositoryManager(
      (context) =>
        new YumRepoHandler(context, {
          service: options.service,
          storage: options.storage,
          transport: () => this.transport,
          ...(options.events ? { events: options.events } : {}),
        }),
      { logger: options.logger },
    );
  }

  /** The transport to Beskar's registry, once started. */
  get registryTransport(): BeskarTransport | undefined {
    return this.transport;
  }

  /** The Beskar instance found at start, once started. */
  get beskarMeta(): BeskarMeta | undefined {
    return this.beskar;
  }

  /** Sets the registry transport, then starts the handlers of repositories with stored events (they replay them). */
  async start(transport: BeskarTransport, _ca: CaState, beskarMeta: BeskarMeta): Promise<void> {
    this.transport = transport;
    this.beskar = beskarMeta;
    this.context.logger.info({ registry: transport.baseUrl }, "default registry set to beskar");
    for (const repository of (await this.events?.repositories()) ?? [])
      this.repositoryManager.get(repository);
  }
}
