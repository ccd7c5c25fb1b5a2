import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

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
  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "beskaryum_" });
  }
}
