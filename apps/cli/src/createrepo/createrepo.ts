import { open, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { isYumError } from "@beskar-yum/errors";
import {
  type MetadataKind,
  type RepomdRecord,
  renderRepomd,
  writeSqliteDatabases,
} from "@beskar-yum/repodata";
import type { CreaterepoOptions } from "./createrepo-options.js";
import { planPackages } from "./createrepo-plan.js";
import { type StartedRun, startCreaterepo, THREADS_FROM } from "./createrepo-start.js";
import { xzCompressor, zstdCompressor } from "./metadata-codecs.js";
import {
  type DocumentStats,
  IndexedGzipDocument,
  type MetadataDocument,
  StreamedDocument,
} from "./metadata-document.js";
import { loadOldRepodata, type OldRepodata } from "./old-repodata.js";
import { type ParseFailure, type ParseTask, parsePackage } from "./parse-package.js";
import { type ParseCallbacks, ParsePool, parseInline } from "./parse-pool.js";
import { swapRepodata } from "./repodata-swap.js";
import { makeWorkDirectory } from "./repository-lock.js";
import { SegmentBuilder, type SegmentItem } from "./segment-builder.js";

export interface CreaterepoIo {
  /** A progress line (the caller shows it only on a terminal). */
  progress?: (line: string) => void;
  /** A warning for stderr. */
  warn: (line: string) => void;
}

export interface CreaterepoSummary {
  dir: string;
  /** Packages in the new repodata. */
  packages: number;
  /** RPMs read and parsed in this run. */
  parsed: number;
  /** Packages whose metadata came from the previous repodata. */
  reused: number;
  /** Packages of the previous repodata that are gone. */
  removed: number;
  /** RPMs left out (`--skip-invalid`). */
  skipped: ParseFailure[];
  revision: string;
  records: RepomdRecord[];
  /** Per kind: package segments written and how many were copied from the previous file. */
  segments: Record<MetadataKind, DocumentStats>;
  /** Old generated files removed from repodata/. */
  removedFiles: string[];
  /** Why `--update` indexed everything, if it did. */
  fullIndexReason?: string;
  ms: number;
}

/** RPMs that cannot be read, when `--skip-invalid` is not given: nothing was written. */
export class InvalidPackagesError extends Error {
  override name = "InvalidPackagesError";
  constructor(
    readonly failures: ParseFailure[],
    readonly total: number,
  ) {
    super(
      `${failures.length} of ${total} RPMs cannot be read; repodata/ is left unchanged ` +
        `(--skip-invalid leaves them out instead):\n${failures.map((f) => `  ${describeFailure(f)}`).join("\n")}`,
    );
  }
}

/** `<path>: <CODE>: <message>` with the path said once. */
export function describeFailure(f: ParseFailure): string {
  const message = f.message.startsWith(`${f.path}: `) ? f.message.slice(f.path.length + 2) : f.message;
  return `${f.path}: ${f.code}: ${message}`;
}

const kinds: MetadataKind[] = ["primary", "filelists", "other"];

/** `--keep-all-metadata`: the old records this run does not write itself (updateinfo, group, modules, ...). */
function keptRecords(old: OldRepodata): RepomdRecord[] {
  const ours = (type: string) =>
    (kinds as string[]).includes(type.replace(/_(db|zck)$/, "")) || type.endsWith("_zck");
  return old.repomd.records.filter((r) => !ours(r.type));
}

type Slot = SegmentItem | "failed" | undefined;

/**
 * Parses on this thread, which has the parser loaded already, and — when there is enough to
 * parse — on `workers - 1` parser threads besides (the full index started them early).
 */
async function parseTasks(run: StartedRun, tasks: ParseTask[], workers: number, callbacks: ParseCallbacks) {
  if (!run.pool && tasks.length > THREADS_FROM && workers > 1) run.pool = new ParsePool(workers - 1);
  if (run.pool) return run.pool.run(tasks, callbacks, parsePackage);
  let next = 0;
  const take = () => {
    const batch = next < tasks.length ? tasks.slice(next, next + 16) : undefined;
    next += 16;
    return batch;
  };
  return parseInline(take, parsePackage, callbacks);
}

/** `--database`: the sqlite databases, built from the XML documents just written to `work`. */
async function writeDatabases(
  work: string,
  xmlRecords: RepomdRecord[],
  checksum: CreaterepoOptions["checksum"],
  timestamp: number,
): Promise<RepomdRecord[]> {
  const xml = Object.fromEntries(
    kinds.map((kind) => {
      const record = xmlRecords.find((r) => r.type === kind)!;
      return [kind, { source: join(work, basename(record.location)), record }];
    }),
  ) as Parameters<typeof writeSqliteDatabases>[0]["xml"];
  // xz -2: on 2,000 packages' databases (1.8 MB) 0.1 s and 335 KB, where -6 takes 0.3 s more
  // (and a 94 MB encoder) for 281 KB; createrepo_c's bz2 writes 451 KB.
  const compress = await xzCompressor(2);
  return writeSqliteDatabases({ dir: work, xml, checksumType: checksum, compress, timestamp });
}

async function writeSynced(path: string, text: string): Promise<void> {
  const handle = await open(path, "wx", 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * `createrepo_c --no-database <dir>` in TypeScript: scan, reuse (with `update`), parse the
 * rest on a thread pool, write primary/filelists/other and repomd.xml into a work directory,
 * then swap them into `<dir>/repodata` (see `swapRepodata`).
 */
export async function createrepo(
  opts: CreaterepoOptions,
  io: CreaterepoIo,
  run?: StartedRun,
): Promise<CreaterepoSummary> {
  const started = performance.now();
  const trace = process.env.BESKARYUM_CREATEREPO_TRACE
    ? (what: string) => io.warn(`trace: ${performance.now().toFixed(1)} ms since start: ${what}`)
    : () => {};
  const now = Math.floor(Date.now() / 1000);
  const revision = opts.revision ?? String(now);
  const timestamp = opts.setTimestampToRevision ? Number(revision) : now;

  run ??= await startCreaterepo(opts);
  const { dir } = run;
  let work: string | undefined;
  try {
    let old: OldRepodata | undefined;
    let fullIndexReason: string | undefined;
    if (run.old) {
      try {
        old = await loadOldRepodata(dir, await run.old);
      } catch (err) {
        const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
        fullIndexReason = missing
          ? "no existing repodata"
          : `existing repodata cannot be reused (${isYumError(err) ? err.code : "ERROR"}: ${(err as Error).message})`;
        if (!missing) io.warn(`warning: ${fullIndexReason}; indexing every package`);
      }
    }
    trace("old repodata loaded");
    const files = await run.files;
    trace(`scanned ${files.length} RPMs`);
    const plan = planPackages(files, old, opts.checksum);
    work = await makeWorkDirectory(dir);

    const compressor =
      opts.compress === "xz"
        ? await xzCompressor()
        : opts.compress === "zstd"
          ? await zstdCompressor()
          : undefined;
    // Failing at the first bad RPM, the count is known: the documents need not keep their content.
    const expected = opts.skipInvalid ? {} : { expectedCount: files.length };
    const docs = Object.fromEntries(
      kinds.map((kind): [MetadataKind, MetadataDocument] => {
        const o = { kind, checksum: opts.checksum, timestamp, ...expected };
        return [kind, compressor ? new StreamedDocument(o, compressor) : new IndexedGzipDocument(o)];
      }),
    ) as Record<MetadataKind, MetadataDocument>;

    // Slots in package order; the cursor hands each finished one to the documents in order.
    const slots: Slot[] = plan.packages.map((p) => (p.old === undefined ? undefined : { old: p.old }));
    const segments = new SegmentBuilder(docs, old);
    let cursor = 0;
    const drain = () => {
      while (cursor < slots.length) {
        const slot = slots[cursor];
        if (slot === undefined) break;
        slots[cursor++] = undefined;
        if (slot !== "failed") segments.push(slot);
      }
    };
    drain();
    trace("reused packages queued");

    const failures: ParseFailure[] = [];
    const tasks: ParseTask[] = [];
    plan.packages.forEach(({ file, old }, index) => {
      if (old === undefined) {
        tasks.push({
          index,
          path: join(dir, file.href),
          href: file.href,
          checksum: opts.checksum,
          changelogLimit: opts.changelogLimit,
        });
      }
    });
    let done = 0;
    let lastProgress = 0;
    const progress = () => {
      if (!io.progress) return;
      const t = performance.now();
      if (t - lastProgress < 100 && done < tasks.length) return;
      lastProgress = t;
      io.progress(`createrepo: parsed ${done}/${tasks.length} RPMs, ${plan.reused} reused`);
    };
    const callbacks: ParseCallbacks = {
      onParsed: (p) => {
        slots[p.index] = p;
        done++;
        drain();
        progress();
      },
      onFailure: (f) => {
        failures.push(f);
        slots[f.index] = "failed";
        done++;
        if (opts.skipInvalid) io.warn(`warning: skipping ${describeFailure(f)}`);
        drain();
        progress();
      },
    };
    await parseTasks(run, tasks, opts.workers, callbacks);
    if (failures.length > 0 && !opts.skipInvalid) {
      failures.sort((a, b) => a.index - b.index);
      throw new InvalidPackagesError(failures, files.length);
    }
    drain();
    segments.flush();
    const written = segments.count;
    trace(`parsed ${tasks.length}`);

    // xz and zstd encoders take tens of MB each (xz -6: ~94 MB): one at a time.
    const records: RepomdRecord[] = [];
    if (compressor) for (const kind of kinds) records.push(await docs[kind].write(work, written));
    else records.push(...(await Promise.all(kinds.map((kind) => docs[kind].write(work!, written)))));
    if (opts.database) records.push(...(await writeDatabases(work, records, opts.checksum, timestamp)));
    trace("databases written");
    if (opts.keepAllMetadata && old) records.push(...keptRecords(old));
    await writeSynced(join(work, "repomd.xml"), renderRepomd({ revision, records }));
    trace("written");
    const { removed: removedFiles } = await swapRepodata(dir, work, records);
    trace("swapped");
    work = undefined;
    const summary: CreaterepoSummary = {
      dir,
      packages: written,
      parsed: tasks.length - failures.length,
      reused: plan.reused,
      removed: plan.removed,
      skipped: failures,
      revision,
      records,
      segments: {
        primary: docs.primary.stats,
        filelists: docs.filelists.stats,
        other: docs.other.stats,
      },
      removedFiles,
      ms: Math.round(performance.now() - started),
    };
    if (fullIndexReason !== undefined) summary.fullIndexReason = fullIndexReason;
    return summary;
  } finally {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
    await run.finish();
  }
}
