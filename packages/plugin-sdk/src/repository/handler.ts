import type { Logger } from "../logger.js";
import type { EventPayload } from "../proto/event-payload.js";

/**
 * A repository handler (Beskar's `repository.Handler`): receives the events of one repository and keeps
 * the plugin's state for it up to date. The plugin server calls `queueEvent` from its `/event` endpoint;
 * the `RepositoryManager` creates, starts and forgets handlers.
 */
export interface Handler {
  /** The repository it handles, e.g. `artifacts/yum/rocky`. */
  readonly repository: string;
  /** True once `stop()` has been called: the manager then makes a new handler on the next `get`. */
  readonly stopped: boolean;
  /**
   * Called once by the manager right after creation, without awaiting: set up resources, replay stored
   * events, start processing. Events may be queued before it resolves. A rejection stops the handler.
   */
  start(): Promise<void>;
  /**
   * Takes one event; `store` asks to persist it first (so it survives a restart). Must only enqueue, never
   * process: Beskar waits for the answer, and a rejection becomes a 500 it retries for 5 s.
   */
  queueEvent(event: EventPayload, store: boolean): Promise<void>;
  /** Stops processing and releases resources. Idempotent. */
  stop(): Promise<void>;
}

/** What the manager gives a factory for each new handler. */
export interface HandlerContext {
  readonly repository: string;
  /** The manager's logger with `{ repository }` bound. */
  readonly logger: Logger;
  /** To be called once the handler has stopped, so the manager forgets it. `RepoHandler` does it. */
  readonly onStopped: () => void;
}

/** Makes the handler of one repository (Beskar's `repository.HandlerFactory`). */
export type HandlerFactory<H extends Handler = Handler> = (context: HandlerContext) => H;
