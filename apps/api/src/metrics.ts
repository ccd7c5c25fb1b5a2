import type { RegistryBlobs } from "@beskar-yum/storage";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { ContentCacheStats } from "./content-cache.js";
import { RequestHistogram, routeFamily } from "./request-histogram.js";

/** The API's Prometheus metrics, in a registry of their own (tests build several apps in one process). */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new RequestHistogram(this.registry);
  readonly uploads = new Counter({
    name: "beskaryum_uploads_total",
    help: "Package uploads by outcome",
    labelNames: ["outcome"],
    registers: [this.registry],
  });
  /** Counts a request (the onResponse hook, and the content cache for what it answers itself). */
  observeRequest(url: string, method: string | undefined, status: number, seconds: number): void {
    this.requests.observe(routeFamily(url), method, status, seconds);
  }

  /** Set in an API worker of `http.workers` > 1: the metrics of every worker, from the primary. */
  aggregate?: () => Promise<string>;

  /** Metrics read from durable state when scraped (`StateMetrics`): once, by the process that answers. */
  state?: { text(): Promise<string> };

  /** What `/metrics` answers: this process's metrics, or the whole cluster's, then those of state. */
  async text(): Promise<string> {
    const [own, state] = await Promise.all([
      this.aggregate ? this.aggregate() : this.registry.metrics(),
      this.state?.text() ?? "",
    ]);
    return own.endsWith("\n") || own === "" ? own + state : `${own}\n${state}`;
  }

  /** Exposes the content cache's counters (read when scraped, nothing counted per request here). */
  watchContentCache(stats: () => ContentCacheStats): void {
    const reported = { hits: 0, misses: 0 };
    new Counter({
      name: "beskaryum_content_cache_hits_total",
      help: "Content requests answered from the in-memory content cache",
      registers: [this.registry],
      collect() {
        const { hits } = stats();
        this.inc(hits - reported.hits);
        reported.hits = hits;
      },
    });
    new Counter({
      name: "beskaryum_content_cache_misses_total",
      help: "Cacheable content requests answered by the route (first request for a URL, or the index changed)",
      registers: [this.registry],
      collect() {
        const { misses } = stats();
        this.inc(misses - reported.misses);
        reported.misses = misses;
      },
    });
    new Gauge({
      name: "beskaryum_content_cache_bytes",
      help: "Bytes of content held in memory by the content cache",
      registers: [this.registry],
      collect() {
        this.set(stats().bytes);
      },
    });
  }

  /** `storage.driver: registry`: what this process fetched from and sent to the registry (read when scraped). */
  watchRegistryBlobs(blobs: Pick<RegistryBlobs, "fetchedBytes" | "fetchedBlobs" | "sentBlobs">): void {
    this.totalOf(
      "beskaryum_registry_fetched_bytes_total",
      "Bytes of packages and repodata files fetched from the registry into this node's cache",
      () => blobs.fetchedBytes,
    );
    this.totalOf(
      "beskaryum_registry_fetched_blobs_total",
      "Packages and repodata files fetched from the registry into this node's cache",
      () => blobs.fetchedBlobs,
    );
    this.totalOf(
      "beskaryum_registry_sent_blobs_total",
      "Packages and repodata files sent to the registry (those it had already are not sent)",
      () => blobs.sentBlobs,
    );
  }

  /** A counter of a running total kept elsewhere: what it grew by since the last scrape is added. */
  private totalOf(name: string, help: string, read: () => number): void {
    let reported = 0;
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const total = read();
        this.inc(total - reported);
        reported = total;
      },
    });
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "beskaryum_" });
  }
}
