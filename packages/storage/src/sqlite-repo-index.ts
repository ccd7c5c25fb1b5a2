import { redactText, YumError } from "@beskar-yum/errors";
import Database from "better-sqlite3";
import { prepared } from "./prepared.js";
import type {
  EventResult,
  ExtraMetadataRecord,
  FragmentKind,
  IndexTransaction,
  LogLevel,
  LogRecord,
  MirrorGeneration,
  PackageChecksum,
  PackageRecord,
  PublishState,
  RepoEvent,
  RepoIndex,
  RepositoryProperties,
  RepositoryRecord,
  StoredEvent,
  SyncState,
} from "./repo-index.js";
import { registrySchema, SqliteRegistryRecords } from "./sqlite-registry-records.js";

const schema = `
CREATE TABLE IF NOT EXISTS repository (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  created_at INTEGER NOT NULL,
  properties TEXT NOT NULL,
  deleting INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  fence INTEGER NOT NULL DEFAULT 0,
  applied_seq INTEGER NOT NULL DEFAULT 0,
  published_seq INTEGER NOT NULL DEFAULT 0,
  dirty INTEGER NOT NULL DEFAULT 1,
  revision INTEGER NOT NULL DEFAULT 0,
  repomd TEXT,
  repomd_asc TEXT
);
INSERT OR IGNORE INTO state (id) VALUES (1);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS event_failures (
  seq INTEGER PRIMARY KEY,
  message TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS packages (
  tag TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  file_name TEXT NOT NULL,
  href TEXT NOT NULL,
  meta TEXT NOT NULL,
  primary_xml TEXT NOT NULL,
  filelists_xml TEXT NOT NULL,
  other_xml TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS packages_id ON packages (id);
CREATE INDEX IF NOT EXISTS packages_file_name ON packages (file_name);
CREATE INDEX IF NOT EXISTS packages_href ON packages (href);
CREATE TABLE IF NOT EXISTS staged_packages (
  tag TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  file_name TEXT NOT NULL,
  href TEXT NOT NULL,
  meta TEXT NOT NULL,
  primary_xml TEXT NOT NULL,
  filelists_xml TEXT NOT NULL,
  other_xml TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS retired_packages (
  file_name TEXT NOT NULL,
  id TEXT NOT NULL,
  retired_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS retired_packages_file_name ON retired_packages (file_name);
CREATE TABLE IF NOT EXISTS extra_metadata (
  data_type TEXT PRIMARY KEY,
  digest TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  syncing INTEGER NOT NULL DEFAULT 0,
  start_time INTEGER NOT NULL DEFAULT 0,
  end_time INTEGER NOT NULL DEFAULT 0,
  total_packages INTEGER NOT NULL DEFAULT 0,
  synced_packages INTEGER NOT NULL DEFAULT 0,
  sync_error TEXT NOT NULL DEFAULT '',
  phase TEXT NOT NULL DEFAULT '',
  downloaded_bytes INTEGER NOT NULL DEFAULT 0,
  downloaded_packages INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO sync_state (id) VALUES (1);
CREATE TABLE IF NOT EXISTS retired_repomd (
  retired_at INTEGER NOT NULL,
  repomd TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS retired_repomd_at ON retired_repomd (retired_at);
CREATE TABLE IF NOT EXISTS logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  level TEXT NOT NULL,
  date INTEGER NOT NULL,
  message TEXT NOT NULL
);
`;

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

/**
 * `RepoIndex` on SQLite in WAL mode: one file per repository, shared safely by the API process and
 * any number of worker processes on the same machine (SQLite's own locking; `busy_timeout` waits).
 */
export class SqliteRepoIndex implements RepoIndex {
  private readonly db: Database.Database;
  readonly registry: SqliteRegistryRecords;

  private constructor(
    readonly path: string,
    db: Database.Database,
  ) {
    this.db = db;
    this.registry = new SqliteRegistryRecords(db);
  }

  private statement(sql: string): Database.Statement {
    return prepared(this.db, sql);
  }

  /** Opens the index at `path`; with `create: false` a missing file is an error instead of a new index. */
  static open(path: string, options: { create: boolean }): SqliteRepoIndex {
    const db = new Database(path, { fileMustExist: !options.create });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("busy_timeout = 10000");
    db.exec(schema);
    db.exec(registrySchema);
    return new SqliteRepoIndex(path, db);
  }

  getRepository(): RepositoryRecord | undefined {
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

  createRepository(properties: RepositoryProperties, now: number): void {
    const result = this.statement(
      "INSERT OR IGNORE INTO repository (id, created_at, properties) VALUES (1, ?, ?)",
    ).run(now, JSON.stringify(properties));
    if (result.changes === 0) throw new YumError("REPO_ALREADY_EXISTS", "repository already exists");
  }

  updateRepository(properties: RepositoryProperties): void {
    this.statement("UPDATE repository SET properties = ? WHERE id = 1").run(JSON.stringify(properties));
  }

  setDeleting(deleting: boolean): void {
    this.statement("UPDATE repository SET deleting = ? WHERE id = 1").run(deleting ? 1 : 0);
  }

  appendEvent(event: RepoEvent, now: number): number {
    const result = this.statement("INSERT INTO events (payload, created_at) VALUES (?, ?)").run(
      JSON.stringify(event),
      now,
    );
    return Number(result.lastInsertRowid);
  }

  pendingEvents(limit: number): StoredEvent[] {
    const rows = this.statement("SELECT seq, payload, created_at FROM events ORDER BY seq LIMIT ?").all(
      limit,
    ) as { seq: number; payload: string; created_at: number }[];
    return rows.map((r) => ({
      seq: r.seq,
      event: JSON.parse(r.payload) as RepoEvent,
      createdAt: r.created_at,
    }));
  }

  hasPendingEvents(): boolean {
    return this.statement("SELECT 1 FROM events LIMIT 1").get() !== undefined;
  }

  eventOutcome(seq: number): string | null | undefined {
    const state = this.getState();
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

  applyEvent(seq: number, fence: number, apply: (tx: IndexTransaction) => EventResult): EventResult {
    const tx: IndexTransaction = {
      getPackageByTag: (tag) => this.getPackageByTag(tag),
      upsertPackage: (record) => this.upsertPackage(record),
      deletePackage: (tag) => this.retirePackage(tag),
      getExtraMetadata: (dataType) => this.listExtraMetadata().find((r) => r.dataType === dataType),
      upsertExtraMetadata: (record) => {
        this.statement(
          "INSERT OR REPLACE INTO extra_metadata (data_type, digest, record) VALUES (?, ?, ?)",
        ).run(record.dataType, record.digest, JSON.stringify(record));
      },
      deleteExtraMetadata: (dataType) => {
        this.statement("DELETE FROM extra_metadata WHERE data_type = ?").run(dataType);
      },
    };
    return this.db
      .transaction(() => {
        this.checkFence(fence);
        const result = apply(tx);
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
      })
      .immediate();
  }

  /**
   * Removes a package row but remembers its file for `getRetiredPackage`: clients still reading the
   * previous repodata generation can fetch it until its blob is collected.
   */
  private retirePackage(tag: string): void {
    this.statement(
      "INSERT INTO retired_packages (file_name, id, retired_at) SELECT file_name, id, CAST(strftime('%s','now') AS INTEGER) FROM packages WHERE tag = ?",
    ).run(tag);
    this.statement("DELETE FROM packages WHERE tag = ?").run(tag);
  }

  getRetiredPackage(fileName: string): { id: string } | undefined {
    return this.statement(
      "SELECT id FROM retired_packages WHERE file_name = ? ORDER BY retired_at DESC LIMIT 1",
    ).get(fileName) as { id: string } | undefined;
  }

  pruneRetiredPackages(before: number): void {
    this.statement("DELETE FROM retired_packages WHERE retired_at < ?").run(before);
  }

  private upsertPackage(record: PackageRecord): void {
    // A different file under the same tag replaces the old one, which stays fetchable for a while.
    this.statement(
      `INSERT INTO retired_packages (file_name, id, retired_at)
         SELECT file_name, id, CAST(strftime('%s','now') AS INTEGER) FROM packages
         WHERE tag = @tag AND (id != @id OR file_name != @fileName)`,
    ).run({ tag: record.tag, id: record.id, fileName: record.fileName });
    this.statement(
      `INSERT INTO packages (tag, id, file_name, href, meta, primary_xml, filelists_xml, other_xml)
         VALUES (@tag, @id, @fileName, @href, @meta, @primaryXml, @filelistsXml, @otherXml)
         ON CONFLICT (tag) DO UPDATE SET id = excluded.id, file_name = excluded.file_name, href = excluded.href,
           meta = excluded.meta, primary_xml = excluded.primary_xml, filelists_xml = excluded.filelists_xml,
           other_xml = excluded.other_xml`,
    ).run({ ...record, meta: JSON.stringify(toMeta(record)) });
  }

  getSyncState(): SyncState {
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

  beginSync(now: number): boolean {
    const result = this.statement(
      `UPDATE sync_state SET syncing = 1, start_time = ?, end_time = 0, sync_error = '', phase = 'queued',
           downloaded_bytes = 0, downloaded_packages = 0, synced_packages = 0 WHERE id = 1 AND syncing = 0`,
    ).run(now);
    return result.changes === 1;
  }

  updateSyncState(patch: Partial<Omit<SyncState, "syncing" | "startTime">>): void {
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

  endSync(now: number, error: string): void {
    this.statement(
      "UPDATE sync_state SET syncing = 0, end_time = ?, sync_error = ?, phase = '' WHERE id = 1",
    ).run(now, redactText(error));
  }

  stagePackages(fence: number, records: PackageRecord[]): void {
    this.db
      .transaction(() => {
        this.checkFence(fence);
        for (const record of records) this.stagePackage(record);
      })
      .immediate();
  }

  clearStagedPackages(fence: number): void {
    this.db
      .transaction(() => {
        this.checkFence(fence);
        this.statement("DELETE FROM staged_packages").run();
      })
      .immediate();
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
      `INSERT INTO retired_packages (file_name, id, retired_at)
         SELECT p.file_name, p.id, CAST(strftime('%s','now') AS INTEGER)
         FROM packages p JOIN staged_packages s ON s.tag = p.tag
         WHERE s.id != p.id OR s.file_name != p.file_name`,
    ).run();
    this.statement(
      `INSERT INTO packages (tag, id, file_name, href, meta, primary_xml, filelists_xml, other_xml)
         SELECT tag, id, file_name, href, meta, primary_xml, filelists_xml, other_xml FROM staged_packages WHERE true
         ON CONFLICT (tag) DO UPDATE SET id = excluded.id, file_name = excluded.file_name, href = excluded.href,
           meta = excluded.meta, primary_xml = excluded.primary_xml, filelists_xml = excluded.filelists_xml,
           other_xml = excluded.other_xml`,
    ).run();
    this.statement("DELETE FROM staged_packages").run();
  }

  commitMirrorGeneration(fence: number, generation: MirrorGeneration): void {
    this.db
      .transaction(() => {
        this.checkFence(fence);
        for (const tag of generation.deleteTags) this.retirePackage(tag);
        for (const record of generation.upsert ?? []) this.stagePackage(record);
        this.switchInStaged();
        this.retireRepomd();
        this.statement(
          "UPDATE state SET revision = ?, repomd = ?, repomd_asc = ?, dirty = 0 WHERE id = 1",
        ).run(generation.revision, generation.repomd, generation.repomdAsc ?? null);
        this.registry.requestReplication();
      })
      .immediate();
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

  retiredRepomdNaming(fileName: string, since: number): string[] {
    return this.statement(
      "SELECT repomd FROM retired_repomd WHERE retired_at >= ? AND instr(repomd, ?) > 0 ORDER BY retired_at DESC LIMIT 4",
    )
      .pluck()
      .all(since, fileName) as string[];
  }

  getState(): PublishState {
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

  recordPublish(fence: number, publish: { seq: number; revision: number; repomd: string }): void {
    this.db
      .transaction(() => {
        this.checkFence(fence);
        this.retireRepomd();
        // Events applied while the files were written keep the repository dirty.
        this.statement(
          `UPDATE state SET published_seq = MAX(published_seq, ?), revision = ?, repomd = ?, repomd_asc = NULL,
               dirty = CASE WHEN applied_seq > ? THEN dirty ELSE 0 END WHERE id = 1`,
        ).run(publish.seq, publish.revision, publish.repomd, publish.seq);
        // A new generation for the registry replica to push (when one is configured).
        this.registry.requestReplication();
        this.statement("DELETE FROM event_failures WHERE created_at < ?").run(
          Math.floor(Date.now() / 1000) - 86_400,
        );
      })
      .immediate();
  }

  markPublished(fence: number, seq: number): void {
    this.db
      .transaction(() => {
        this.checkFence(fence);
        this.statement("UPDATE state SET published_seq = MAX(published_seq, ?) WHERE id = 1").run(seq);
      })
      .immediate();
  }

  private getPackageWhere(column: "id" | "tag" | "file_name", value: string): PackageRecord | undefined {
    const row = this.statement(`SELECT * FROM packages WHERE ${column} = ? LIMIT 1`).get(value) as
      | PackageRow
      | undefined;
    return row ? toRecord(row) : undefined;
  }

  getPackageById(id: string): PackageRecord | undefined {
    return this.getPackageWhere("id", id);
  }

  getPackageByTag(tag: string): PackageRecord | undefined {
    return this.getPackageWhere("tag", tag);
  }

  getPackageByFileName(fileName: string): PackageRecord | undefined {
    return this.getPackageWhere("file_name", fileName);
  }

  listPackages(): PackageRecord[] {
    return (this.statement("SELECT * FROM packages ORDER BY href").all() as PackageRow[]).map(toRecord);
  }

  listPackageChecksums(): PackageChecksum[] {
    const rows = this.statement(
      "SELECT href, tag, json_extract(meta, '$.upstreamChecksum') AS upstream FROM packages ORDER BY href",
    ).all() as { href: string; tag: string; upstream: string | null }[];
    return rows.map((r) =>
      r.upstream === null
        ? { href: r.href, tag: r.tag }
        : { href: r.href, tag: r.tag, upstreamChecksum: r.upstream },
    );
  }

  countPackages(): number {
    return (this.statement("SELECT COUNT(*) AS n FROM packages").get() as { n: number }).n;
  }

  *iterateFragments(kind: FragmentKind): IterableIterator<string> {
    const column = { primary: "primary_xml", filelists: "filelists_xml", other: "other_xml" }[kind];
    const statement = this.db.prepare(`SELECT ${column} AS xml FROM packages ORDER BY href`).pluck();
    for (const xml of statement.iterate()) yield xml as string;
  }

  referencedDigests(): Set<string> {
    return new Set(
      this.statement("SELECT id FROM packages UNION SELECT digest FROM extra_metadata")
        .pluck()
        .all() as string[],
    );
  }

  listExtraMetadata(): ExtraMetadataRecord[] {
    const rows = this.statement("SELECT record FROM extra_metadata ORDER BY data_type")
      .pluck()
      .all() as string[];
    return rows.map((r) => JSON.parse(r) as ExtraMetadataRecord);
  }

  /** Every repository log line goes through here, and is stored with its secrets hidden (redactText). */
  addLog(level: LogLevel, message: string, now: number): void {
    this.statement("INSERT INTO logs (level, date, message) VALUES (?, ?, ?)").run(
      level,
      now,
      redactText(message),
    );
  }

  listLogs(): LogRecord[] {
    return this.statement("SELECT level, date, message FROM logs ORDER BY id").all() as LogRecord[];
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
