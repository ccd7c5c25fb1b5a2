import { PluginSdkError } from "../errors.js";
import { describeError, type Logger } from "../logger.js";
import type { EventPayload } from "../proto/event-payload.js";
import { TypedEmitter } from "../typed-emitter.js";
import type { Handler, HandlerContext } from "./handler.js";

/** Events of a `RepoHandler`. */
export interface RepoHandlerEvents {
  /** A batch went through `processEvents`. */
  processed: [events: readonly EventPayload[]];
  /** `processEvents` threw for a batch (it is not retried; stored events are replayed on the next start). */
  failed: [err: unknown, events: readonly EventPayload[]];
  /** The handler stopped (after `cleanup`). */
  stopped: [];
}

type State = "new" | "starting" | "running" | "stopping" | "stopped";

/**
 * The base of most handlers (Beskar's `repository.RepoHandler`): an in-order event queue drained by one
 * loop, so a repository's events are processed one batch at a time, in arrival order. Subclasses write
 * `processEvents`, and optionally `onStart` (replay stored events with `enqueueEvent`), `storeEvent`
 * (persist when `store` is asked) and `cleanup` (release resources after the loop ended).
 */
export abstract class RepoHandler extends TypedEmitter<RepoHandlerEvents> implements Handler {
  readonly repository: string;
  protected readonly logger: Logger;
  private readonly onStopped: () => void;
  private readonly abort = new AbortController();
  private queue: EventPayload[] = [];
  private state: State = "new";
  private busy = false;
  private wake: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(context: HandlerContext) {
    super();
    this.repository = context.repository;
    this.logger = context.logger;
    this.onStopped = context.onStopped;
  }

  /** Aborted when the handler stops: pass it to long operations. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  private startup: Promise<void> | undefined;

  get stopped(): boolean {
    return this.state === "stopping" || this.state === "stopped";
  }

  /** Events queued and not yet taken by the loop. */
  get queueLength(): number {
    return this.queue.length;
  }

  start(): Promise<void> {
    if (this.state !== "new") return this.startup ?? Promise.resolve();
    this.startup = this.doStart();
    return this.startup;
  }

  private async doStart(): Promise<void> {
    this.state = "starting";
    try {
      await this.onStart(this.signal);
    } catch (err) {
      await this.stop();
      throw err;
    }
    if (this.state !== "starting") return;
    this.state = "running";
    this.loop = this.run();
  }

  async queueEvent(event: EventPayload, store: boolean): Promise<void> {
    if (this.stopped) {
      throw new PluginSdkError("HANDLER_STOPPED", `the handler of ${this.repository} is stopped`, {
        repository: this.repository,
      });
    }
    if (store) await this.storeEvent(event);
    this.enqueueEvent(event);
  }

  /** Stops the loop (the batch in progress sees `signal` aborted and is awaited), then `cleanup`. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /**
   * Resolves once the handler has started (its replay queued), the queue is empty and no batch is
   * being processed — or the handler stopped.
   */
  async idle(): Promise<void> {
    await this.startup?.catch(() => undefined);
    if (this.isIdle()) return;
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Adds an event to the queue without storing it (e.g. a stored event replayed by `onStart`). */
  protected enqueueEvent(event: EventPayload): void {
    if (this.stopped) return;
    this.queue.push(event);
    this.wake?.();
  }

  /** Called by `start()` before the loop runs. Default: nothing. */
  protected async onStart(_signal: AbortSignal): Promise<void> {}

  /** Persists an event when `queueEvent(event, true)`; a rejection is the caller's 500. Default: nothing. */
  protected async storeEvent(_event: EventPayload): Promise<void> {}

  /** Processes a batch of one or more events, in arrival order. */
  protected abstract processEvents(events: readonly EventPayload[], signal: AbortSignal): Promise<void>;

  /** Releases resources once the loop has ended. Default: nothing. */
  protected async cleanup(): Promise<void> {}

  protected override onListenerError(event: string, err: unknown): void {
    this.logger.error({ event, err: describeError(err) }, "a repository handler listener threw");
  }

  private async run(): Promise<void> {
    while (!this.signal.aborted) {
      if (this.queue.length === 0) {
        this.notifyIdle();
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      const batch = this.queue;
      this.queue = [];
      this.busy = true;
      try {
        await this.processEvents(batch, this.signal);
        this.emit("processed", batch);
      } catch (err) {
        this.logger.error({ err: describeError(err), events: batch.length }, "failed to process events");
        this.emit("failed", err, batch);
      } finally {
        this.busy = false;
      }
    }
  }

  private async doStop(): Promise<void> {
    this.state = "stopping";
    this.abort.abort(new PluginSdkError("HANDLER_STOPPED", `the handler of ${this.repository} stopped`));
    this.wake?.();
    await this.loop;
    try {
      await this.cleanup();
    } catch (err) {
      this.logger.error({ err: describeError(err) }, "repository handler cleanup failed");
    }
    this.state = "stopped";
    this.notifyIdle();
    this.onStopped();
    this.emit("stopped");
  }

  private isIdle(): boolean {
    return this.state === "stopped" || (this.queue.length === 0 && !this.busy && this.state === "running");
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
