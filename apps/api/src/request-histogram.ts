import type { Metric, Registry } from "prom-client";

/** One line of the exposition, as prom-client's metrics give them to its registry and aggregator. */
interface Value {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * What a request was for, by the first characters of its URL (never the URL itself: the label set
 * stays bounded whatever clients ask for).
 */
export const routeFamilies = ["repodata", "packages", "admin", "plugin", "ops"] as const;
export type RouteFamily = (typeof routeFamilies)[number];

const contentPrefix = "/artifacts/yum/";

/** Index into `routeFamilies` of a request URL: no allocation, a few prefix checks. */
export function routeFamily(url: string): number {
  if (url.startsWith(contentPrefix)) {
    if (url.startsWith("api/", contentPrefix.length)) return 2;
    // The registry replica's webhook: an integration endpoint, like Beskar's /event.
    if (url.startsWith("registry/", contentPrefix.length)) return 3;
    return url.includes("/repo/repodata/") ? 0 : 1;
  }
  if (url.startsWith("/info") || url.startsWith("/event")) return 3;
  return 4;
}

const methods = ["GET", "HEAD", "PUT", "POST", "DELETE", "OTHER"] as const;
const statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

function methodIndex(method: string | undefined): number {
  switch (method) {
    case "GET":
      return 0;
    case "HEAD":
      return 1;
    case "PUT":
      return 2;
    case "POST":
      return 3;
    case "DELETE":
      return 4;
    default:
      return 5;
  }
}

const name = "beskaryum_http_request_duration_seconds";
const help = "HTTP request latency by route family, method and status class";
export const requestBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The request latency histogram, counted into preallocated slots: observing a request allocates
 * nothing and hashes no labels (prom-client's Histogram builds a label key per observation, which
 * the content cache's hits would pay on every request). It registers into a prom-client registry as
 * a metric of its own, so the exposition and the cluster aggregation of `http.workers` are
 * prom-client's.
 */
export class RequestHistogram {
  readonly name = name;
  readonly help = help;
  readonly type = "histogram";
  readonly aggregator = "sum";
  /** Per series (family x method x status class): a count per bucket (not cumulative), then sum and count. */
  private readonly data: Float64Array;
  private readonly stride = requestBuckets.length + 2;

  constructor(registry: Registry) {
    this.data = new Float64Array(routeFamilies.length * methods.length * statusClasses.length * this.stride);
    registry.registerMetric(this as unknown as Metric);
  }

  observe(family: number, method: string | undefined, status: number, seconds: number): void {
    const statusClass = Math.min(Math.max(Math.trunc(status / 100), 1), 5) - 1;
    const series = (family * methods.length + methodIndex(method)) * statusClasses.length + statusClass;
    const base = series * this.stride;
    for (let b = 0; b < requestBuckets.length; b++) {
      if (seconds <= requestBuckets[b]!) {
        this.data[base + b]! += 1;
        break;
      }
    }
    this.data[base + requestBuckets.length]! += seconds;
    this.data[base + requestBuckets.length + 1]! += 1;
  }

  /** prom-client's view of the metric: series that have observations, cumulative buckets. */
  get(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: string }> {
    const values: Value[] = [];
    routeFamilies.forEach((family, f) => {
      methods.forEach((method, m) => {
        statusClasses.forEach((statusClass, s) => {
          const base = ((f * methods.length + m) * statusClasses.length + s) * this.stride;
          const count = this.data[base + requestBuckets.length + 1]!;
          if (count === 0) return;
          const labels = { family, method, status_class: statusClass };
          let cumulative = 0;
          requestBuckets.forEach((bound, b) => {
            cumulative += this.data[base + b]!;
            values.push({
              metricName: `${name}_bucket`,
              labels: { ...labels, le: bound },
              value: cumulative,
            });
          });
          values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: "+Inf" }, value: count });
          values.push({ metricName: `${name}_sum`, labels, value: this.data[base + requestBuckets.length]! });
          values.push({ metricName: `${name}_count`, labels, value: count });
        });
      });
    });
    return Promise.resolve({ name, help, type: "histogram", values, aggregator: "sum" });
  }

  reset(): void {
    this.data.fill(0);
  }
}
