import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type ErrorCode, errorCodes, redactText, YumError } from "@beskar-yum/errors";
import Database from "better-sqlite3";
import { fileIdentity } from "./file-identity.js";
import { indexOpenError } from "./open-errors.js";
import { prepared } from "./prepared.js";
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
import { migrate } from "./schema-migrations.js";
import { SqliteRegistryRecords } from "./sqlite-registry-records.js";

/** Columns kept as one JSON document: everything of a package that is only read back whole. */
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

function toRecord(row: PackageRow): PackageRecord {
  const meta = JSON.parse(row.meta) as PackageMeta;
  return {
    ...meta,
    tag: row.tag,
    id: row.id,
    fileName: row.file_name,
    href: row.href,
    primaryXml: row.primary_xml,
    filelistsXml: row.filelists_xml,
    otherXml: row.other_xml,
  };
}

function toMeta(record: PackageRecord): PackageMeta {
  const { tag, id, fileName, href, primaryXml, filelistsXml, otherXml, ...meta } = record;
  return meta;
}

/** How long a repository's log lines are kept, and how many at most (`limits.log_*`). */
export interface LogRetention {
  /** Lines older than this many seconds are pruned. */
  maxAgeSeconds: number;
  /** The newest this many lines are kept. */
  maxRows: number;
  /** False: INFO lines are not written at all (`log.repository_info`; errors only, as Beskar). */
  info?: boolean;
}

/**
 * The handle cache (`RepositoryStorage`), told when an index opens, uses or closes its connection, so
 * that it can close the least recently used idle ones (`closeIfIdle`) beyond its bound.
 */
export interface IndexHandles {
  opened(index: SqliteRepoIndex): void;
  used(index: SqliteRepoIndex): void;
  closed(index: SqliteRepoIndex): void;
}

export interface SqliteRepoIndexOptions {
  /** With false, a missing file is an error instead of a new index. */
  create: boolean;
  /** `limits.max_packages_per_repository`. Default 500,000. */
  maxPackages?: number;
  /** Default: 30 days and 10,000 lines. */
  logRetention?: LogRetention;
  handles?: IndexHandles;
}

export const defaultMaxPackages = 500_000;
/** Rows a mirror commit moves beyond which it runs on a thread (`commitMirrorGenerationAsync`). */
const defaultOffThreadRows = 20_000;
const commitThreadUrl = new URL("./commit-thread.js", import.meta.url);
export const defaultLogRetention: LogRetention = { maxAgeSeconds: 30 * 86_400, maxRows: 10_000 };
/** Log lines pruned per write at most: a backlog (an index of an earlier build) goes down a batch per line written. */
const logPruneBatch = 100;

/** Opens the database at `path`, brought to the current schema; errors are classified (`indexOpenError`). */
function openDatabase(path: string, create: boolean): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: !create });
    db.pragma("busy_timeout = 10000");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    migrate(db, path);
    return db;
  } catch (err) {
    db?.close();
    throw indexOpenError(err, path);
  }
}

/**
 * `RepoIndex` on SQLite in WAL mode: one file per repository, shared safely by the API process and
 * any number of worker processes on the same machine (SQLite's own locking; `busy_timeout` waits).
 *
 * The object outlives its connection: the handle cache may close the connection of an idle index
 * (no transaction running, no iteration open) to bound the process's file descriptors, and the
 * next call reopens it, so a caller may hold an index across awaits. An index whose file was
 * deleted (or replaced: the repository deleted and created again) meanwhile is not reopened: its
 * next call fails with REPO_NOT_FOUND.
 */
export class SqliteRepoIndex implements RepoIndex {
  private connection: Database.Database | undefined;
  /** Transactions and iterations running on the connection: while > 0 it is never closed by the cache. */
  private busy = 0;
  /** The end of the last `asyncTransaction` queued: they run one after another. */
  private asyncTransactions: Promise<void> = Promise.resolve();
  private closed = false;
  /** The file this index opened (`fileIdentity`): it reopens that one only. */
  readonly identity: string;
  readonly registry: SqliteRegistryRecords;
  readonly maxPackages: number;
  private readonly logRetention: LogRetention;
  private readonly handles: IndexHandles | undefined;

  private constructor(
    readonly path: string,
    db: Database.Database,
    options: SqliteRepoIndexOptions,
  ) {
    this.connection = db;
    this.identity = fileIdentity(path);
    this.maxPackages = options.maxPackages ?? defaultMaxPackages;
    this.logRetention = options.logRetention ?? defaultLogRetention;
    this.handles = options.handles;
    this.registry = new SqliteRegistryRecords(() => this.db);
    this.handles?.opened(this);
  }

  /** The connection, reopened when the handle cache closed it. */
  private get db(): Database.Database {
    if (this.connection) {
      this.handles?.used(this);
      return this.connection;
    }
    if (this.closed) throw new YumError("INTERNAL", `repository index ${this.path} is closed`);
    let identity: string | undefined;
    try {
      identity = fileIdentity(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw indexOpenError(err, this.path);
    }
    if (identity !== this.identity) {
      throw new YumError("REPO_NOT_FOUND", `repository index ${this.path} was deleted`, { path: this.path });
    }
    this.connection = openDatabase(this.path, false);
    this.handles?.opened(this);
    return this.connection;
  }

  /** True while the connection is open. */
  get isOpen(): boolean {
    return this.connection !== undefined;
  }

  /** Closes the connection unless a transaction or an iteration uses it; it reopens on the next call. */
  closeIfIdle(): boolean {
    if (this.busy > 0) return false;
    this.connection?.close();
    this.connection = undefined;
    return true;
  }

  private statement(sql: string): Database.Statement {
    return prepared(this.db, sql);
  }

  /** An IMMEDIATE transaction; the connection stays open (and the same) until it ends. */
  private transaction<T>(fn: () => T): T {
    const db = this.db;
    this.busy++;
    try {
      return db.transaction(fn).immediate();
    } finally {
      this.busy--;
    }
  }

  /**
   * A transaction whose body awaits (`applyEvent`'s callback). Better-sqlite3's transactions are
   * synchronous, so this one is opened and ended by hand; the callback only makes `IndexTransaction`
   * calls, which answer at once, so nothing but microtasks runs while it is open. One at a time per
   * index: a second waits for the first to end. A synchronous transaction (`transaction`) that
   * starts meanwhile on this connection nests as a savepoint (better-sqlite3 does that when one is open).
   */
  private async asyncTransaction<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.asyncTransactions;
    let done!: () => void;
    this.asyncTransactions = new Promise<void>((resolve) => {
      done = resolve;
    });
    await previous;
    try {
      const db = this.db;
      this.busy++;
      try {
        db.exec("BEGIN IMMEDIATE");
        const result = await fn();
        db.exec("COMMIT");
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec("ROLLBACK");
        throw err;
      } finally {
        this.busy--;
      }
    } finally {
      done();
    }
  }

  /** Opens the index at `path`; with `create: false` a missing file is an error instead of a new index. */
  static open(path: string, options: SqliteRepoIndexOptions): SqliteRepoIndex {
    return new SqliteRepoIndex(path, openDatabase(path, options.create), options);
  }

  async getRepository(): Promise<RepositoryRecord | undefined> {
    const row = this.statement(
      "SELECT created_at, properties, deleting FROM repository WHERE id = 1",
    ).get() as { created_at: number; properties: string; deleting: number } | undefined;
    if (!row) return undefined;
    return {
      createdAt: row.created_at,
      properties: JSON.parse(row.properties) as RepositoryProperties,
      deleting: row.deleting === 1,
    };
  }

  async createRepository(properties: RepositoryProperties, now: number): Promise<void> {
    const result = this.statement(
      "INSERT OR IGNORE INTO repository (id, created_at, properties) VALUES (1, ?, ?)",
    ).run(now, JSON.stringify(properties));
    if (result.changes === 0) throw new YumError("REPO_ALREADY_EXISTS", "repository already exists");
  }

  async updateRepository(properties: RepositoryProperties): Promise<void> {
    this.statement("UPDATE repository SET properties = ? WHERE id = 1").run(JSON.stringify(properties));
  }

  async setDeleting(deleting: boolean): Promise<void> {
    this.statement("UPDATE repository SET deleting = ? WHERE id = 1").run(deleting ? 1 : 0);
  }

  async appendEvent(event: RepoEvent, now: number): Promise<number> {
    const result = this.statement("INSERT INTO events (payload, created_at) VALUES (?, ?)").run(
      JSON.stringify(event),
      now,
    );
    return Number(result.lastInsertRowid);
  }

  async pendingEvents(limit: number): Promise<StoredEvent[]> {
    const rows = this.statement("SELECT seq, payload, created_at FROM events ORDER BY seq LIMIT ?").all(
      limit,
    ) as { seq: number; payload: string; created_at: number }[];
    return rows.map((r) => ({
      seq: r.seq,
      event: JSON.parse(r.payload) as RepoEvent,
      createdAt: r.created_at,
    }));
  }

  async hasPendingEvents(): Promise<boolean> {
    return this.statement("SELECT 1 FROM events LIMIT 1").get() !== undefined;
  }

  async eventOutcome(seq: number): Promise<string | null | undefined> {
    const state = this.state();
    if (seq > state.appliedSeq) return undefined;
    const failure = this.statement("SELECT message FROM event_failures WHERE seq = ?").get(seq) as
      | { message: string }
      | undefined;
    return failure ? failure.message : null;
  }

  private checkFence(fence: number): void {
    const { fence: newest } = this.statement("SELECT fence FROM state WHERE id = 1").get() as {
      fence: number;
    };
    if (fence < newest) {
      throw new YumError("LOCK_LOST", `repository lock lost: fencing token ${fence} is older than ${newest}`);
    }
    if (fence > newest) this.statement("UPDATE state SET fence = ? WHERE id = 1").run(fence);
  }

  async applyEvent(
    seq: number,
    fence: number,
    apply: (tx: IndexTransaction) => Promise<EventResult>,
  ): Promise<EventResult> {
    const tx: IndexTransaction = {
      addLog: async (level, message) => this.insertLog(level, message, Math.floor(Date.now() / 1000)),
      countPackages: async () => this.packageCount(),
      getPackageByTag: async (tag) => this.getPackageWhere("tag", tag),
      upsertPackage: async (record) => this.upsertPackage(record),
      deletePackage: async (tag) => this.retirePackage(tag),
      getExtraMetadata: async (dataType) => this.extraMetadata().find((r) => r.dataType === dataType),
      upsertExtraMetadata: async (record) => {
        this.statement(
          "INSERT OR REPLACE INTO extra_metadata (data_type, digest, record) VALUES (?, ?, ?)",
        ).run(record.dataType, record.digest, JSON.stringify(record));
      },
      deleteExtraMetadata: async (dataType) => {
        this.statement("DELETE FROM extra_metadata WHERE data_type = ?").run(dataType);
      },
    };
    return this.asyncTransaction(async () => {
      this.checkFence(fence);
      const result = await apply(tx);
      this.statement("DELETE FROM events WHERE seq = ?").run(seq);
      if (result.error !== undefined) {
        this.statement(
          "INSERT OR REPLACE INTO event_failures (seq, message, created_at) VALUES (?, ?, ?)",
        ).run(seq, result.error, Math.floor(Date.now() / 1000));
      }
      this.statement(
        "UPDATE state SET applied_seq = MAX(applied_seq, ?), dirty = dirty OR ? WHERE id = 1",
      ).run(seq, result.changed ? 1 : 0);
      return result;
    });
  }

  /**
   * Removes a package row but remembers its file for `getRetiredPackage`: clients still reading the
   * previous repodata generation can fetch it until its blob is collected.
   */
  private retirePackage(tag: string): void {
    this.statement(
      "INSERT INTO retired_packages (file_name, id, retired_at, href) SELECT file_name, id, CAST(strftime('%s','now') AS INTEGER), href FROM packages WHERE tag = ?",
    ).run(tag);
    this.statement("DELETE FROM packages WHERE tag = ?").run(tag);
  }

  /** `retirePackage` of the one row at `href` (a mirror's rows: one tag may have several). */
  private retirePackageAt(href: string): void {
    this.statement(
      "INSERT INTO retired_packages (file_name, id, retired_at, href) SELECT file_name, id, CAST(strftime('%s','now') AS INTEGER), href FROM packages WHERE href = ?",
    ).run(href);
    this.statement("DELETE FROM packages WHERE href = ?").run(href);
  }

  async getRetiredPackageByHref(href: string): Promise<{ id: string } | undefined> {
    return this.statement(
      "SELECT id FROM retired_packages WHERE href = ? ORDER BY retired_at DESC LIMIT 1",
    ).get(href) as { id: string } | undefined;
  }

  async getRetiredPackage(fileName: string): Promise<{ id: string } | undefined> {
    return this.statement(
      "SELECT id FROM retired_packages WHERE file_name = ? ORDER BY retired_at DESC LIMIT 1",
    ).get(fileName) as { id: string } | undefined;
  }

  async pruneRetiredPackages(before: number): Promise<void> {
    this.statement("DELETE FROM retired_packages WHERE retired_at < ?").run(before);
  }

  private upsertPackage(record: PackageRecord): void {
    // A different file at the same href (a hosted package's href is its file name's, so its tag's)
    // replaces the old one, which stays fetchable for a while.
    this.statement(
      `INSERT INTO retired_packages (file_name, id, retired_at, href)
         SELECT file_name, id, CAST(strftime('%s','now') AS INTEGER), href FROM packages
         WHERE href = @href AND (id != @id OR file_name != @fileName)`,
    ).run({ href: record.href, id: record.id, fileName: record.fileName });
    this.statement(
      `INSERT INTO packages (tag, id, file_name, href, meta, primary_xml, filelists_xml, other_xml)
         VALUES (@tag, @id, @fileName, @href, @meta, @primaryXml, @filelistsXml, @otherXml)
         ON CONFLICT (href) DO UPDATE SET tag = excluded.tag, id = excluded.id, file_name = excluded.file_name,
           meta = excluded.meta, primary_xml = excluded.primary_xml, filelists_xml = excluded.filelists_xml,
           other_xml = excluded.other_xml`,
    ).run({ ...record, meta: JSON.stringify(toMeta(record)) });
  }

  async getSyncState(): Promise<SyncState> {
    const row = this.statement("SELECT * FROM sync_state WHERE id = 1").get() as Record<
      string,
      number | string
    >;
    return {
      syncing: row.syncing === 1,
      startTime: Number(row.start_time),
      endTime: Number(row.end_time),
      totalPackages: Number(row.total_packages),
      syncedPackages: Number(row.synced_packages),
      syncError: String(row.sync_error),
      phase: String(row.phase),
      downloadedBytes: Number(row.downloaded_bytes),
      downloadedPackages: Number(row.downloaded_packages),
    };
  }

  async beginSync(now: number): Promise<boolean> {
    const result = this.statement(
      `UPDATE sync_state SET syncing = 1, start_time = ?, end_time = 0, sync_error = '', phase = 'queued',
           downloaded_bytes = 0, downloaded_packages = 0, synced_packages = 0 WHERE id = 1 AND syncing = 0`,
    ).run(now);
    return result.changes === 1;
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
    const sets = entries.map(([key]) => `${columns[key]} = @${key}`).join(", ");
    this.statement(`UPDATE sync_state SET ${sets} WHERE id = 1`).run(Object.fromEntries(entries));
  }

  async endSync(now: number, error: string, end: { durationMs?: number; log?: string } = {}): Promise<void> {
    this.transaction(() => {
      const sync = this.statement(
        "SELECT syncing, start_time, total_packages, downloaded_bytes, downloaded_packages FROM sync_state WHERE id = 1",
      ).get() as {
        syncing: number;
        start_time: number;
        total_packages: number;
        downloaded_bytes: number;
        downloaded_packages: number;
      };
      this.statement(
        "UPDATE sync_state SET syncing = 0, end_time = ?, sync_error = ?, phase = '' WHERE id = 1",
      ).run(now, redactText(error));
      // A sync is counted once, however many times something ends it.
      if (sync.syncing === 1) {
        const ms = end.durationMs ?? Math.max(0, now - sync.start_time) * 1000;
        const good = error === "";
        this.statement(
          `UPDATE stats SET syncs = syncs + 1, sync_failures = sync_failures + 1 - @good,
             sync_ms_total = sync_ms_total + @ms, last_sync_ms = @ms,
             sync_bytes_total = sync_bytes_total + @bytes, sync_packages_total = sync_packages_total + @packages,
             last_good_sync_end = CASE WHEN @good THEN @now ELSE last_good_sync_end END,
             last_good_sync_packages = CASE WHEN @good THEN @total ELSE last_good_sync_packages END WHERE id = 1`,
        ).run({
          good: good ? 1 : 0,
          ms: Math.round(ms),
          bytes: sync.downloaded_bytes,
          packages: sync.downloaded_packages,
          now,
          total: sync.total_packages,
        });
      }
      if (end.log) this.insertLog(error ? "ERROR" : "INFO", end.log, now);
    });
  }

  async getStats(): Promise<RepositoryStats> {
    const row = this.statement("SELECT * FROM stats WHERE id = 1").get() as Record<string, number>;
    return {
      syncs: row.syncs!,
      syncFailures: row.sync_failures!,
      syncMsTotal: row.sync_ms_total!,
      lastSyncMs: row.last_sync_ms!,
      lastGoodSyncEnd: row.last_good_sync_end!,
      lastGoodSyncPackages: row.last_good_sync_packages!,
      syncBytesTotal: row.sync_bytes_total!,
      syncPackagesTotal: row.sync_packages_total!,
      publishes: row.publishes!,
      publishMsTotal: row.publish_ms_total!,
      lastPublishMs: row.last_publish_ms!,
      lastPublishTime: row.last_publish_time!,
    };
  }

  async stagePackages(fence: number, records: PackageRecord[]): Promise<void> {
    this.transaction(() => {
      this.checkFence(fence);
      for (const record of records) this.stagePackage(record);
    });
  }

  async clearStagedPackages(fence: number): Promise<void> {
    this.transaction(() => {
      this.checkFence(fence);
      this.statement("DELETE FROM staged_packages").run();
    });
  }

  private stagePackage(record: PackageRecord): void {
    this.statement(
      `INSERT OR REPLACE INTO staged_packages (tag, id, file_name, href, meta, primary_xml, filelists_xml, other_xml)
         VALUES (@tag, @id, @fileName, @href, @meta, @primaryXml, @filelistsXml, @otherXml)`,
    ).run({ ...record, meta: JSON.stringify(toMeta(record)) });
  }

  /** Moves every staged row into `packages` inside the caller's transaction, as `upsertPackage` would one by one. */
  private switchInStaged(): void {
    this.statement(
      `INSERT INTO retired_packages (file_name, id, retired_at, href)
         SELECT p.file_name, p.id, CAST(strftime('%s','now') AS INTEGER), p.href
         FROM packages p JOIN staged_packages s ON s.href = p.href
         WHERE s.id != p.id OR s.file_name != p.file_name`,
    ).run();
    this.statement(
      `INSERT INTO packages (tag, id, file_name, href, meta, primary_xml, filelists_xml, other_xml)
         SELECT tag, id, file_name, href, meta, primary_xml, filelists_xml, other_xml FROM staged_packages WHERE true
         ON CONFLICT (href) DO UPDATE SET tag = excluded.tag, id = excluded.id, file_name = excluded.file_name,
           meta = excluded.meta, primary_xml = excluded.primary_xml, filelists_xml = excluded.filelists_xml,
           other_xml = excluded.other_xml`,
    ).run();
    this.statement("DELETE FROM staged_packages").run();
  }

  /**
   * `commitMirrorGeneration`, on a thread of its own when it moves more than `offThreadRows` rows:
   * one transaction either way, but the event loop (lock renewals, BullMQ's job lock) keeps running
   * while SQLite copies the rows (200,000 staged rows: ~1.7 s without XML, ~12 s with 4 KiB of it).
   * From TypeScript sources (tests), where the thread's module is not built, it runs here.
   */
  async commitMirrorGenerationAsync(
    fence: number,
    generation: MirrorGeneration,
    options: { offThreadRows?: number } = {},
  ): Promise<void> {
    const staged = (this.statement("SELECT COUNT(*) AS n FROM staged_packages").get() as { n: number }).n;
    const rows =
      staged +
      (generation.upsert?.length ?? 0) +
      generation.deleteTags.length +
      (generation.deleteHrefs?.length ?? 0);
    if (
      rows <= (options.offThreadRows ?? defaultOffThreadRows) ||
      !existsSync(fileURLToPath(commitThreadUrl))
    ) {
      await this.commitMirrorGeneration(fence, generation);
      return;
    }
    const outcome = await new Promise<{
      ok: boolean;
      code?: string;
      message?: string;
      details?: Record<string, unknown>;
    }>((resolve, reject) => {
      // A small young generation: the thread runs SQL, not JS, and its isolate adds to the sync's peak RSS.
      const thread = new Worker(commitThreadUrl, {
        workerData: { path: this.path, fence, generation },
        resourceLimits: { maxYoungGenerationSizeMb: 4 },
      });
      thread.once("message", resolve);
      thread.once("error", reject);
      thread.once("exit", (code) => reject(new Error(`the commit thread exited (${code}) before answering`)));
    });
    if (outcome.ok) return;
    const message = outcome.message ?? "the commit failed";
    if (outcome.code && outcome.code in errorCodes)
      throw new YumError(outcome.code as ErrorCode, message, outcome.details ?? {});
    throw new YumError("INTERNAL", `commit of ${this.path}: ${message}`);
  }

  async commitMirrorGeneration(fence: number, generation: MirrorGeneration): Promise<void> {
    this.transaction(() => {
      this.checkFence(fence);
      for (const tag of generation.deleteTags) this.retirePackage(tag);
      for (const href of generation.deleteHrefs ?? []) this.retirePackageAt(href);
      for (const record of generation.upsert ?? []) this.stagePackage(record);
      this.switchInStaged();
      this.retireRepomd();
      this.statement("UPDATE state SET revision = ?, repomd = ?, repomd_asc = ?, dirty = 0 WHERE id = 1").run(
        generation.revision,
        generation.repomd,
        generation.repomdAsc ?? null,
      );
      this.registry.bumpGeneration();
    });
  }

  /**
   * Keeps the repomd.xml being replaced (inside the transaction that replaces it): its data files stay
   * servable for the grace period, for clients that read it just before. A day of them at most.
   */
  private retireRepomd(): void {
    const now = Math.floor(Date.now() / 1000);
    this.statement(
      "INSERT INTO retired_repomd (retired_at, repomd) SELECT ?, repomd FROM state WHERE id = 1 AND repomd IS NOT NULL",
    ).run(now);
    this.statement("DELETE FROM retired_repomd WHERE retired_at < ?").run(now - 86_400);
    // A publish every fraction of a second for long: the newest 2,000 (minutes of them) are plenty.
    this.statement(
      "DELETE FROM retired_repomd WHERE rowid <= (SELECT MAX(rowid) FROM retired_repomd) - 2000",
    ).run();
  }

  async retiredRepomdNaming(fileName: string, since: number): Promise<string[]> {
    return this.statement(
      "SELECT repomd FROM retired_repomd WHERE retired_at >= ? AND instr(repomd, ?) > 0 ORDER BY retired_at DESC LIMIT 4",
    )
      .pluck()
      .all(since, fileName) as string[];
  }

  async getState(): Promise<PublishState> {
    return this.state();
  }

  private state(): PublishState {
    const row = this.statement(
      "SELECT applied_seq, published_seq, dirty, revision, repomd, repomd_asc FROM state WHERE id = 1",
    ).get() as {
      applied_seq: number;
      published_seq: number;
      dirty: number;
      revision: number;
      repomd: string | null;
      repomd_asc: string | null;
    };
    return {
      appliedSeq: row.applied_seq,
      publishedSeq: row.published_seq,
      dirty: row.dirty === 1,
      revision: row.revision,
      repomd: row.repomd ?? undefined,
      repomdAsc: row.repomd_asc ?? undefined,
    };
  }

  async recordPublish(fence: number, publish: PublishRecord): Promise<void> {
    this.transaction(() => {
      this.checkFence(fence);
      this.retireRepomd();
      // Events applied while the files were written keep the repository dirty.
      this.statement(
        `UPDATE state SET published_seq = MAX(published_seq, ?), revision = ?, repomd = ?, repomd_asc = ?,
               dirty = CASE WHEN applied_seq > ? THEN dirty ELSE 0 END WHERE id = 1`,
      ).run(publish.seq, publish.revision, publish.repomd, publish.repomdAsc ?? null, publish.seq);
      // A new generation for the registry replica to push (when one is configured).
      this.registry.bumpGeneration();
      const now = Math.floor(Date.now() / 1000);
      this.statement("DELETE FROM event_failures WHERE created_at < ?").run(now - 86_400);
      // A generation signed again (key rotation) is not a publish of its own.
      if (publish.durationMs !== undefined) {
        const ms = Math.round(publish.durationMs);
        this.statement(
          `UPDATE stats SET publishes = publishes + 1, publish_ms_total = publish_ms_total + @ms,
             last_publish_ms = @ms, last_publish_time = @now WHERE id = 1`,
        ).run({ ms, now });
      }
      if (publish.log) this.insertLog("INFO", publish.log, now);
    });
  }

  async markPublished(fence: number, seq: number): Promise<void> {
    this.transaction(() => {
      this.checkFence(fence);
      this.statement("UPDATE state SET published_seq = MAX(published_seq, ?) WHERE id = 1").run(seq);
    });
  }

  private getPackageWhere(
    column: "id" | "tag" | "file_name" | "href",
    value: string,
  ): PackageRecord | undefined {
    // Several rows may match (a mirror's packages of one file name, or one tag): the first by href.
    const row = this.statement(`SELECT * FROM packages WHERE ${column} = ? ORDER BY href LIMIT 1`).get(
      value,
    ) as PackageRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  async getPackageById(id: string): Promise<PackageRecord | undefined> {
    return this.getPackageWhere("id", id);
  }

  async getPackageByTag(tag: string): Promise<PackageRecord | undefined> {
    return this.getPackageWhere("tag", tag);
  }

  async getPackageByHref(href: string): Promise<PackageRecord | undefined> {
    return this.getPackageWhere("href", href);
  }

  async getPackageByFileName(fileName: string): Promise<PackageRecord | undefined> {
    return this.getPackageWhere("file_name", fileName);
  }

  async listPackages(): Promise<PackageRecord[]> {
    return (this.statement("SELECT * FROM packages ORDER BY href").all() as PackageRow[]).map(toRecord);
  }

  async listPackageChecksums(): Promise<PackageChecksum[]> {
    const rows = this.statement(
      "SELECT href, tag, json_extract(meta, '$.upstreamChecksum') AS upstream FROM packages ORDER BY href",
    ).all() as { href: string; tag: string; upstream: string | null }[];
    return rows.map((r) =>
      r.upstream === null
        ? { href: r.href, tag: r.tag }
        : { href: r.href, tag: r.tag, upstreamChecksum: r.upstream },
    );
  }

  async listPackageBlobs(): Promise<{ href: string; id: string }[]> {
    return this.statement("SELECT href, id FROM packages").all() as { href: string; id: string }[];
  }

  async countPackages(): Promise<number> {
    return this.packageCount();
  }

  private packageCount(): number {
    return (this.statement("SELECT COUNT(*) AS n FROM packages").get() as { n: number }).n;
  }

  async *iterateFragments(kind: FragmentKind): AsyncIterableIterator<string> {
    const column = { primary: "primary_xml", filelists: "filelists_xml", other: "other_xml" }[kind];
    const statement = this.db.prepare(`SELECT ${column} AS xml FROM packages ORDER BY href`).pluck();
    // The connection stays open while the caller iterates (across its awaits too).
    this.busy++;
    try {
      for (const xml of statement.iterate()) yield xml as string;
    } finally {
      this.busy--;
    }
  }

  async listPackageSummaries(limit: number, after?: PackageCursor): Promise<PackageSummary[]> {
    // Keyset on the (href, tag) index: a page costs its rows, wherever it starts.
    const rows = (
      after
        ? this.statement(
            "SELECT tag, id, file_name, href, meta FROM packages WHERE (href, tag) > (?, ?) ORDER BY href, tag LIMIT ?",
          ).all(after.href, after.tag, limit)
        : this.statement(
            "SELECT tag, id, file_name, href, meta FROM packages ORDER BY href, tag LIMIT ?",
          ).all(limit)
    ) as Omit<PackageRow, "primary_xml" | "filelists_xml" | "other_xml">[];
    return rows.map((row) => ({
      ...(JSON.parse(row.meta) as PackageMeta),
      tag: row.tag,
      id: row.id,
      fileName: row.file_name,
      href: row.href,
    }));
  }

  async referencedDigests(): Promise<Set<string>> {
    return new Set(
      this.statement("SELECT id FROM packages UNION SELECT digest FROM extra_metadata")
        .pluck()
        .all() as string[],
    );
  }

  async listExtraMetadata(): Promise<ExtraMetadataRecord[]> {
    return this.extraMetadata();
  }

  private extraMetadata(): ExtraMetadataRecord[] {
    const rows = this.statement("SELECT record FROM extra_metadata ORDER BY data_type")
      .pluck()
      .all() as string[];
    return rows.map((r) => JSON.parse(r) as ExtraMetadataRecord);
  }

  /** Every repository log line goes through here, and is stored with its secrets hidden (redactText). */
  async addLog(level: LogLevel, message: string, now: number): Promise<void> {
    // One transaction (one fsync) for the line and its pruning.
    this.transaction(() => this.insertLog(level, message, now));
  }

  /** A log line and its pruning, inside the caller's transaction. */
  private insertLog(level: LogLevel, message: string, now: number): void {
    if (level === "INFO" && this.logRetention.info === false) return;
    this.statement("INSERT INTO logs (level, date, message) VALUES (?, ?, ?)").run(
      level,
      now,
      redactText(message),
    );
    this.pruneLogs(now);
  }

  /**
   * Retention, on write, a small batch at a time: of the oldest lines (ids grow with time, and the
   * table is only ever pruned from its start, so ids are contiguous), those beyond the newest
   * `maxRows` or older than `maxAgeSeconds` go.
   */
  private pruneLogs(now: number): void {
    const { maxAgeSeconds, maxRows } = this.logRetention;
    this.statement(
      `DELETE FROM logs WHERE id IN (
         SELECT id FROM (SELECT id, date FROM logs ORDER BY id LIMIT ?)
         WHERE id <= (SELECT MAX(id) FROM logs) - ? OR date < ?)`,
    ).run(logPruneBatch, maxRows, now - maxAgeSeconds);
  }

  async listLogs(): Promise<LogRecord[]> {
    return this.statement("SELECT level, date, message FROM logs ORDER BY id").all() as LogRecord[];
  }

  async listLogsPage(limit: number, afterId = 0): Promise<LogPage> {
    return this.statement("SELECT id, level, date, message FROM logs WHERE id > ? ORDER BY id LIMIT ?").all(
      afterId,
      limit,
    ) as LogPage;
  }

  async listLogsPageBefore(limit: number, atMostId = Number.MAX_SAFE_INTEGER): Promise<LogPage> {
    const rows = this.statement(
      "SELECT id, level, date, message FROM logs WHERE id <= ? ORDER BY id DESC LIMIT ?",
    ).all(atMostId, limit) as LogPage;
    return rows.reverse();
  }

  close(): void {
    this.closed = true;
    if (this.connection) {
      this.connection.close();
      this.connection = undefined;
      this.handles?.closed(this);
    }
  }
}
