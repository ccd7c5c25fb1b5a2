import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import type { Config, StopService } from "@beskar-yum/config";
import { YumError } from "@beskar-yum/errors";
import { AggregatorRegistry, type Registry } from "prom-client";

/**
 * `http.workers` (README "Serving performance"): the API as N processes sharing its port through
 * node:cluster. The primary serves nothing: it runs what must happen once (the storage layout
 * migration, before any worker reads storage), starts the workers, restarts one that dies, gathers
 * their metrics for `/metrics`, and stops them. Each worker is the whole API (admin, uploads,
 * content): everything it keeps is in storage or Redis, except the singletons of plugin mode and of
 * the registry replica's notifications, which is why those keep one process.
 */

const METRICS_REQUEST = "beskar-yum:metrics-request";
const METRICS_RESPONSE = "beskar-yum:metrics-response";
const LISTENING = "beskar-yum:listening";

/** How many API processes `config` asks for; a count above 1 where only one can work is refused. */
export function apiProcessCount(config: Config): number {
  const single =
    config.gossip.peers.length > 0
      ? "plugin mode (gossip.peers)"
      : config.registry
        ? "the registry replica (registry.url)"
        : undefined;
  const wanted = config.serving.workers;
  if (wanted === "auto") return single ? 1 : availableParallelism();
  if (wanted > 1 && single) {
    throw new YumError(
      "CONFIG_INVALID",
      `invalid configuration: http.workers: ${wanted} API processes cannot serve ${single}, which keeps its state in one process: use 1 or auto`,
    );
  }
  return wanted;
}

/** True in an API process started by the primary of `http.workers` > 1. */
export const isApiWorker = (): boolean => cluster.isWorker;

export interface PrimaryLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * Runs the cluster primary: starts `count` workers (this same script), restarts any that dies
 * (1 s, doubling up to 30 s while they keep dying within a minute), logs "api listening" once
 * every worker listens, and returns how to stop them all.
 */
export function runPrimary(options: {
  count: number;
  log: PrimaryLog;
  /** Forwards SIGUSR2 (the CPU profiler's signal) to the workers. */
  profiling: boolean;
  /** Logged with "api listening". */
  listeningFields: object;
}): Promise<StopService> {
  const { count, log } = options;
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  const started = new Map<Worker, number>();
  let backoffMs = 1000;
  let announced = false;
  const listening = new Set<Worker>();

  return new Promise((resolve, reject) => {
    const fork = () => {
      const worker = cluster.fork();
      started.set(worker, Date.now());
      worker.on("message", (message: { type?: string; id?: number; address?: string }) => {
        if (message?.type === METRICS_REQUEST) {
          aggregator.clusterMetrics().then(
            (text) => worker.send({ type: METRICS_RESPONSE, id: message.id, text }),
            (err: Error) => worker.send({ type: METRICS_RESPONSE, id: message.id, error: err.message }),
          );
        } else if (message?.type === LISTENING) {
          listening.add(worker);
          if (!announced && listening.size >= count) {
            announced = true;
            log.info(
              {
                ...options.listeningFields,
                address: message.address,
                workers: count,
                pids: [...listening].map((w) => w.process.pid),
              },
              "api listening",
            );
            resolve(stop);
          }
        }
      });
    };

    cluster.on("exit", (worker, code, signal) => {
      const lived = Date.now() - (started.get(worker) ?? Date.now());
      started.delete(worker);
      listening.delete(worker);
      if (stopping) return;
      if (code === 2) {
        // Invalid configuration: starting it again would fail again.
        log.error({ pid: worker.process.pid }, "api worker refused its configuration; stopping");
        if (!announced) {
          void stop("SIGTERM").then(() =>
            reject(new YumError("CONFIG_INVALID", "an api worker refused the configuration (see its log)")),
          );
        } else {
          void stop("SIGTERM").then(() => process.exit(2));
        }
        return;
      }
      backoffMs = lived > 60_000 ? 1000 : Math.min(backoffMs * 2, 30_000);
      const delay = lived > 60_000 ? 1000 : backoffMs;
      log.error(
        { pid: worker.process.pid, code, signal, livedMs: lived, restartInMs: delay },
        "api worker exited; restarting it",
      );
      setTimeout(() => {
        if (!stopping) fork();
      }, delay).unref();
    });

    if (options.profiling) {
      process.on("SIGUSR2", () => {
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGUSR2");
      });
    }

    const stop: StopService = async (signal) => {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((done) => {
              if (worker.isDead()) return done();
              const kill = setTimeout(() => worker.process.kill("SIGKILL"), 15_000);
              worker.once("exit", () => {
                clearTimeout(kill);
                done();
              });
              worker.process.kill(signal === "SIGINT" ? "SIGTERM" : (signal ?? "SIGTERM"));
            }),
        ),
      );
    };

    for (let i = 0; i < count; i++) fork();
  });
}

/**
 * In a worker: reports to the primary that it listens, exits when the primary is gone (its
 * listening socket went with it), and lets `/metrics` answer for the whole cluster.
 */
export function joinCluster(registry: Registry, address: string): void {
  AggregatorRegistry.setRegistries([registry]);
  // Its constructor installs the listener that answers the primary's requests for our metrics.
  new AggregatorRegistry();
  process.on("disconnect", () => process.exit(1));
  process.send?.({ type: LISTENING, address });
}

let nextMetricsRequest = 0;
const metricsWaiters = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();
let metricsListener = false;

/** The metrics of every worker, summed by the primary (Prometheus text). */
export function clusterMetrics(): Promise<string> {
  if (!metricsListener) {
    metricsListener = true;
    process.on("message", (message: { type?: string; id: number; text?: string; error?: string }) => {
      if (message?.type !== METRICS_RESPONSE) return;
      const waiter = metricsWaiters.get(message.id);
      metricsWaiters.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.text ?? "");
    });
  }
  const id = nextMetricsRequest++;
  return new Promise((resolve, reject) => {
    metricsWaiters.set(id, { resolve, reject });
    process.send?.({ type: METRICS_REQUEST, id });
  });
}
