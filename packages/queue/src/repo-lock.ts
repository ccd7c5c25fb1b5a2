import { randomBytes } from "node:crypto";
import { YumError } from "@beskar-yum/errors";
import type { Redis } from "ioredis";

// SET NX and, on success, return the server's clock in microseconds: a fencing token that grows
// with every acquisition and, unlike a counter, survives a FLUSHALL of our keys.
const acquireScript = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
return 0`;

const renewScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface RepoLockOptions {
  /** Lock lifetime without renewal; renewed every third of it. Default 30 s. */
  ttlMs?: number;
  /**
   * Runs after every release (awaited by `release`): the holder looks for work that arrived while it
   * held the lock. A trigger that finds the lock taken returns at once (`processRepository`), so
   * work stored meanwhile would otherwise wait for the reconciler; whoever held the lock (a request,
   * a sync, the plugin replica) re-checks here and triggers it. Errors are the hook's to handle.
   */
  afterRelease?: (repository: string) => Promise<void> | void;
}

/** A held lock. `signal` aborts when renewal fails, so long work stops writing as soon as it can. */
export interface HeldLock {
  /** Fencing token: the index refuses writes carrying a token older than the newest it has seen. */
  readonly fence: number;
  readonly signal: AbortSignal;
  /**
   * Gives the lock back, then runs the lock's `afterRelease` (the re-check for work that arrived
   * meanwhile) unless `recheck` is false: for a holder that looks again itself (`processRepository`).
   */
  release(options?: { recheck?: boolean }): Promise<void>;
}

/** One writer per repository across every worker (and API) process. */
export class RepoLock {
  private readonly ttlMs: number;
  private readonly afterRelease: RepoLockOptions["afterRelease"];

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    options: RepoLockOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.afterRelease = options.afterRelease;
  }

  private key(repository: string): string {
    return `${this.keyPrefix}:lock:${repository}`;
  }

  /** Takes the lock if it is free; undefined when another process holds it. */
  async tryAcquire(repository: string): Promise<HeldLock | undefined> {
    const key = this.key(repository);
    const owner = randomBytes(12).toString("hex");
    const fence = Number(await this.redis.eval(acquireScript, 1, key, owner, this.ttlMs));
    if (fence === 0) return undefined;

    const controller = new AbortController();
    const renew = async () => {
      try {
        const ok = Number(await this.redis.eval(renewScript, 1, key, owner, this.ttlMs));
        if (ok !== 1) controller.abort(new YumError("LOCK_LOST", `lock on ${repository} was lost`));
      } catch (err) {
        controller.abort(
          new YumError("LOCK_LOST", `lock on ${repository} could not be renewed`, {}, { cause: err }),
        );
      }
    };
    const timer = setInterval(renew, Math.floor(this.ttlMs / 3));
    timer.unref();
    controller.signal.addEventListener("abort", () => clearInterval(timer), { once: true });

    return {
      fence,
      signal: controller.signal,
      release: async (options = {}) => {
        clearInterval(timer);
        await this.redis.eval(releaseScript, 1, key, owner);
        if (options.recheck !== false) await this.afterRelease?.(repository);
      },
    };
  }

  /** Waits for the lock, polling, until `timeoutMs` passes (TIMEOUT) or `signal` aborts. */
  async acquire(repository: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<HeldLock> {
    const deadline = Date.now() + options.timeoutMs;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      const held = await this.tryAcquire(repository);
      if (held) return held;
      options.signal?.throwIfAborted();
      if (Date.now() + delay > deadline) {
        throw new YumError(
          "TIMEOUT",
          `repository ${repository} is busy: could not take its lock in ${options.timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
