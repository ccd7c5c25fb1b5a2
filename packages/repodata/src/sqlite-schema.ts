import { dependencyKinds } from "./metadata-records.js";

/** `<database_version>` and `db_info.dbversion` of the databases createrepo_c writes. */
export const DATABASE_VERSION = 10;

export type DatabaseKind = "primary" | "filelists" | "other";

const dbInfo = "CREATE TABLE db_info (dbversion INTEGER, checksum TEXT)";

const primaryPackages = `CREATE TABLE packages (
  pkgKey INTEGER PRIMARY KEY, pkgId TEXT, name TEXT, arch TEXT, version TEXT, epoch TEXT,
  release TEXT, summary TEXT, description TEXT, url TEXT, time_file INTEGER, time_build INTEGER,
  rpm_license TEXT, rpm_vendor TEXT, rpm_group TEXT, rpm_buildhost TEXT, rpm_sourcerpm TEXT,
  rpm_header_start INTEGER, rpm_header_end INTEGER, rpm_packager TEXT, size_package INTEGER,
  size_installed INTEGER, size_archive INTEGER, location_href TEXT, location_base TEXT,
  checksum_type TEXT)`;

const dependencyTable = (kind: string) =>
  `CREATE TABLE ${kind} (name TEXT, flags TEXT, epoch TEXT, version TEXT, release TEXT, pkgKey INTEGER${
    kind === "requires" ? ", pre BOOLEAN DEFAULT FALSE" : ""
  })`;

const idPackages = "CREATE TABLE packages (pkgKey INTEGER PRIMARY KEY, pkgId TEXT)";

/**
 * The tables, triggers and indexes of createrepo_c's database version 10 (its src/sqlite.c),
 * per database: `tables` run on creation, `indexes` once the rows are in.
 */
export const databaseSchema: Record<DatabaseKind, { tables: string[]; indexes: string[] }> = {
  primary: {
    tables: [
      dbInfo,
      primaryPackages,
      "CREATE TABLE files (name TEXT, type TEXT, pkgKey INTEGER)",
      ...dependencyKinds.map(dependencyTable),
      `CREATE TRIGGER removals AFTER DELETE ON packages BEGIN
    DELETE FROM files WHERE pkgKey = old.pkgKey;
${dependencyKinds.map((k) => `    DELETE FROM ${k} WHERE pkgKey = old.pkgKey;`).join("\n")}
  END`,
    ],
    indexes: [
      "CREATE INDEX IF NOT EXISTS packagename ON packages (name)",
      "CREATE INDEX IF NOT EXISTS packageId ON packages (pkgId)",
      "CREATE INDEX IF NOT EXISTS filenames ON files (name)",
      "CREATE INDEX IF NOT EXISTS pkgfiles ON files (pkgKey)",
      ...dependencyKinds.map((k) => `CREATE INDEX IF NOT EXISTS pkg${k} on ${k} (pkgKey)`),
      "CREATE INDEX IF NOT EXISTS requiresname ON requires (name)",
      "CREATE INDEX IF NOT EXISTS providesname ON provides (name)",
    ],
  },
  filelists: {
    tables: [
      dbInfo,
      idPackages,
      "CREATE TABLE filelist (pkgKey INTEGER, dirname TEXT, filenames TEXT, filetypes TEXT)",
      `CREATE TRIGGER remove_filelist AFTER DELETE ON packages BEGIN
    DELETE FROM filelist WHERE pkgKey = old.pkgKey;
  END`,
    ],
    indexes: [
      "CREATE INDEX IF NOT EXISTS keyfile ON filelist (pkgKey)",
      "CREATE INDEX IF NOT EXISTS pkgId ON packages (pkgId)",
      "CREATE INDEX IF NOT EXISTS dirnames ON filelist (dirname)",
    ],
  },
  other: {
    tables: [
      dbInfo,
      idPackages,
      "CREATE TABLE changelog (pkgKey INTEGER, author TEXT, date INTEGER, changelog TEXT)",
      `CREATE TRIGGER remove_changelogs AFTER DELETE ON packages BEGIN
    DELETE FROM changelog WHERE pkgKey = old.pkgKey;
  END`,
    ],
    indexes: [
      "CREATE INDEX IF NOT EXISTS keychange ON changelog (pkgKey)",
      "CREATE INDEX IF NOT EXISTS pkgId ON packages (pkgId)",
    ],
  },
};
