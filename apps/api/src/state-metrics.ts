import type { RepoIndex } from "@beskar-yum/storage";

/** What the per-repository metrics are read from: the repositories' indexes (durable state). */
export interface RepositorySource {
  listRepositories(): Promise<string[]>;
  openIndex(repository: string): Promise<RepoIndex | undefined>;
}

/** A BullMQ queue, as far as its depth goes. */
export interface CountedQueue {
  name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
}

interface Sample {
  /** Appended to the family's name (`_sum`, `_count`). */
  suffix?: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  name: string;
  type: "counter" | "gauge" | "summary";
  help: string;
  samples: Sample[];
}

/** Queue counts that do not come within this long (Redis away) are left out of the scrape. */
const queueTimeoutMs = 2000;

/**
 * Metrics read from durable state when `/metrics` is scraped, by the one API process that answers:
 * per repository from its index (sync and publish totals kept by the worker in the same transactions
 * as the work, so they survive restarts and need no worker endpoint), and the BullMQ queues' depth.
 * Labels name existing repositories only, so their number is bounded by the repositories'.
 */
export class StateMetrics {
  constructor(
    private readonly source: RepositorySource,
    private readonly queues: CountedQueue[] = [],
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  async text(): Promise<string> {
    const [repositories, queues] = await Promise.all([this.repositoryFamilies(), this.queueFamily()]);
    return render([...repositories, queues]);
  }

  private async repositoryFamilies(): Promise<Family[]> {
    const family = (name: string, type: Family["type"], help: string): Family => ({
      name: `beskaryum_repository_${name}`,
      type,
      help,
      samples: [],
    });
    const packages = family("packages", "gauge", "Packages the repository serves");
    const syncing = family("syncing", "gauge", "1 while a mirror sync runs");
    const syncDuration = family(
      "sync_duration_seconds",
      "summary",
      "Mirror syncs ended (failed ones too) and their duration",
    );
    const syncFailures = family("sync_failures_total", "counter", "Mirror syncs that failed");
    const syncBytes = family(
      "sync_downloaded_bytes_total",
      "counter",
      "Bytes mirror syncs downloaded from upstream",
    );
    const syncPackages = family(
      "sync_downloaded_packages_total",
      "counter",
      "Packages mirror syncs downloaded from upstream",
    );
    const lastSync = family(
      "last_sync_duration_seconds",
      "gauge",
      "Duration of the last mirror sync that ended",
    );
    const goodPackages = family(
      "last_good_sync_packages",
      "gauge",
      "Packages upstream listed in the last successful sync",
    );
    const goodTime = family(
      "last_good_sync_timestamp_seconds",
      "gauge",
      "When the last successful sync ended (unix time)",
    );
    const goodAge = family(
      "last_good_sync_age_seconds",
      "gauge",
      "Seconds since the last successful sync ended",
    );
    const publishDuration = family(
      "publish_duration_seconds",
      "summary",
      "Repodata publishes of a hosted repository and their duration",
    );
    const lastPublish = family(
      "last_publish_duration_seconds",
      "gauge",
      "Duration of the last repodata publish",
    );
    const publishTime = family(
      "last_publish_timestamp_seconds",
      "gauge",
      "When the last repodata publish happened (unix time)",
    );

    const now = this.now();
    for (const name of (await this.source.listRepositories()).sort()) {
      const labels = { repository: name };
      const sample = (f: Family, value: number, suffix?: string) =>
        f.samples.push(suffix ? { suffix, labels, value } : { labels, value });
      // A repository deleted meanwhile (or an index that cannot be read) is left out of this scrape.
      const read = await readRepository(this.source, name);
      if (!read) continue;
      const { mirror, count, sync, stats } = read;
      sample(packages, count);
      if (mirror || stats.syncs > 0) {
        sample(syncing, sync.syncing ? 1 : 0);
        sample(syncDuration, stats.syncMsTotal / 1000, "_sum");
        sample(syncDuration, stats.syncs, "_count");
        sample(syncFailures, stats.syncFailures);
        sample(syncBytes, stats.syncBytesTotal);
        sample(syncPackages, stats.syncPackagesTotal);
        if (stats.syncs > 0) sample(lastSync, stats.lastSyncMs / 1000);
        if (stats.lastGoodSyncEnd > 0) {
          sample(goodPackages, stats.lastGoodSyncPackages);
          sample(goodTime, stats.lastGoodSyncEnd);
          sample(goodAge, Math.max(0, Math.round(now - stats.lastGoodSyncEnd)));
        }
      }
      if (!mirror || stats.publishes > 0) {
        sample(publishDuration, stats.publishMsTotal / 1000, "_sum");
        sample(publishDuration, stats.publishes, "_count");
        if (stats.publishes > 0) {
          sample(lastPublish, stats.lastPublishMs / 1000);
          sample(publishTime, stats.lastPublishTime);
        }
      }
    }
    return [
      packages,
      syncing,
      syncDuration,
      syncFailures,
      syncBytes,
      syncPackages,
      lastSync,
      goodPackages,
      goodTime,
      goodAge,
      publishDuration,
      lastPublish,
      publishTime,
    ];
  }

  private async queueFamily(): Promise<Family> {
    const jobs: Family = {
      name: "beskaryum_queue_jobs",
      type: "gauge",
      help: "Jobs in a BullMQ queue by state (waiting includes prioritized)",
      samples: [],
    };
    await Promise.all(
      this.queues.map(async (queue) => {
        const counts = await withTimeout(
          queue.getJobCounts("waiting", "prioritized", "active", "delayed"),
          queueTimeoutMs,
        ).catch(() => undefined);
        if (!counts) return;
        const depth = {
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
        };
        for (const [state, value] of Object.entries(depth)) {
          jobs.samples.push({ labels: { queue: queue.name, state }, value });
        }
      }),
    );
    jobs.samples.sort((a, b) =>
      a.labels.queue! + a.labels.state! < b.labels.queue! + b.labels.state! ? -1 : 1,
    );
    return jobs;
  }
}

async function readRepository(source: RepositorySource, name: string) {
  try {
    const index = await source.openIndex(name);
    const repository = await index?.getRepository();
    if (!index || !repository || repository.deleting) return undefined;
    const [count, sync, stats] = await Promise.all([
      index.countPackages(),
      index.getSyncState(),
      index.getStats(),
    ]);
    return { mirror: repository.properties.mirror, count, sync, stats };
  } catch {
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A label value in the text format: backslash, double quote and newline escaped. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Prometheus text exposition (version 0.0.4) of the families that have samples. */
function render(families: Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (family.samples.length === 0) continue;
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const { suffix = "", labels, value } of family.samples) {
      const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
      lines.push(`${family.name}${suffix}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${value}`);
    }
  }
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}
