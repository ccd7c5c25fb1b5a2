import { spawn } from "node:child_process";
import { constants } from "node:os";

export interface RunOptions {
  /** Working directory. Default: the current one. */
  cwd?: string;
  /** Variables added to (or, when `undefined`, removed from) `process.env`. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. Without it stdin is `/dev/null`. */
  input?: string | Uint8Array;
  /** The process gets SIGTERM after this long, SIGKILL 2 s later. Default 120000. */
  timeoutMs?: number;
}

export interface RunResult {
  /** The exit code; `128 + signal number` when a signal ended the process. */
  code: number;
  /** The signal that ended the process, if any. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the timeout killed the process. */
  timedOut: boolean;
}

/** Thrown by `runOk`: the command line, exit code and both outputs are in the message. */
export class RunError extends Error {
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    super(describeFailure(command, result));
    this.name = "RunError";
  }
}

export function describeFailure(command: string, result: RunResult): string {
  const why = result.timedOut
    ? "timed out"
    : result.signal
      ? `was killed by ${result.signal}`
      : `exited ${result.code}`;
  return `${command} ${why}\n--- stdout ---\n${tail(result.stdout)}\n--- stderr ---\n${tail(result.stderr)}`;
}

function tail(text: string, max = 8000): string {
  return text.length > max ? `[... ${text.length - max} chars]\n${text.slice(-max)}` : text;
}

/** Runs `cmd` with `args` (no shell) and collects its output; never rejects for a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const env = mergeEnv(opts.env);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      killer = setTimeout(() => child.kill("SIGKILL"), 2000);
    }, opts.timeoutMs ?? 120_000);

    child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (err) => {
      clearTimeout(timer);
      clearTimeout(killer);
      reject(new Error(`cannot run ${cmd}: ${err.message}`, { cause: err }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolve({
        code: code ?? 128 + signalNumber(signal),
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        timedOut,
      });
    });
    if (opts.input !== undefined) {
      child.stdin?.on("error", () => {}); // the process may exit without reading it all
      child.stdin?.end(opts.input);
    }
  });
}

/** Like `run`, but throws a `RunError` (with both outputs) unless the exit code is 0. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const result = await run(cmd, args, opts);
  if (result.code !== 0) throw new RunError([cmd, ...args].join(" "), result);
  return result;
}

export function mergeEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (constants.signals[signal] ?? 0);
}
