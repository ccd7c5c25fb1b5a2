import { childLogger, describeError, type Logger, silentLogger } from "../logger.js";
import type { Handler, HandlerFactory } from "./handler.js";

export interface RepositoryManagerOptions {
  /** Where the manager and (with `{ repository }` bound) the handlers log. Default: nowhere. */
  logger?: Logger;
}

/**
 * One handler per repository, made lazily by the factory (Beskar's `repository.Manager`). A stopped
 * handler is forgotten, and the next `get` makes a fresh one. A plugin without state has no manager.
 */
export class RepositoryManager<H extends Handler = Handler> {
  private readonly handlers = new Map<string, H>();
  private readonly logger: Logger;

  constructor(
    private readonly factory: HandlerFactory<H>,
    options: RepositoryManagerOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  /** The handler of `repository`, made and started (in the background) when there is none running. */
  get(repository: string): H {
    const existing = this.handlers.get(repository);
    if (existing && !existing.stopped) return existing;
    const logger = childLogger(this.logger, { repository });
    const handler: H = this.factory({
      repository,
      logger,
      onStopped: () => {
        if (this.handlers.get(repository) === handler) this.handlers.delete(repository);
      },
    });
    this.handlers.set(repository, handler);
    let started: Promise<void>;
    try {
      started = handler.start();
    } catch (err) {
      started = Promise.reject(err);
    }
    started.then(
      () => logger.info({}, "repository handler started"),
      (err: unknown) => {
        logger.error({ err: describeError(err) }, "repository handler failed to start");
        if (this.handlers.get(repository) === handler) this.handlers.delete(repository);
        void handler.stop().catch(() => {});
      },
    );
    return handler;
  }

  has(repository: string): boolean {
    return this.handlers.has(repository);
  }

  /** A snapshot of the handlers, by repository. */
  getAll(): Map<string, H> {
    return new Map(this.handlers);
  }

  /** Stops every handler in parallel (what the plugin server does on shutdown). */
  async stopAll(): Promise<void> {
    const handlers = [...this.handlers.entries()];
    await Promise.all(
      handlers.map(async ([repository, handler]) => {
        this.logger.info({ repository }, "stopping repository handler");
        try {
          await handler.stop();
        } catch (err) {
          this.logger.error({ repository, err: describeError(err) }, "repository handler failed to stop");
        }
        if (this.handlers.get(repository) === handler) this.handlers.delete(repository);
        this.logger.info({ repository }, "repository handler stopped");
      }),
    );
  }
}
