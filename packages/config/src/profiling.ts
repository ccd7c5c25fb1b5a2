import { mkdir, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

export interface CpuProfilerOptions {
  /** The process's `datadir`: profiles go to `<datadir>/profiles/`. */
  datadir: string;
  /** File name prefix: the process's service name. */
  name: string;
  /** One line per start, write or failure. */
  log: (message: string, fields?: Record<string, unknown>) => void;
  /** The signal that starts and stops a profile. Default SIGUSR2. */
  signal?: NodeJS.Signals;
}

/**
 * `profiling: true`. Beskar's Go processes serve pprof under /debug/pprof/; a Node process has no
 * pprof, so here the signal (SIGUSR2) starts a CPU profile of the process with V8's profiler (the
 * inspector protocol in-process: no port opened, nothing to reach from outside), and the same
 * signal again stops it and writes `<datadir>/profiles/<name>-<pid>-<time>.cpuprofile`, which Chrome
 * DevTools and speedscope open. Returns a function that removes the handler (and drops a running profile).
 */
export function installCpuProfiler(options: CpuProfilerOptions): () => void {
  const signal = options.signal ?? "SIGUSR2";
  let session: Session | undefined;
  let busy = false;
  const toggle = async () => {
    if (busy) return;
    busy = true;
    try {
      if (!session) {
        const started = new Session();
        started.connect();
        await started.post("Profiler.enable");
        await started.post("Profiler.start");
        session = started;
        options.log(`cpu profile started; send ${signal} again to write it`, { signal });
        return;
      }
      const running = session;
      session = undefined;
      const { profile } = await running.post("Profiler.stop");
      running.disconnect();
      const directory = join(options.datadir, "profiles");
      await mkdir(directory, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      const file = join(directory, `${options.name}-${process.pid}-${stamp}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      options.log("cpu profile written", { file });
    } catch (err) {
      options.log(`cpu profile failed: ${(err as Error).message}`);
    } finally {
      busy = false;
    }
  };
  const onSignal = () => void toggle();
  process.on(signal, onSignal);
  return () => {
    process.off(signal, onSignal);
    session?.disconnect();
    session = undefined;
  };
}
