import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";

export type ChecksumType = "sha1" | "sha256" | "sha512";
export type Compression = "gz" | "xz" | "zstd";

/** Everything `beskar-yum createrepo` was asked to do. */
export interface CreaterepoOptions {
  /** The repository directory; `<dir>/repodata/` is written. */
  dir: string;
  /** Reuse the XML of packages whose location, size and mtime are unchanged. Default false. */
  update: boolean;
  /** Package and metadata checksums. Default "sha256" (createrepo_c's). */
  checksum: ChecksumType;
  /** Compression of primary/filelists/other. Default "gz". */
  compress: Compression;
  /** Parser threads. Default: the number of CPUs. */
  workers: number;
  /** `<revision>` of repomd.xml. Default: the current unix time. */
  revision?: string;
  /** Record timestamps = revision (createrepo_c's `--set-timestamp-to-revision`); needs a numeric revision. */
  setTimestampToRevision: boolean;
  /** Changelog entries kept per package. Default 10 (createrepo_c's). */
  changelogLimit: number;
  /** Leave out RPMs that cannot be read, with a warning, as createrepo_c does. Default: fail. */
  skipInvalid: boolean;
  /**
   * Also write primary_db, filelists_db and other_db (createrepo_c's sqlite databases, version
   * 10), xz-compressed. Default false (createrepo_c's default is on, bz2).
   */
  database: boolean;
  /** With `update`: keep the old repomd.xml's other records (comps, updateinfo, modules, ...). */
  keepAllMetadata: boolean;
  /** No progress, no summary. */
  quiet: boolean;
  /** Print the summary as one JSON line. */
  json: boolean;
}

export class CreaterepoUsageError extends Error {
  override name = "CreaterepoUsageError";
}

export const createrepoUsage = `usage: beskar-yum createrepo <dir> [options]

Scans <dir> for *.rpm and writes <dir>/repodata/ as createrepo_c --no-database does
(as createrepo_c --xz does with --database).

  --update                 reuse the metadata of RPMs whose location, size and mtime are unchanged
  --checksum TYPE          sha256 (default), sha1 or sha512
  --compress TYPE          gz (default), xz or zstd
  --workers N              parser threads (default: number of CPUs)
  --revision R             repomd.xml <revision> (default: current unix time)
  --set-timestamp-to-revision
                           record timestamps = revision (reproducible repomd.xml)
  --changelog-limit N      changelog entries per package (default 10, --changelog-limit=-1 keeps all)
  --skip-invalid           warn about unreadable RPMs and leave them out (createrepo_c's way)
                           instead of failing
  --database               also write the sqlite databases (primary_db, filelists_db, other_db)
                           as <checksum>-<kind>.sqlite.xz
  --keep-all-metadata      with --update, keep updateinfo, comps, modules, ... of the old
                           repomd.xml (without it they are dropped, as by createrepo_c)
  -q, --quiet              no progress, no summary
  --json                   print the summary as one JSON line`;

function integer(value: string, flag: string, min: number): number {
  if (!/^-?\d+$/.test(value) || Number(value) < min) {
    throw new CreaterepoUsageError(`--${flag}: expected an integer >= ${min}, got "${value}"`);
  }
  return Number(value);
}

/** Parses the arguments after `createrepo`. Throws CreaterepoUsageError with the reason. */
export function parseCreaterepoArgs(argv: string[]): CreaterepoOptions | "help" {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new CreaterepoUsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (positionals.length !== 1) {
    throw new CreaterepoUsageError(
      positionals.length === 0 ? "missing <dir>" : `one <dir> expected, got ${positionals.length}`,
    );
  }
  const checksum = values.checksum ?? "sha256";
  if (checksum !== "sha1" && checksum !== "sha256" && checksum !== "sha512") {
    throw new CreaterepoUsageError(`--checksum: expected sha256, sha1 or sha512, got "${checksum}"`);
  }
  const compress = values.compress ?? "gz";
  if (compress !== "gz" && compress !== "xz" && compress !== "zstd") {
    throw new CreaterepoUsageError(`--compress: expected gz, xz or zstd, got "${compress}"`);
  }
  const revision = values.revision;
  if (revision !== undefined && (revision === "" || /[\s<>&]/.test(revision))) {
    throw new CreaterepoUsageError(`--revision: expected a non-empty word, got "${revision}"`);
  }
  const setTimestampToRevision = values["set-timestamp-to-revision"] ?? false;
  if (setTimestampToRevision && revision !== undefined && !/^\d+$/.test(revision)) {
    throw new CreaterepoUsageError("--set-timestamp-to-revision needs a numeric --revision");
  }
  const options: CreaterepoOptions = {
    dir: positionals[0]!,
    update: values.update ?? false,
    checksum,
    compress,
    workers: values.workers === undefined ? availableParallelism() : integer(values.workers, "workers", 1),
    setTimestampToRevision,
    changelogLimit:
      values["changelog-limit"] === undefined
        ? 10
        : integer(values["changelog-limit"], "changelog-limit", -1),
    skipInvalid: values["skip-invalid"] ?? false,
    database: values.database ?? false,
    keepAllMetadata: values["keep-all-metadata"] ?? false,
    quiet: values.quiet ?? false,
    json: values.json ?? false,
  };
  if (revision !== undefined) options.revision = revision;
  return options;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      update: { type: "boolean" },
      checksum: { type: "string" },
      compress: { type: "string" },
      workers: { type: "string" },
      revision: { type: "string" },
      "set-timestamp-to-revision": { type: "boolean" },
      "changelog-limit": { type: "string" },
      "skip-invalid": { type: "boolean" },
      database: { type: "boolean" },
      "keep-all-metadata": { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
