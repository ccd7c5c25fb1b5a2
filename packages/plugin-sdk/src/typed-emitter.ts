import { EventEmitter } from "node:events";

/** An EventEmitter whose `on`/`once`/`off`/`emit` are typed by an event map (name → argument tuple). */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly emitter = new EventEmitter();

  on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  listenerCount<K extends keyof Events & string>(event: K): number {
    return this.emitter.listenerCount(event);
  }

  /**
   * Calls the listeners; one that throws does not stop the others nor the caller (a protocol handler):
   * its error goes to `onListenerError`.
   */
  protected emit<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    for (const listener of this.emitter.rawListeners(event)) {
      try {
        (listener as (...a: Events[K]) => void)(...args);
      } catch (err) {
        this.onListenerError(event, err);
      }
    }
  }

  protected onListenerError(_event: string, _err: unknown): void {}
}
