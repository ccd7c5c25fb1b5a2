import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata, startUpstream, type Upstream } from "./harness/upstream.js";
import { createrepoC } from "./support/createrepo.js";
import { freePort } from "./support/processes.js";
import { type PromExposition, parsePrometheusText, promtoolCheck } from "./support/prometheus-text.js";
import { manyFixtures } from "./support/rpm-fixtures.js";
import { run } from "./support/run.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "apps/cli/bin/beskar-yum.js");
const rockyKey = readFileSync(join(rockyTestdata, "RPM-GPG-KEY-rockyofficial"), "utf8");
const rpm = (name: string) => join(rockyTestdata, "Packages", name);
const spausedd = rpm("spausedd-debuginfo-3.0.3-4.el8.x86_64.rpm");
const clufter = rpm("clufter-debugsource-0.77.1-5.el8.x86_64.rpm");
const upstreamPackages = 4;
const defaultMetricLint =
  /^beskaryum_nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

/**
 * What an operator sees: the repository log says what happened (uploads, removals, publishes, syncs),
 * through the API and `beskar-yum logs`, and /metrics exposes it in valid Prometheus text.
 */
describe("repository logs and metrics", () => {
  let stack: Stack;
  let upstream: Upstream;
  let upstreamBytes = 0;

  beforeAll(async () => {
    const small = makeTempDir("obs-upstream");
    const files = await manyFixtures(join(small, "Packages"), upstreamPackages, { prefix: "obs-" });
    upstreamBytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
    await createrepoC(small);
    upstream = await startUpstream({ small });
    stack = await startStack({ name: "observability", env: { BESKARYUM_SYNC_TIMEOUT_MS: "3000" } });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await upstream?.server.close();
    await cleanupTempDirs();
  });

  const logs = async (repository: string): Promise<{ level: string; message: string }[]> => {
    const { status, json } = await stack.call("GET", "/repository/logs", { repository });
    expect(status, JSON.stringify(json)).toBe(200);
    return json.logs;
  };
  const cliLogs = async (repository: string) => {
    const result = await run(
      "node",
      [cli, "logs", repository, "--server", stack.url, "--token", stack.token],
      {
        timeoutMs: 60_000,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    return result.stdout;
  };
  const scrape = async (): Promise<{ text: string; metrics: PromExposition }> => {
    const response = await fetch(`${stack.url}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    // The exposition format's rules, as Prometheus' own tool checks them (and its lint: names, units),
    // but for the names prom-client's default Node.js metrics have (gauges named *_total), not ours.
    const complaints = promtoolCheck(text)
      .split("\n")
      .filter((line) => line !== "" && !defaultMetricLint.test(line));
    expect(complaints).toEqual([]);
    return { text, metrics: parsePrometheusText(text) };
  };

  it("logs uploads, removals and publishes, shown by the API and `beskar-yum logs`, and counts them in /metrics", async () => {
    const repository = "artifacts/yum/obs-hosted";
    const created = await stack.call("POST", "/repository", {
      repository,
      properties: { gpg_key: Buffer.from(rockyKey).toString("base64") },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    for (const file of [spausedd, clufter])
      expect((await stack.upload(repository, file, { wait: true })).status).toBe(201);
    const again = await stack.upload(repository, clufter, { wait: true });
    expect(again.status).toBe(201);
    const removed = await stack.call("DELETE", "/repository/package", {
      repository,
      id: again.json.id,
      wait: true,
    });
    expect(removed.status, JSON.stringify(removed.json)).toBe(200);

    const lines = await logs(repository);
    const messages = lines.map((l) => l.message);
    const sha = "[0-9a-f]{64}";
    expect(messages).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^uploaded spausedd-debuginfo-3\\.0\\.3-4\\.el8\\.x86_64\\.rpm: spausedd-debuginfo-3\\.0\\.3-4\\.el8\\.x86_64, ${statSync(spausedd).size} bytes, signature verified, sha256 ${sha}$`,
        ),
      ),
    );
    expect(messages).toContainEqual(
      `uploaded clufter-debugsource-0.77.1-5.el8.x86_64.rpm: identical to the stored clufter-debugsource-0.77.1-5.el8.x86_64, nothing changed`,
    );
    expect(messages).toContainEqual(
      `removed clufter-debugsource-0.77.1-5.el8.x86_64.rpm: clufter-debugsource-0.77.1-5.el8.x86_64 (sha256 ${again.json.id})`,
    );
    const published = messages.filter((m) => m.startsWith("published revision "));
    for (const m of published)
      expect(m).toMatch(/^published revision \d+: [0-2] packages, 0 extra metadata files, in \d+ ms$/);
    // The last publish is the removal's: one package left.
    expect(published.at(-1)).toMatch(/: 1 packages,/);
    expect(lines.every((l) => l.level === "INFO")).toBe(true);
    // In order: the upload is applied before its publish, the removal last.
    const at = (prefix: string) => messages.findIndex((m) => m.startsWith(prefix));
    // (The first publish is the empty repository's, as it was created.)
    expect(at("uploaded spausedd")).toBeLessThan(messages.findIndex((m) => / 1 packages,/.test(m)));
    expect(at("removed clufter")).toBeGreaterThan(at("uploaded clufter"));

    const printed = await cliLogs("obs-hosted");
    for (const m of messages) expect(printed).toContain(`INFO   ${m}`);

    const { metrics } = await scrape();
    const labels = { repository };
    expect(metrics.value("beskaryum_repository_packages", labels)).toBe(1);
    expect(metrics.types.get("beskaryum_repository_publish_duration_seconds")).toBe("summary");
    expect(metrics.value("beskaryum_repository_publish_duration_seconds_count", labels)).toBe(
      published.length,
    );
    expect(metrics.value("beskaryum_repository_publish_duration_seconds_sum", labels)).toBeGreaterThanOrEqual(
      0,
    );
    const publishedAt = metrics.value("beskaryum_repository_last_publish_timestamp_seconds", labels);
    expect(Math.abs(publishedAt - Date.now() / 1000)).toBeLessThan(600);
    // A hosted repository has no sync series.
    expect(metrics.find("beskaryum_repository_sync_failures_total", labels)).toEqual([]);
    // Three uploads (PUT of a package: 201) and the admin calls, by route family, never by URL.
    const puts = { family: "packages", method: "PUT", status_class: "2xx" };
    expect(metrics.value("beskaryum_http_request_duration_seconds_count", puts)).toBe(3);
    expect(metrics.value("beskaryum_http_request_duration_seconds_bucket", { ...puts, le: "+Inf" })).toBe(3);
    expect(
      metrics.value("beskaryum_http_request_duration_seconds_count", {
        family: "admin",
        method: "DELETE",
        status_class: "2xx",
      }),
    ).toBe(1);
    expect(
      metrics.samples.some((s) => Object.values(s.labels).some((v) => v.includes("obs-hosted/repo"))),
    ).toBe(false);
  });

  it("logs a sync's start (credentials hidden) and summary, counts it, then a failed sync's error", async () => {
    const repository = "artifacts/yum/obs-mirror";
    const created = await stack.call("POST", "/repository", {
      repository,
      properties: { mirror: true, mirror_urls: [upstream.authUrl("small")] },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const synced = await stack.call("GET", "/repository/sync", { repository, wait: true });
    expect(synced.status, JSON.stringify(synced.json)).toBe(200);
    expect(
      (await stack.call("GET", "/repository/sync:status", { repository })).json.sync_status.sync_error,
    ).toBe("");

    const messages = (await logs(repository)).map((l) => l.message);
    const authUrl = upstream.authUrl("small").replace("test:test-password@", "test:***@");
    expect(messages).toContain(`sync started: from ${authUrl}`);
    expect(messages).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^sync finished in \\d+ ms: ${upstreamPackages} packages upstream, ${upstreamPackages} downloaded, 0 removed, (\\d+) bytes downloaded$`,
        ),
      ),
    );
    const downloaded = Number(
      / (\d+) bytes downloaded$/.exec(messages.find((m) => m.startsWith("sync finished"))!)![1],
    );
    // The packages and the metadata files.
    expect(downloaded).toBeGreaterThan(upstreamBytes);
    expect(JSON.stringify(messages)).not.toContain("test-password");
    // One summary line, not one per package.
    expect(messages.filter((m) => m.includes("obs-0"))).toEqual([]);
    expect(await cliLogs("obs-mirror")).toMatch(/INFO {3}sync finished in \d+ ms: 4 packages upstream/);

    // Content served (through the content cache the second time) is counted in its family.
    for (let i = 0; i < 2; i++)
      expect((await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml`)).status).toBe(200);

    const first = (await scrape()).metrics;
    const labels = { repository };
    expect(first.value("beskaryum_repository_last_good_sync_packages", labels)).toBe(upstreamPackages);
    expect(first.value("beskaryum_repository_packages", labels)).toBe(upstreamPackages);
    expect(first.value("beskaryum_repository_sync_downloaded_packages_total", labels)).toBe(upstreamPackages);
    expect(first.value("beskaryum_repository_sync_downloaded_bytes_total", labels)).toBe(downloaded);
    expect(first.value("beskaryum_repository_sync_duration_seconds_count", labels)).toBe(1);
    expect(first.value("beskaryum_repository_sync_failures_total", labels)).toBe(0);
    expect(first.value("beskaryum_repository_syncing", labels)).toBe(0);
    const goodAt = first.value("beskaryum_repository_last_good_sync_timestamp_seconds", labels);
    expect(Math.abs(goodAt - Date.now() / 1000)).toBeLessThan(600);
    expect(first.value("beskaryum_repository_last_good_sync_age_seconds", labels)).toBeGreaterThanOrEqual(0);
    const repodata = first.find("beskaryum_http_request_duration_seconds_count", {
      family: "repodata",
      method: "GET",
      status_class: "2xx",
    });
    expect(repodata.map((s) => s.value)).toEqual([2]);
    for (const queue of ["repo-events", "repo-sync"]) {
      for (const state of ["waiting", "active", "delayed"]) {
        expect(first.value("beskaryum_queue_jobs", { queue, state })).toBeGreaterThanOrEqual(0);
      }
    }

    // A sync from an upstream that is not there: failed, logged with its error, counted.
    const dead = `http://127.0.0.1:${await freePort()}/repo`;
    const failed = await stack.call("GET", "/repository/sync:url", {
      repository,
      mirror_url: dead,
      wait: true,
    });
    // As Beskar: a waited-for sync that failed is a 500.
    expect(failed.status, JSON.stringify(failed.json)).toBe(500);
    expect(failed.json.error.reason).toBe("SYNC_FAILED");
    const error = (await stack.call("GET", "/repository/sync:status", { repository })).json.sync_status
      .sync_error;
    expect(error).toMatch(/ECONNREFUSED/);
    const after = await logs(repository);
    expect(after.at(-2)).toMatchObject({ level: "INFO", message: `sync started: from ${dead}` });
    expect(after.at(-1)).toMatchObject({ level: "ERROR", message: `sync failed: ${error}` });

    const second = (await scrape()).metrics;
    expect(second.value("beskaryum_repository_sync_failures_total", labels)).toBe(1);
    expect(second.value("beskaryum_repository_sync_duration_seconds_count", labels)).toBe(2);
    // The last good sync is still the first one.
    expect(second.value("beskaryum_repository_last_good_sync_timestamp_seconds", labels)).toBe(goodAt);
    expect(second.value("beskaryum_repository_last_good_sync_packages", labels)).toBe(upstreamPackages);
  });
});
