import { AsyncLocalStorage } from "node:async_hooks";
import { YumError } from "@beskar-yum/errors";

interface JobScope {
  label: string;
  /** True once the job's work has settled: a later exception comes from what it left behind. */
  ended(): boolean;
  crash(err: unknown): void;
}

/** What `claim` found: the job an exception escaped from, and whether its work had ended. */
export interface ClaimedJob {
  label: string;
  ended: boolean;
}

export interface JobGuardOptions {
  /**
   * How long a crashed job's work may take to wind down after its signal aborted. Past that it
   * still holds what it held (a repository lock it keeps renewing, sockets), and `onStuck` is told.
   */
  stopGraceMs: number;
  onStuck(label: string): void;
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Ties exceptions that escape a job asynchronously to that job. Everything a job starts (sockets,
 * timers, streams, worker threads) inherits its async context, so an exception thrown later from
 * one of their callbacks (undici's assertion on a broken HTTP/1.0 upstream was one) reaches the
 * process's `uncaughtException` handler still inside that context. `claim` then fails the job: its
 * promise rejects with JOB_CRASHED and its signal aborts, so the rest of its work stops, and the
 * process goes on with its other jobs. An exception from a resource shared across jobs is claimed
 * by the job that created the resource; the mirror sync's HTTP agent is per sync, so it is exact there.
 */
export class JobGuard {
  private readonly scopes = new AsyncLocalStorage<JobScope>();

  constructor(private readonly options: JobGuardOptions) {}

  /** Runs `work` as the job `label`; `signal` aborts (with the JOB_CRASHED error) when it is claimed. */
  run<T>(label: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let settled = false;
    let fail: (error: YumError) => void = () => {};
    const crashed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    // The work's own outcome is awaited through the race below; this keeps a crash claimed after
    // the work settled from becoming an unhandled rejection.
    crashed.catch(() => {});
    const crash = (err: unknown) => {
      if (controller.signal.aborted) return;
      const error = new YumError(
        "JOB_CRASHED",
        `unexpected error in ${label}: ${describe(err)}`,
        {},
        { cause: err },
      );
      controller.abort(error);
      fail(error);
      const timer = setTimeout(() => settled || this.options.onStuck(label), this.options.stopGraceMs);
      timer.unref();
    };
    return this.scopes.run({ label, ended: () => settled, crash }, () => {
      const done = (async () => work(controller.signal))().finally(() => {
        settled = true;
      });
      return Promise.race([done, crashed]);
    });
  }

  /** Fails the job in whose async context `err` was thrown; undefined when it was thrown outside any job. */
  claim(err: unknown): ClaimedJob | undefined {
    const scope = this.scopes.getStore();
    if (!scope) return undefined;
    const ended = scope.ended();
    scope.crash(err);
    return { label: scope.label, ended };
  }
}
