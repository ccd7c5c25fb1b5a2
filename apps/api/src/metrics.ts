import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ContentCacheStats } from "./content-cache.js";

/** The API's Prometheus metrics, in a registry of their own (tests build several apps in one process). */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Histogram({
    name: "beskaryum_http_request_duration_seconds",
    help: "HTTP requests by route kind, method and status",
    labelNames: ["route", "method", "status"],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly uploads = new Counter({
    name: "beskaryum_uploads_total",
    help: "Package uploads by outcome",
    labelNames: ["outcome"],
    registers: [this.registry],
  });
  /** `requests` children of content answered from the content cache, by method and status (few: GET/HEAD x 200/304). */
  private readonly contentChildren = new Map<string, { observe(value: number): void }>();

  /** Counts a request the content cache answered, as the onResponse hook counts the others. */
  observeContent(method: string, status: number, seconds: number): void {
    const key = `${method} ${status}`;
    let child = this.contentChildren.get(key);
    if (!child) {
      child = this.requests.labels({ route: "content", method, status: String(status) });
      this.contentChildren.set(key, child);
    }
    child.observe(seconds);
  }

  /** Set in an API worker of `http.workers` > 1: the metrics of every worker, from the primary. */
  aggregate?: () => Promise<string>;

  /** What `/metrics` answers: this process's metrics, or the whole cluster's. */
  text(): Promise<string> {
    return this.aggregate ? this.aggregate() : this.registry.metrics();
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

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "beskaryum_" });
  }
}
