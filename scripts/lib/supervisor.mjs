// Keeps the apps `npm start` runs alive: a child that dies (crash, OOM kill, `kill -9`) is started
// again after a backoff, and only a signal to start.mjs (Ctrl-C, SIGTERM) stops them all. Plain
// Node ESM, no dependencies.

/**
 * Restart backoff: 1 s after the first death, doubling up to 30 s while the child keeps dying young;
 * a child that ran for a minute was healthy, and its next death starts again from 1 s.
 */
export const restartPolicy = { firstDelayMs: 1000, maxDelayMs: 30_000, healthyAfterMs: 60_000 };

/** Exit codes that a restart cannot fix: 2 is runService's "configuration invalid". */
const FATAL_EXIT_CODES = new Set([2]);

/** The delay before the restart that follows `failures` earlier deaths in a row. */
export function restartDelay(failures, policy = restartPolicy) {
  return Math.min(policy.firstDelayMs * 2 ** failures, policy.maxDelayMs);
}

/** How a child ended, for the log: `code 1` or `signal SIGKILL`. */
export function describeExit(code, signal) {
  return signal ? `signal ${signal}` : `code ${code}`;
}

export class Supervisor {
  /**
   * @param {object} options
   * @param {(name: string) => import("node:child_process").ChildProcess} options.spawnChild
   * @param {(line: string) => void} options.say
   * @param {number} options.stopTimeoutMs  SIGKILL children still running this long after stop()
   * @param {typeof restartPolicy} [options.policy]
   */
  constructor({ spawnChild, say, stopTimeoutMs, policy = restartPolicy }) {
    this.spawnChild = spawnChild;
    this.say = say;
    this.stopTimeoutMs = stopTimeoutMs;
    this.policy = policy;
    /** name -> { child?, startedAt, failures, timer? } */
    this.apps = new Map();
    this.stopping = false;
    this.exitCode = 0;
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
  }

  /** Starts (or restarts) the app `name`. */
  start(name) {
    const app = this.apps.get(name) ?? { failures: 0 };
    this.apps.set(name, app);
    const child = this.spawnChild(name);
    Object.assign(app, { child, startedAt: Date.now(), timer: undefined });
    child.on("error", (err) => this.say(`${name}: ${err.message}`));
    child.on("exit", (code, signal) => this.onExit(name, app, child, code, signal));
    return child;
  }

  /** The pids of the children running now. */
  pids() {
    return [...this.apps.values()].flatMap((app) => (app.child ? [app.child.pid] : []));
  }

  onExit(name, app, child, code, signal) {
    app.child = undefined;
    const how = describeExit(code, signal);
    if (this.stopping) {
      if (code !== 0 && this.exitCode === 0) this.exitCode = code ?? 1;
      this.settleIfStopped();
      return;
    }
    if (FATAL_EXIT_CODES.has(code)) {
      this.say(`${name} exited (${how}), which a restart cannot fix; stopping the rest`);
      this.exitCode = code;
      this.stop("SIGTERM");
      return;
    }
    const lived = Date.now() - app.startedAt;
    if (lived >= this.policy.healthyAfterMs) app.failures = 0;
    const delay = restartDelay(app.failures, this.policy);
    app.failures++;
    this.say(
      `${name} (pid ${child.pid}) exited (${how}) after ${(lived / 1000).toFixed(1)} s; restarting in ${delay / 1000} s`,
    );
    app.timer = setTimeout(() => {
      app.timer = undefined;
      if (this.stopping) return;
      const next = this.start(name);
      this.say(`${name} restarted (pid ${next.pid})`);
    }, delay);
  }

  /**
   * Stops every child with `signal` (no more restarts), SIGKILL after the stop timeout; resolves
   * with the exit code start.mjs should end with once none is left. Calling it again (a second
   * Ctrl-C) sends the new signal.
   */
  stop(signal) {
    if (!this.stopping) {
      this.stopping = true;
      for (const app of this.apps.values()) clearTimeout(app.timer);
      setTimeout(() => this.killAll("SIGKILL"), this.stopTimeoutMs).unref();
    }
    this.killAll(signal);
    this.settleIfStopped();
    return this.stopped;
  }

  killAll(signal) {
    for (const app of this.apps.values()) app.child?.kill(signal);
  }

  settleIfStopped() {
    if (this.stopping && this.pids().length === 0) this.resolveStopped(this.exitCode);
  }
}
