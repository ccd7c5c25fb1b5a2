import { type EventPayload, RepoHandler } from "@beskar-yum/plugin-sdk";
import type { PluginEventStore } from "./plugin-event-store.js";

const liveKey = (event: EventPayload) => `${event.digest}:${event.action}`;

/**
 * A repository handler whose events are kept in a `PluginEventStore` until processed: stored when
 * queued (before the caller gets its answer), replayed at start, forgotten once processed, one at a
 * time and in order. Subclasses say how one event is processed and what a failure does.
 */
export abstract class StoredEventHandler extends RepoHandler {
  /** Events queued live, so the replay at start does not queue them a second time. */
  private readonly live = new Set<string>();

  protected abstract readonly events: PluginEventStore | undefined;

  /** Processes one event; a rejection goes to `fail` (unless the handler is stopping). */
  protected abstract processEvent(event: EventPayload, signal: AbortSignal): Promise<void>;

  /** What a failed event leaves behind (logs, the registry's manifest deleted, ...). */
  protected abstract fail(event: EventPayload, err: unknown): Promise<void> | void;

  override async queueEvent(event: EventPayload, store: boolean): Promise<void> {
    // Before storing: a replay listing the stored events meanwhile must not queue this one again.
    this.live.add(liveKey(event));
    try {
      await super.queueEvent(event, store);
    } catch (err) {
      this.live.delete(liveKey(event));
      throw err;
    }
  }

  protected override async storeEvent(event: EventPayload): Promise<void> {
    await this.events?.store(this.repository, event);
  }

  /** Replays the events stored and not processed before a restart (Beskar's handler Start). */
  protected override async onStart(): Promise<void> {
    const stored = (await this.events?.list(this.repository)) ?? [];
    const replay = stored.filter((event) => !this.live.has(liveKey(event)));
    if (replay.length > 0) this.logger.info({ events: replay.length }, "replaying stored events");
    for (const event of replay) this.enqueueEvent(event);
  }

  protected async processEvents(events: readonly EventPayload[], signal: AbortSignal): Promise<void> {
    for (const event of events) {
      if (signal.aborted) return;
      try {
        await this.processEvent(event, signal);
      } catch (err) {
        if (signal.aborted) {
          // Stopping: not the event's fault, it is replayed when stored (see storeEvent).
          this.logger.warn({ digest: event.digest, err: (err as Error)?.message }, "event interrupted");
          return;
        }
        await this.fail(event, err);
      }
      this.live.delete(liveKey(event));
      await this.events
        ?.remove(this.repository, event)
        .catch((err: unknown) =>
          this.logger.warn(
            { digest: event.digest, err: (err as Error).message },
            "cannot forget a stored event",
          ),
        );
    }
  }
}
