import { redactText, YumError } from "@beskar-yum/errors";
import type { Pool, PoolClient, QueryResult } from "pg";
import { PostgresRegistryRecords } from "./postgres-registry-records.js";
import type {
  EventResult,
  ExtraMetadataRecord,
  FragmentKind,
  IndexTransaction,
  LogLevel,
  LogPage,
  LogRecord,
  MirrorGeneration,
  PackageChecksum,
  PackageCursor,
  PackageRecord,
  PackageSummary,
  PublishRecord,
  PublishState,
  RepoEvent,
  RepoIndex,
  RepositoryProperties,
  RepositoryRecord,
  RepositoryStats,
  StoredEvent,
  SyncState,
} from "./repo-index.js";
import { defaultLogRetention, defaultMaxPackages, type LogRetention } from "./sqlite-repo-index.js";

type Db = Pool | PoolClient;
type PackageMeta = Omit<
  PackageRecord,
  "tag" | "id" | "fileName" | "href" | "primaryXml" | "filelistsXml" | "otherXml"
>;

interface PackageRow {
  tag: string;
  id: string;
  file_name: string;
  href: string;
  meta: string;
  primary_xml: string;
  filelists_xml: string;
  other_xml: string;
}

const packageColumns = "tag, id, file_name, href, meta, primary_xml, filelists_xml, other_xml";
const upsertByHref = `ON CONFLICT (repo_id, href) DO UPDATE SET tag = excluded.tag, id = excluded.id,
  file_name = excluded.file_name, meta = excluded.meta, primary_xml = excluded.primary_xml,
  filelists_xml = excluded.filelists_xml, other_xml = excluded.other_xml`;
const summaryColumns = "tag, id, file_name, href, meta";
/** Rows a fragment iteration reads per query: memory stays bounded whatever the repository's size. */
const fragmentPage = 2000;
/** Rows written per multi-row INSERT (staged and mirror rows): one round trip each, not one per row. */
const writeBatch = 1000;
const logPruneBatch = 100;
/** The first key of `appendEvent`'s advisory locks ("bevy"); the second is the repository's id. */
const appendLockSpace = 0x62657679;
const foreignKeyViolation = "23503";
// Whole seconds rounded down, as SQLite's strftime('%s') (a cast alone would round up half the time).
const epochNow = "floor(extract(epoch from now()))::bigint";

function toRecord(row: PackageRow): PackageRecord {
  return {
    ...(JSON.parse(row.meta) as PackageMeta),
    tag: row.tag,
    id: row.id,
    fileName: row.file_name,
    href: row.href,
    primaryXml: row.primary_xml,
    filelistsXml: row.filelists_xml,
    otherXml: row.other_xml,
  };
}

function packageValues(repoId: number, record: PackageRecord): unknown[] {
  const { tag, id, fileName, href, primaryXml, filelistsXml, otherXml, ...meta } = record;
  return [repoId, tag, id, fileName, href, JSON.stringify(meta), primaryXml, filelistsXml, otherXml];
}

export interface PostgresRepoIndexOptions {
  maxPackages?: number;
  logRetention?: LogRetention;
}

/**
 * `RepoIndex` of one repository in a shared PostgreSQL database (`index.driver: postgres`): its rows
 * in the tables of every repository, keyed by its id (postgres-migrations.ts). Fenced writes lock
 * the repository's row (`SELECT ... FOR NO KEY UPDATE`) in the transaction that writes, so a stale lock
 * holder on any node is refused as with SQLite. The pool belongs to `PostgresIndexes`.
 */
export class PostgresRepoIndex implements RepoIndex {
  readonly registry: PostgresRegistryRecords;
  readonly maxPackages: number;
  private readonly logRetention: LogRetention;
  /** Log lines are written one after another: the sync's callbacks do not wait, and ids order them. */
  private logWrites: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    readonly repository: string,
    readonly repoId: number,
    options: PostgresRepoIndexOptions = {},
  ) {
    this.registry = new PostgresRegistryRecords(pool, repoId);
    this.maxPackages = options.maxPackages ?? defaultMaxPackages;
    this.logRetention = options.logRetention ?? defaultLogRetention;
  }

  get path(): string {
    return `postgres:${this.repository}`;
  }

  private async rows<T>(db: Db, sql: string, values: unknown[] = []): Promise<T[]> {
    return (await db.query({ text: sql, values: [this.repoId, ...values] })).rows as T[];
  }

  /** `sql` with the repository's id as $1 and `values` after it. */
  private async run(db: Db, sql: string, values: unknown[] = []): Promise<number> {
    return (await db.query({ text: sql, values: [this.repoId, ...values] })).rowCount ?? 0;
  }

  /** `fn` in a transaction; `begin` may add statements (no parameters) to BEGIN's round trip, their rows given to `fn`. */
  private async transaction<T>(
    fn: (client: PoolClient, begun: Record<string, unknown>[]) => Promise<T>,
    begin = "BEGIN",
  ): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      // BEGIN's own statements may fail after BEGIN did: rolled back like the rest.
      const results = (await client.query(begin)) as unknown as QueryResult | QueryResult[];
      const result = await fn(client, Array.isArray(results) ? results.at(-1)!.rows : []);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      // A connection that cannot even roll back is not given back to the pool.
      await client.query("ROLLBACK").catch((rollback: Error) => {
        broken = rollback;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * A transaction holding the repository's row lock, refusing a stale fencing token (LOCK_LOST). The
   * lock is taken in BEGIN's round trip (the id is this index's own integer, not input): every
   * event applied, publish and mirror switch is a round trip shorter.
   */
  private fenced<T>(fence: number, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.transaction(
      async (client, [row]) => {
        await this.checkFence(client, row as { fence: number } | undefined, fence);
        return fn(client);
      },
      `BEGIN; SELECT fence FROM repositories WHERE id = ${Number(this.repoId)} FOR NO KEY UPDATE`,
    );
  }

  private async checkFence(client: PoolClient, row: { fence: number } | undefined, fence: number) {
    if (!row)
      throw new YumError("REPO_NOT_FOUND", `repository ${this.repository} was deleted`, { path: this.path });
    if (fence < row.fence) {
      throw new YumError(
        "LOCK_LOST",
        `repository lock lost: fencing token ${fence} is older than ${row.fence}`,
      );
    }
    if (fence > row.fence)
      await this.run(client, "UPDATE repositories SET fence = $2 WHERE id = $1", [fence]);
  }

  async getRepository(): Promise<RepositoryRecord | undefined> {
    const [row] = await this.rows<{ created_at: number; properties: string | null; deleting: boolean }>(
      this.pool,
      "SELECT created_at, properties, deleting FROM repositories WHERE id = $1",
    );
    if (!row || row.properties === null) return undefined;
    return {
      createdAt: row.created_at,
      properties: JSON.parse(row.properties) as RepositoryProperties,
      deleting: row.deleting,
    };
  }

  async createRepository(properties: RepositoryProperties, now: number): Promise<void> {
    const changed = await this.run(
      this.pool,
      "UPDATE repositories SET created_at = $2, properties = $3 WHERE id = $1 AND properties IS NULL",
      [now, JSON.stringify(properties)],
    );
    if (changed === 0) throw new YumError("REPO_ALREADY_EXISTS", "repository already exists");
  }

  async updateRepository(properties: RepositoryProperties): Promise<void> {
    await this.run(this.pool, "UPDATE repositories SET properties = $2 WHERE id = $1", [
      JSON.stringify(properties),
    ]);
  }

  async setDeleting(deleting: boolean): Promise<void> {
    await this.run(this.pool, "UPDATE repositories SET deleting = $2 WHERE id = $1", [deleting]);
  }

  async appendEvent(event: RepoEvent, now: number): Promise<number> {
    // Under the repository's append lock, taken before the sequence number is drawn and held to the
    // commit: the events of a repository commit in the order of their sequence numbers. Not the row
    // lock the worker's transactions hold (profiled: uploads queued behind every event applied and
    // every publish); the events' foreign key takes a KEY SHARE lock, which fenced writes (NO KEY
    // UPDATE) let through and a deletion of the row does not. One statement, its own transaction.
    const gone = () =>
      new YumError("REPO_NOT_FOUND", `repository ${this.repository} was deleted`, { path: this.path });
    const [row] = await this.rows<{ seq: number }>(
      this.pool,
      `WITH serial AS (SELECT pg_advisory_xact_lock(${appendLockSpace}, ($1::bigint % 2147483647)::int))
       INSERT INTO events (repo_id, payload, created_at)
       SELECT r.id, $2, $3 FROM repositories r, serial WHERE r.id = $1 RETURNING seq`,
      [JSON.stringify(event), now],
    ).catch((err: { code?: string }) => {
      throw err.code === foreignKeyViolation ? gone() : err;
    });
    if (!row) throw gone();
    return row.seq;
  }

  async pendingEvents(limit: number): Promise<StoredEvent[]> {
    const rows = await this.rows<{ seq: number; payload: string; created_at: number }>(
      this.pool,
      "SELECT seq, payload, created_at FROM events WHERE repo_id = $1 ORDER BY seq LIMIT $2",
      [limit],
    );
    return rows.map((r) => ({
      seq: r.seq,
      event: JSON.parse(r.payload) as RepoEvent,
      createdAt: r.created_at,
    }));
  }

  async hasPendingEvents(): Promise<boolean> {
    return (await this.rows(this.pool, "SELECT 1 FROM events WHERE repo_id = $1 LIMIT 1")).length > 0;
  }

  async eventOutcome(seq: number): Promise<string | null | undefined> {
    if (seq > (await this.getState()).appliedSeq) return undefined;
    const [failure] = await this.rows<{ message: string }>(
      this.pool,
      "SELECT message FROM event_failures WHERE repo_id = $1 AND seq = $2",
      [seq],
    );
    return failure ? failure.message : null;
  }

  async applyEvent(
    seq: number,
    fence: number,
    apply: (tx: IndexTransaction) => Promise<EventResult>,
  ): Promise<EventResult> {
    return this.fenced(fence, async (client) => {
      const tx: IndexTransaction = {
        addLog: (level, message) => this.insertLog(client, level, message, Math.floor(Date.now() / 1000)),
        countPackages: () => this.packageCount(client),
        getPackageByTag: (tag) => this.packageWhere(client, "tag", tag),
        upsertPackage: (record) => this.upsertPackage(client, record),
        deletePackage: (tag) => this.retirePackages(client, "tag", tag),
        getExtraMetadata: async (dataType) =>
          (await this.extraMetadata(client)).find((r) => r.dataType === dataType),
        upsertExtraMetadata: async (record) => {
          await this.run(
            client,
            `INSERT INTO extra_metadata (repo_id, data_type, digest, record) VALUES ($1, $2, $3, $4)
             ON CONFLICT (repo_id, data_type) DO UPDATE SET digest = excluded.digest, record = excluded.record`,
            [record.dataType, record.digest, JSON.stringify(record)],
          );
        },
        deleteExtraMetadata: async (dataType) => {
          await this.run(client, "DELETE FROM extra_metadata WHERE repo_id = $1 AND data_type = $2", [
            dataType,
          ]);
        },
      };
      const result = await apply(tx);
      // The event's outcome in one statement (one round trip): gone from the queue, its failure
      // remembered, the repository's applied sequence moved.
      await this.run(
        client,
        `WITH applied AS (DELETE FROM events WHERE repo_id = $1 AND seq = $2),
         failed AS (
           INSERT INTO event_failures (repo_id, seq, message, created_at)
           SELECT $1, $2, $4, ${epochNow} WHERE $4::text IS NOT NULL
           ON CONFLICT (repo_id, seq) DO UPDATE SET message = excluded.message)
         UPDATE repositories SET applied_seq = GREATEST(applied_seq, $2), dirty = dirty OR $3 WHERE id = $1`,
        [seq, result.changed, result.error ?? null],
      );
      return result;
    });
  }

  /** Removes package rows but remembers their files for `getRetiredPackage` (as SQLite's `retirePackage`). */
  private async retirePackages(client: PoolClient, column: "tag" | "href", value: string): Promise<void> {
    await this.run(
      client,
      `INSERT INTO retired_packages (repo_id, file_name, id, retired_at, href)
       SELECT repo_id, file_name, id, ${epochNow}, href FROM packages WHERE repo_id = $1 AND ${column} = $2`,
      [value],
    );
    await this.run(client, `DELETE FROM packages WHERE repo_id = $1 AND ${column} = $2`, [value]);
  }

  private async retiredWhere(
    column: "file_name" | "href",
    value: string,
  ): Promise<{ id: string } | undefined> {
    const [row] = await this.rows<{ id: string }>(
      this.pool,
      `SELECT id FROM retired_packages WHERE repo_id = $1 AND ${column} = $2 ORDER BY retired_at DESC LIMIT 1`,
      [value],
    );
    return row;
  }

  getRetiredPackageByHref(href: string): Promise<{ id: string } | undefined> {
    return this.retiredWhere("href", href);
  }

  getRetiredPackage(fileName: string): Promise<{ id: string } | undefined> {
    return this.retiredWhere("file_name", fileName);
  }

  async pruneRetiredPackages(before: number): Promise<void> {
    // Packages no longer served: the repository's change counter moves with them (content cache).
    await this.run(
      this.pool,
      `WITH pruned AS (DELETE FROM retired_packages WHERE repo_id = $1 AND retired_at < $2 RETURNING 1)
       UPDATE repositories SET changes = changes WHERE id = $1 AND EXISTS (SELECT 1 FROM pruned)`,
      [before],
    );
  }

  private async upsertPackage(client: PoolClient, record: PackageRecord): Promise<void> {
    // A different file at the same href replaces the old one, which stays fetchable for a while. One
    // statement: the retiring INSERT reads the row as it was before the upsert (one snapshot).
    await client.query(
      `WITH retired AS (
         INSERT INTO retired_packages (repo_id, file_name, id, retired_at, href)
         SELECT repo_id, file_name, id, ${epochNow}, href FROM packages
         WHERE repo_id = $1 AND href = $5 AND (id != $3 OR file_name != $4))
       INSERT INTO packages (repo_id, ${packageColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ${upsertByHref}`,
      packageValues(this.repoId, record),
    );
  }

  /**
   * `records` into `table`, a multi-row INSERT (arrays unnested on the server) per `writeBatch` rows:
   * a mirror generation of 20,000 rows was 20,000 round trips. The last record of an href wins, as
   * when they were written one by one (one statement cannot update a row twice).
   */
  private async writePackages(
    client: PoolClient,
    table: "packages" | "staged_packages",
    records: readonly PackageRecord[],
  ): Promise<void> {
    const byHref = new Map<string, PackageRecord>();
    for (const record of records) {
      byHref.delete(record.href);
      byHref.set(record.href, record);
    }
    const unique = [...byHref.values()];
    for (let start = 0; start < unique.length; start += writeBatch) {
      const columns: unknown[][] = Array.from({ length: 8 }, () => []);
      for (const record of unique.slice(start, start + writeBatch)) {
        const values = packageValues(this.repoId, record);
        for (let i = 1; i < values.length; i++) columns[i - 1]!.push(values[i]);
      }
      await client.query(
        `INSERT INTO ${table} (repo_id, ${packageColumns})
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
         ${upsertByHref}`,
        [this.repoId, ...columns],
      );
    }
  }

  async getSyncState(): Promise<SyncState> {
    const [row] = await this.rows<SyncState>(
      this.pool,
      `SELECT syncing, start_time AS "startTime", end_time AS "endTime", total_packages AS "totalPackages",
         synced_packages AS "syncedPackages", sync_error AS "syncError", phase,
         downloaded_bytes AS "downloadedBytes", downloaded_packages AS "downloadedPackages"
       FROM repositories WHERE id = $1`,
    );
    if (!row) throw new YumError("REPO_NOT_FOUND", `repository ${this.repository} was deleted`);
    return row;
  }

  async beginSync(now: number): Promise<boolean> {
    const changed = await this.run(
      this.pool,
      `UPDATE repositories SET syncing = true, start_time = $2, end_time = 0, sync_error = '', phase = 'queued',
         downloaded_bytes = 0, downloaded_packages = 0, synced_packages = 0 WHERE id = $1 AND NOT syncing`,
      [now],
    );
    return changed === 1;
  }

  async updateSyncState(patch: Partial<Omit<SyncState, "syncing" | "startTime">>): Promise<void> {
    const columns: Record<string, string> = {
      endTime: "end_time",
      totalPackages: "total_packages",
      syncedPackages: "synced_packages",
      syncError: "sync_error",
      phase: "phase",
      downloadedBytes: "downloaded_bytes",
      downloadedPackages: "downloaded_packages",
    };
    const entries = Object.entries(patch).filter(([key]) => columns[key] !== undefined);
    if (entries.length === 0) return;
    const sets = entries.map(([key], i) => `${columns[key]} = $${i + 2}`).join(", ");
    await this.run(
      this.pool,
      `UPDATE repositories SET ${sets} WHERE id = $1`,
      entries.map(([, value]) => value),
    );
  }

  async endSync(now: number, error: string, end: { durationMs?: number; log?: string } = {}): Promise<void> {
    // The sync's own lines (`addLog`, not awaited by its callbacks) come before the one that ends it.
    await this.logWrites;
    await this.transaction(async (client) => {
      const [sync] = await this.rows<{ syncing: boolean; start_time: number }>(
        client,
        "SELECT syncing, start_time FROM repositories WHERE id = $1 FOR NO KEY UPDATE",
      );
      if (!sync) throw new YumError("REPO_NOT_FOUND", `repository ${this.repository} was deleted`);
      // A sync is counted once, however many times something ends it.
      if (sync.syncing) {
        const ms = Math.round(end.durationMs ?? Math.max(0, now - sync.start_time) * 1000);
        await this.run(
          client,
          `UPDATE repositories SET syncs = syncs + 1, sync_failures = sync_failures + CASE WHEN $3 THEN 0 ELSE 1 END,
             sync_ms_total = sync_ms_total + $4, last_sync_ms = $4,
             sync_bytes_total = sync_bytes_total + downloaded_bytes,
             sync_packages_total = sync_packages_total + downloaded_packages,
             last_good_sync_end = CASE WHEN $3 THEN $2 ELSE last_good_sync_end END,
             last_good_sync_packages = CASE WHEN $3 THEN total_packages ELSE last_good_sync_packages END
           WHERE id = $1`,
          [now, error === "", ms],
        );
      }
      await this.run(
        client,
        "UPDATE repositories SET syncing = false, end_time = $2, sync_error = $3, phase = '' WHERE id = $1",
        [now, redactText(error)],
      );
      if (end.log) await this.insertLog(client, error ? "ERROR" : "INFO", end.log, now);
    });
  }

  async getStats(): Promise<RepositoryStats> {
    const [row] = await this.rows<RepositoryStats>(
      this.pool,
      `SELECT syncs, sync_failures AS "syncFailures", sync_ms_total AS "syncMsTotal", last_sync_ms AS "lastSyncMs",
         last_good_sync_end AS "lastGoodSyncEnd", last_good_sync_packages AS "lastGoodSyncPackages",
         sync_bytes_total AS "syncBytesTotal", sync_packages_total AS "syncPackagesTotal", publishes,
         publish_ms_total AS "publishMsTotal", last_publish_ms AS "lastPublishMs", last_publish_time AS "lastPublishTime"
       FROM repositories WHERE id = $1`,
    );
    if (!row) throw new YumError("REPO_NOT_FOUND", `repository ${this.repository} was deleted`);
    return row;
  }

  async stagePackages(fence: number, records: PackageRecord[]): Promise<void> {
    await this.fenced(fence, (client) => this.writePackages(client, "staged_packages", records));
  }

  async clearStagedPackages(fence: number): Promise<void> {
    await this.fenced(fence, (client) => this.run(client, "DELETE FROM staged_packages WHERE repo_id = $1"));
  }

  /** Moves every staged row into `packages` inside the caller's transaction, on the server (no rows through here). */
  private async switchInStaged(client: PoolClient): Promise<void> {
    await this.run(
      client,
      `INSERT INTO retired_packages (repo_id, file_name, id, retired_at, href)
       SELECT p.repo_id, p.file_name, p.id, ${epochNow}, p.href
       FROM packages p JOIN staged_packages s ON s.repo_id = p.repo_id AND s.href = p.href
       WHERE p.repo_id = $1 AND (s.id != p.id OR s.file_name != p.file_name)`,
    );
    await this.run(
      client,
      `INSERT INTO packages (repo_id, ${packageColumns})
       SELECT repo_id, ${packageColumns} FROM staged_packages WHERE repo_id = $1 ${upsertByHref}`,
    );
    await this.run(client, "DELETE FROM staged_packages WHERE repo_id = $1");
  }

  /** The database does the work: nothing blocks this process's event loop, however large the generation. */
  commitMirrorGenerationAsync(fence: number, generation: MirrorGeneration): Promise<void> {
    return this.commitMirrorGeneration(fence, generation);
  }

  async commitMirrorGeneration(fence: number, generation: MirrorGeneration): Promise<void> {
    await this.fenced(fence, async (client) => {
      for (const tag of generation.deleteTags) await this.retirePackages(client, "tag", tag);
      for (const href of generation.deleteHrefs ?? []) await this.retirePackages(client, "href", href);
      await this.writePackages(client, "staged_packages", generation.upsert ?? []);
      await this.switchInStaged(client);
      await this.retireRepomd(client);
      await this.run(
        client,
        "UPDATE repositories SET revision = $2, repomd = $3, repomd_asc = $4, dirty = false WHERE id = $1",
        [generation.revision, generation.repomd, generation.repomdAsc ?? null],
      );
      await this.registry.bumpGeneration(client);
    });
  }

  /** Keeps the repomd.xml being replaced for the grace period (a day, 2,000 at most), as SQLite's. */
  private async retireRepomd(client: PoolClient): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    await this.run(
      client,
      "INSERT INTO retired_repomd (repo_id, retired_at, repomd) SELECT id, $2, repomd FROM repositories WHERE id = $1 AND repomd IS NOT NULL",
      [now],
    );
    await this.run(client, "DELETE FROM retired_repomd WHERE repo_id = $1 AND retired_at < $2", [
      now - 86_400,
    ]);
    await this.run(
      client,
      `DELETE FROM retired_repomd WHERE repo_id = $1 AND n < (
         SELECT n FROM retired_repomd WHERE repo_id = $1 ORDER BY n DESC OFFSET 1999 LIMIT 1)`,
    );
  }

  async retiredRepomdNaming(fileName: string, since: number): Promise<string[]> {
    const rows = await this.rows<{ repomd: string }>(
      this.pool,
      `SELECT repomd FROM retired_repomd WHERE repo_id = $1 AND retired_at >= $2 AND strpos(repomd, $3) > 0
       ORDER BY retired_at DESC, n DESC LIMIT 4`,
      [since, fileName],
    );
    return rows.map((r) => r.repomd);
  }

  async getState(): Promise<PublishState> {
    const [row] = await this.rows<{
      applied_seq: number;
      published_seq: number;
      dirty: boolean;
      revision: number;
      repomd: string | null;
      repomd_asc: string | null;
    }>(
      this.pool,
      "SELECT applied_seq, published_seq, dirty, revision, repomd, repomd_asc FROM repositories WHERE id = $1",
    );
    if (!row) throw new YumError("REPO_NOT_FOUND", `repository ${this.repository} was deleted`);
    return {
      appliedSeq: row.applied_seq,
      publishedSeq: row.published_seq,
      dirty: row.dirty,
      revision: row.revision,
      repomd: row.repomd ?? undefined,
      repomdAsc: row.repomd_asc ?? undefined,
    };
  }

  async recordPublish(fence: number, publish: PublishRecord): Promise<void> {
    await this.fenced(fence, async (client) => {
      await this.retireRepomd(client);
      const now = Math.floor(Date.now() / 1000);
      // Events applied while the files were written keep the repository dirty. A generation signed
      // again (key rotation, no duration) is not a publish of its own in the stats.
      const counted = publish.durationMs !== undefined;
      await this.run(
        client,
        `UPDATE repositories SET published_seq = GREATEST(published_seq, $2), revision = $3, repomd = $4,
           repomd_asc = $5, dirty = CASE WHEN applied_seq > $2 THEN dirty ELSE false END,
           publishes = publishes + CASE WHEN $6 THEN 1 ELSE 0 END,
           publish_ms_total = publish_ms_total + CASE WHEN $6 THEN $7 ELSE 0 END,
           last_publish_ms = CASE WHEN $6 THEN $7 ELSE last_publish_ms END,
           last_publish_time = CASE WHEN $6 THEN $8 ELSE last_publish_time END
         WHERE id = $1`,
        [
          publish.seq,
          publish.revision,
          publish.repomd,
          publish.repomdAsc ?? null,
          counted,
          Math.round(publish.durationMs ?? 0),
          now,
        ],
      );
      await this.registry.bumpGeneration(client);
      await this.run(client, "DELETE FROM event_failures WHERE repo_id = $1 AND created_at < $2", [
        now - 86_400,
      ]);
      if (publish.log) await this.insertLog(client, "INFO", publish.log, now);
    });
  }

  async markPublished(fence: number, seq: number): Promise<void> {
    await this.fenced(fence, (client) =>
      this.run(client, "UPDATE repositories SET published_seq = GREATEST(published_seq, $2) WHERE id = $1", [
        seq,
      ]),
    );
  }

  private async packageWhere(
    db: Db,
    column: "id" | "tag" | "file_name" | "href",
    value: string,
  ): Promise<PackageRecord | undefined> {
    const [row] = await this.rows<PackageRow>(
      db,
      `SELECT ${packageColumns} FROM packages WHERE repo_id = $1 AND ${column} = $2 ORDER BY href LIMIT 1`,
      [value],
    );
    return row ? toRecord(row) : undefined;
  }

  getPackageById(id: string): Promise<PackageRecord | undefined> {
    return this.packageWhere(this.pool, "id", id);
  }

  getPackageByTag(tag: string): Promise<PackageRecord | undefined> {
    return this.packageWhere(this.pool, "tag", tag);
  }

  getPackageByHref(href: string): Promise<PackageRecord | undefined> {
    return this.packageWhere(this.pool, "href", href);
  }

  getPackageByFileName(fileName: string): Promise<PackageRecord | undefined> {
    return this.packageWhere(this.pool, "file_name", fileName);
  }

  async listPackages(): Promise<PackageRecord[]> {
    const rows = await this.rows<PackageRow>(
      this.pool,
      `SELECT ${packageColumns} FROM packages WHERE repo_id = $1 ORDER BY href`,
    );
    return rows.map(toRecord);
  }

  async listPackageChecksums(): Promise<PackageChecksum[]> {
    const rows = await this.rows<{ href: string; tag: string; upstream: string | null }>(
      this.pool,
      "SELECT href, tag, meta::json->>'upstreamChecksum' AS upstream FROM packages WHERE repo_id = $1 ORDER BY href",
    );
    return rows.map((r) =>
      r.upstream === null
        ? { href: r.href, tag: r.tag }
        : { href: r.href, tag: r.tag, upstreamChecksum: r.upstream },
    );
  }

  listPackageBlobs(): Promise<{ href: string; id: string }[]> {
    return this.rows<{ href: string; id: string }>(
      this.pool,
      "SELECT href, id FROM packages WHERE repo_id = $1",
    );
  }

  countPackages(): Promise<number> {
    return this.packageCount(this.pool);
  }

  /** Kept in the repository's row by triggers (migration 3): no count of rows per upload. */
  private async packageCount(db: Db): Promise<number> {
    const [row] = await this.rows<{ n: number }>(
      db,
      "SELECT package_count AS n FROM repositories WHERE id = $1",
    );
    if (!row) throw new YumError("REPO_NOT_FOUND", `repository ${this.repository} was deleted`);
    return row.n;
  }

  async *iterateFragments(kind: FragmentKind): AsyncIterableIterator<string> {
    const column = { primary: "primary_xml", filelists: "filelists_xml", other: "other_xml" }[kind];
    // Keyset pages by href: a page's cost does not grow with where it starts, and no connection is
    // held between pages (the publisher holds the repository lock, so the rows do not change). The
    // first page has a statement of its own: `($2 IS NULL OR href > $2)` kept the planner from using
    // the bound on the index, and every page scanned the repository from its first row (measured:
    // 3.4 s to read 20,000 packages' fragments, 0.3 s with the bound).
    let after: string | undefined;
    for (;;) {
      const rows =
        after === undefined
          ? await this.rows<{ href: string; xml: string }>(
              this.pool,
              `SELECT href, ${column} AS xml FROM packages WHERE repo_id = $1 ORDER BY href LIMIT $2`,
              [fragmentPage],
            )
          : await this.rows<{ href: string; xml: string }>(
              this.pool,
              `SELECT href, ${column} AS xml FROM packages WHERE repo_id = $1 AND href > $2 ORDER BY href LIMIT $3`,
              [after, fragmentPage],
            );
      for (const row of rows) yield row.xml;
      if (rows.length < fragmentPage) return;
      after = rows.at(-1)!.href;
    }
  }

  async listPackageSummaries(limit: number, after?: PackageCursor): Promise<PackageSummary[]> {
    const rows = after
      ? await this.rows<Omit<PackageRow, "primary_xml" | "filelists_xml" | "other_xml">>(
          this.pool,
          `SELECT ${summaryColumns} FROM packages WHERE repo_id = $1 AND (href, tag) > ($2, $3)
           ORDER BY href, tag LIMIT $4`,
          [after.href, after.tag, limit],
        )
      : await this.rows<Omit<PackageRow, "primary_xml" | "filelists_xml" | "other_xml">>(
          this.pool,
          `SELECT ${summaryColumns} FROM packages WHERE repo_id = $1 ORDER BY href, tag LIMIT $2`,
          [limit],
        );
    return rows.map((row) => ({
      ...(JSON.parse(row.meta) as PackageMeta),
      tag: row.tag,
      id: row.id,
      fileName: row.file_name,
      href: row.href,
    }));
  }

  async referencedDigests(): Promise<Set<string>> {
    const rows = await this.rows<{ id: string }>(
      this.pool,
      "SELECT id FROM packages WHERE repo_id = $1 UNION SELECT digest FROM extra_metadata WHERE repo_id = $1",
    );
    return new Set(rows.map((r) => r.id));
  }

  listExtraMetadata(): Promise<ExtraMetadataRecord[]> {
    return this.extraMetadata(this.pool);
  }

  private async extraMetadata(db: Db): Promise<ExtraMetadataRecord[]> {
    const rows = await this.rows<{ record: string }>(
      db,
      "SELECT record FROM extra_metadata WHERE repo_id = $1 ORDER BY data_type",
    );
    return rows.map((r) => JSON.parse(r.record) as ExtraMetadataRecord);
  }

  /** Every repository log line goes through here (or `insertLog` in a transaction of its own). */
  addLog(level: LogLevel, message: string, now: number): Promise<void> {
    const write = this.logWrites.then(() =>
      this.transaction((client) => this.insertLog(client, level, message, now)),
    );
    this.logWrites = write.catch(() => undefined);
    return write;
  }

  /** A log line, stored with its secrets hidden (redactText), and its pruning, in the caller's transaction. */
  private async insertLog(client: PoolClient, level: LogLevel, message: string, now: number): Promise<void> {
    if (level === "INFO" && this.logRetention.info === false) return;
    await this.run(client, "INSERT INTO logs (repo_id, level, date, message) VALUES ($1, $2, $3, $4)", [
      level,
      now,
      redactText(message),
    ]);
    await this.pruneLogs(client, now);
  }

  /** Retention on write, a batch at a time (as SQLite's): beyond the newest `maxRows`, or too old. */
  private async pruneLogs(client: PoolClient, now: number): Promise<void> {
    const { maxAgeSeconds, maxRows } = this.logRetention;
    await this.run(
      client,
      `DELETE FROM logs WHERE id IN (
         SELECT id FROM (SELECT id, date FROM logs WHERE repo_id = $1 ORDER BY id LIMIT $2) oldest
         WHERE id < (SELECT id FROM logs WHERE repo_id = $1 ORDER BY id DESC OFFSET $3 LIMIT 1) OR date < $4)`,
      [logPruneBatch, maxRows - 1, now - maxAgeSeconds],
    );
  }

  listLogs(): Promise<LogRecord[]> {
    return this.rows<LogRecord>(
      this.pool,
      "SELECT level, date, message FROM logs WHERE repo_id = $1 ORDER BY id",
    );
  }

  listLogsPage(limit: number, afterId = 0): Promise<LogPage> {
    return this.rows<LogPage[number]>(
      this.pool,
      "SELECT id, level, date, message FROM logs WHERE repo_id = $1 AND id > $2 ORDER BY id LIMIT $3",
      [afterId, limit],
    );
  }

  async listLogsPageBefore(limit: number, atMostId = Number.MAX_SAFE_INTEGER): Promise<LogPage> {
    const rows = await this.rows<LogPage[number]>(
      this.pool,
      "SELECT id, level, date, message FROM logs WHERE repo_id = $1 AND id <= $2 ORDER BY id DESC LIMIT $3",
      [atMostId, limit],
    );
    return rows.reverse();
  }

  /** The pool is `PostgresIndexes`': nothing of this repository's to close. */
  close(): void {}
}
