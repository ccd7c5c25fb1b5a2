import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { RequestHistogram, routeFamilies, routeFamily } from "./request-histogram.js";

const family = (url: string) => routeFamilies[routeFamily(url)];

describe("request latency histogram", () => {
  it("names a request's route family from its URL, never more", () => {
    expect(family("/artifacts/yum/r/repo/repodata/repomd.xml")).toBe("repodata");
    expect(family("/artifacts/yum/a/b/repo/repodata/x-primary.xml.gz?x=1")).toBe("repodata");
    expect(family("/artifacts/yum/r/repo/Packages/f/foo-1-1.noarch.rpm")).toBe("packages");
    expect(family("/artifacts/yum/api/v1/repository/logs")).toBe("admin");
    expect(family("/artifacts/yum/registry/events")).toBe("plugin");
    expect(family("/event")).toBe("plugin");
    expect(family("/info")).toBe("plugin");
    expect(family("/metrics")).toBe("ops");
    expect(family("/healthz")).toBe("ops");
    expect(family("/../../etc/passwd")).toBe("ops");
  });

  it("exposes cumulative buckets, sum and count per family, method and status class", async () => {
    const registry = new Registry();
    const histogram = new RequestHistogram(registry);
    const repodata = routeFamily("/artifacts/yum/r/repo/repodata/repomd.xml");
    histogram.observe(repodata, "GET", 200, 0.0004);
    histogram.observe(repodata, "GET", 304, 0.003);
    histogram.observe(repodata, "GET", 404, 0.2);
    histogram.observe(routeFamily("/healthz"), "PROPFIND", 599, 100);
    const text = await registry.metrics();
    const line = (labels: string) =>
      text.split("\n").find((l) => l.startsWith(`beskaryum_http_request_duration_seconds${labels} `));
    const ok = 'family="repodata",method="GET",status_class';
    expect(line(`_bucket{${ok}="2xx",le="0.001"}`)).toMatch(/ 1$/);
    expect(line(`_bucket{${ok}="3xx",le="0.001"}`)).toMatch(/ 0$/);
    expect(line(`_bucket{${ok}="3xx",le="0.005"}`)).toMatch(/ 1$/);
    expect(line(`_bucket{${ok}="3xx",le="+Inf"}`)).toMatch(/ 1$/);
    expect(line(`_count{${ok}="2xx"}`)).toMatch(/ 1$/);
    expect(line(`_sum{${ok}="4xx"}`)).toMatch(/ 0\.2$/);
    // Beyond every bucket: counted in +Inf only; unknown methods and statuses fold into bounded values.
    const odd = 'family="ops",method="OTHER",status_class="5xx"';
    expect(line(`_bucket{${odd},le="30"}`)).toMatch(/ 0$/);
    expect(line(`_bucket{${odd},le="+Inf"}`)).toMatch(/ 1$/);
    // Series without observations are not exposed.
    expect(text).not.toContain('family="admin"');
  });
});
