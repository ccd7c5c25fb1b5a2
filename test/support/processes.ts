import { type ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";
import { mergeEnv } from "./run.js";

export interface StartOptions {
  /** Variables added to (or, when `undefined`, removed from) `process.env`. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** `startProcess` resolves once stdout+stderr match this (e.g. `/listening on/`). Without it, at once. */
  readyLine?: RegExp;
  /** How long to wait for `readyLine`. Default 30000. */
  timeoutMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessHandle {
  readonly pid: number;
  /** Everything written to stdout and stderr so far, interleaved as it arrived. */
  output(): string;
  /** Waits until the output from offset `from` (default 0) matches `re`; rejects with the output on exit or timeout. */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` and waits for the exit; SIGKILL after `timeoutMs` (default 10000). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitStatus>;
  /** SIGKILL (a crash, as far as the process is concerned) and waits for the exit. */
  kill9(): Promise<ExitStatus>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitStatus>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Spawns `cmd args` (no shell), collecting its output; resolves once `readyLine` is seen. */
export async function startProcess(
  cmd: string,
  args: string[],
  opts: StartOptions = {},
): Promise<ProcessHandle> {
  if (!exitHookInstalled) {
    // If the test process goes away without stopAll(), do not leave servers behind.
    process.once("exit", () => {
      for (const child of running) child.kill("SIGKILL");
    });
    exitHookInstalled = true;
  }
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: mergeEnv(opts.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  let status: ExitStatus | undefined;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  const onData = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    notify();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);

  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    child.once("error", (err) => reject(new Error(`cannot start ${cmd}: ${err.message}`, { cause: err })));
  });
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("close", (code, signal) => {
      running.delete(child);
      status = { code, signal };
      notify();
      resolve(status);
    });
  });
  await spawned;

  const describe = () => `${cmd} ${args.join(" ")} (pid ${child.pid})`;
  const waitFor = (re: RegExp, timeoutMs = 30_000, from = 0): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const match = output.slice(from).match(re);
        if (match) return finish(() => resolve(match));
        if (status) {
          const how = status.signal ?? `code ${status.code}`;
          finish(() => reject(new Error(`${describe()} exited (${how}) before ${re}; output:\n${output}`)));
        }
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`${describe()}: no ${re} within ${timeoutMs} ms; output:\n${output}`)),
          ),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });

  const stop = async (signal: NodeJS.Signals = "SIGTERM", timeoutMs = 10_000): Promise<ExitStatus> => {
    if (status) return status;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  const handle: ProcessHandle = {
    pid: child.pid!,
    output: () => output,
    waitFor,
    stop,
    kill9: () => stop("SIGKILL"),
    exited,
  };
  if (opts.readyLine) {
    try {
      await waitFor(opts.readyLine, opts.timeoutMs ?? 30_000);
    } catch (err) {
      await stop("SIGKILL");
      throw err;
    }
  }
  return handle;
}

/** Stops every process `startProcess` started and that still runs (SIGTERM, then SIGKILL after 10 s). For afterAll. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          child.once("close", () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
}

/** A TCP port that was free on 127.0.0.1 a moment ago (listen on 0, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
