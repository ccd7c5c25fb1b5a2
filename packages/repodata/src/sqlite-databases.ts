import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { constants, createGzip } from "node:zlib";
import Database from "better-sqlite3";
import type { MetadataSource } from "./metadata-decompress.js";
import { readFilelists, readOther, readPrimary } from "./metadata-readers.js";
import { dependencyKinds, type RecordDependency } from "./metadata-records.js";
import type { RepomdRecord } from "./repomd-record.js";
import { filelistRows } from "./sqlite-rows.js";
import { DATABASE_VERSION, type DatabaseKind, databaseSchema } from "./sqlite-schema.js";
import { type MetadataCompressor, syncDirectory } from "./write-metadata-file.js";

export interface WriteDatabasesOptions {
  /** Where the compressed databases land (the new `repodata/`); temporary files go there too. */
  dir: string;
  /** The XML documents just written (any compression), and each one's repomd record. */
  xml: Record<DatabaseKind, { source: MetadataSource; record: RepomdRecord }>;
  /** Default "sha256". */
  checksumType?: "sha256" | "sha512" | "sha1";
  /** Default "gz"; createrepo_c's own default is bz2, which has no well-kept compressor on npm. */
  compress?: "gz" | MetadataCompressor;
  /** Unix seconds for the records' `<timestamp>`. */
  timestamp: number;
  signal?: AbortSignal;
}

type Db = Database.Database;

function createDatabase(path: string, kind: DatabaseKind, xmlChecksum: string): Db {
  const db = new Database(path);
  db.pragma("synchronous = OFF");
  db.pragma("journal_mode = MEMORY");
  db.pragma("temp_store = MEMORY");
  for (const sql of databaseSchema[kind].tables) db.exec(sql);
  db.prepare("INSERT INTO db_info (dbversion, checksum) VALUES (?, ?)").run(DATABASE_VERSION, xmlChecksum);
  return db;
}

function finishDatabase(db: Db, kind: DatabaseKind): void {
  for (const sql of databaseSchema[kind].indexes) db.exec(sql);
  db.close();
}

const orNull = (s: string | undefined) => (s ? s : null);

/** Rows in batches of this many packages per transaction. */
const BATCH = 512;

/** Runs `insert` per record in transactions of BATCH records. */
async function insertAll<T>(db: Db, records: AsyncIterable<T>, insert: (r: T) => void): Promise<number> {
  const run = db.transaction((batch: T[]) => {
    for (const r of batch) insert(r);
  });
  let batch: T[] = [];
  let count = 0;
  for await (const r of records) {
    batch.push(r);
    if (batch.length === BATCH) {
      run(batch);
      count += batch.length;
      batch = [];
    }
  }
  run(batch);
  return count + batch.length;
}

async function fillPrimary(db: Db, source: MetadataSource, signal?: AbortSignal): Promise<number> {
  const pkg = db.prepare(
    `INSERT INTO packages (pkgId, name, arch, version, epoch, release, summary, description, url,
       time_file, time_build, rpm_license, rpm_vendor, rpm_group, rpm_buildhost, rpm_sourcerpm,
       rpm_header_start, rpm_header_end, rpm_packager, size_package, size_installed, size_archive,
       location_href, location_base, checksum_type)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const file = db.prepare("INSERT INTO files (name, type, pkgKey) VALUES (?, ?, ?)");
  const deps = Object.fromEntries(
    dependencyKinds.map((k) => [
      k,
      db.prepare(
        k === "requires"
          ? "INSERT INTO requires (name, flags, epoch, version, release, pkgKey, pre) VALUES (?, ?, ?, ?, ?, ?, ?)"
          : `INSERT INTO ${k} (name, flags, epoch, version, release, pkgKey) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
    ]),
  );
  const depValues = (d: RecordDependency, key: number | bigint) =>
    [d.name, d.flags ?? null, d.epoch ?? null, d.ver ?? null, d.rel ?? null, key] as const;
  return insertAll(db, readPrimary(source, { signal }), (p) => {
    const key = pkg.run(
      p.pkgid,
      p.name,
      p.arch,
      p.version.ver,
      p.version.epoch,
      p.version.rel,
      p.summary,
      p.description,
      orNull(p.url),
      p.time.file,
      p.time.build,
      p.license,
      p.vendor,
      p.group,
      p.buildhost,
      p.sourcerpm,
      p.headerRange.start,
      p.headerRange.end,
      orNull(p.packager),
      p.size.package,
      p.size.installed,
      p.size.archive,
      p.location.href,
      orNull(p.location.base),
      p.checksumType,
    ).lastInsertRowid;
    for (const kind of dependencyKinds) {
      for (const d of p.dependencies[kind]) {
        if (kind === "requires") deps[kind]!.run(...depValues(d, key), d.pre ? "TRUE" : "FALSE");
        else deps[kind]!.run(...depValues(d, key));
      }
    }
    for (const f of p.files) file.run(f.path, f.type, key);
  });
}

async function fillFilelists(db: Db, source: MetadataSource, signal?: AbortSignal): Promise<number> {
  const pkg = db.prepare("INSERT INTO packages (pkgId) VALUES (?)");
  const row = db.prepare("INSERT INTO filelist (pkgKey, dirname, filenames, filetypes) VALUES (?, ?, ?, ?)");
  return insertAll(db, readFilelists(source, { signal }), (p) => {
    const key = pkg.run(p.pkgid).lastInsertRowid;
    for (const r of filelistRows(p.files)) row.run(key, r.dirname, r.filenames, r.filetypes);
  });
}

async function fillOther(db: Db, source: MetadataSource, signal?: AbortSignal): Promise<number> {
  const pkg = db.prepare("INSERT INTO packages (pkgId) VALUES (?)");
  const entry = db.prepare("INSERT INTO changelog (pkgKey, author, date, changelog) VALUES (?, ?, ?, ?)");
  return insertAll(db, readOther(source, { signal }), (p) => {
    const key = pkg.run(p.pkgid).lastInsertRowid;
    for (const c of p.changelogs) entry.run(key, c.author, c.date, c.text);
  });
}

const fillers = { primary: fillPrimary, filelists: fillFilelists, other: fillOther };

/** Compresses `path` into `<checksum>-<kind>.sqlite<suffix>` in `dir` and returns its record. */
async function storeDatabase(
  path: string,
  kind: DatabaseKind,
  opts: WriteDatabasesOptions,
): Promise<RepomdRecord> {
  const checksumType = opts.checksumType ?? "sha256";
  const compress = opts.compress ?? "gz";
  const openHash = createHash(checksumType);
  const fileHash = createHash(checksumType);
  let openSize = 0;
  let size = 0;
  const tmp = `${path}.compressed`;
  let handle: FileHandle | undefined = await open(tmp, "wx", 0o644);
  try {
    const counted = async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        openHash.update(chunk);
        openSize += chunk.length;
        yield chunk;
      }
    };
    const sink = async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        fileHash.update(chunk);
        size += chunk.length;
        await handle!.write(chunk);
      }
    };
    const stream =
      compress === "gz" ? createGzip({ level: constants.Z_DEFAULT_COMPRESSION }) : compress.createStream();
    await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), counted, stream, sink, {
      signal: opts.signal,
    });
    await handle.sync();
    await handle.close();
    handle = undefined;
    const checksum = fileHash.digest("hex");
    const name = `${checksum}-${kind}.sqlite${compress === "gz" ? ".gz" : compress.suffix}`;
    await rename(tmp, join(opts.dir, name));
    return {
      type: `${kind}_db`,
      checksum: { type: checksumType, value: checksum },
      openChecksum: { type: checksumType, value: openHash.digest("hex") },
      location: `repodata/${name}`,
      timestamp: opts.timestamp,
      size,
      openSize,
      databaseVersion: DATABASE_VERSION,
    };
  } catch (err) {
    await handle?.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * primary_db, filelists_db and other_db as createrepo_c makes them (database version 10, same
 * tables, rows and indexes; `db_info.checksum` = the XML file's checksum), built by streaming
 * the XML documents back, so reused packages need no RPM. Returns the three records in
 * repomd.xml order. Uncompressed databases are temporary files in `dir`, removed on the way.
 */
export async function writeSqliteDatabases(opts: WriteDatabasesOptions): Promise<RepomdRecord[]> {
  const records: RepomdRecord[] = [];
  for (const kind of ["primary", "filelists", "other"] as const) {
    const path = join(opts.dir, `.${kind}.sqlite.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      const { source, record } = opts.xml[kind];
      const db = createDatabase(path, kind, record.checksum.value);
      try {
        await fillers[kind](db, source, opts.signal);
      } catch (err) {
        db.close();
        throw err;
      }
      finishDatabase(db, kind);
      records.push(await storeDatabase(path, kind, opts));
    } finally {
      await rm(path, { force: true });
    }
  }
  await syncDirectory(opts.dir);
  return records;
}
