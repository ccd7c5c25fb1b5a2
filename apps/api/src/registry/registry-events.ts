import { join } from "node:path";
import { RegistryClient, type RegistrySettings, registryClientOptions } from "@beskar-yum/oci";
import { type Logger, RepositoryManager } from "@beskar-yum/plugin-sdk";
import type { RepositoryService } from "@beskar-yum/repository";
import type { RepositoryStorage } from "@beskar-yum/storage";
import { PluginEventStore } from "../plugin/plugin-event-store.js";
import type { RegistryNotice } from "./registry-notification.js";
import { RegistryRepoHandler } from "./registry-repo-handler.js";

export interface RegistryEventsOptions {
  service: RepositoryService;
  storage: RepositoryStorage;
  /** The registry's URL and credentials (`config.registry`). */
  registry: RegistrySettings;
  /** Local state directory: notifications wait in `<datadir>/_registry_events_` until processed. */
  datadir: string;
  logger: Logger;
}

/**
 * The background path of registry notifications: each is stored on disk first (so a restart replays
 * it), then queued to the handler of its repository; `accept` returns once stored, never after the work.
 */
export class RegistryEvents {
  readonly client: RegistryClient;
  private readonly store: PluginEventStore;
  private readonly manager: RepositoryManager<RegistryRepoHandler>;

  constructor(options: RegistryEventsOptions) {
    this.client = new RegistryClient(registryClientOptions(options.registry));
    this.store = new PluginEventStore(join(options.datadir, "_registry_events_"));
    const handlerOptions = {
      service: options.service,
      storage: options.storage,
      client: this.client,
      events: this.store,
    };
    this.manager = new RepositoryManager((context) => new RegistryRepoHandler(context, handlerOptions), {
      logger: options.logger,
    });
  }

  /** Starts the handlers of repositories with stored notifications (they replay them). */
  async start(): Promise<void> {
    for (const repository of await this.store.repositories()) this.manager.get(repository);
  }

  /** Stores and queues notifications, in order. */
  async accept(notices: readonly RegistryNotice[]): Promise<void> {
    for (const notice of notices) await this.manager.get(notice.repository).queueEvent(notice.event, true);
  }

  /** Resolves when every handler has nothing left to do (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.manager.getAll().values()].map((h) => h.idle()));
  }

  async stop(): Promise<void> {
    await this.manager.stopAll();
    this.client.close();
  }
}
