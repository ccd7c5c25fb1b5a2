import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { YumError } from "@beskar-yum/errors";
import type { CreaterepoOptions } from "./createrepo-options.js";
import type { OldMetadataFiles } from "./old-metadata-files.js";
import { ParsePool } from "./parse-pool.js";
import { startPrefetch } from "./prefetch-worker.js";
import { lockRepository } from "./repository-lock.js";
import { type PackageFile, scanPackages } from "./scan-packages.js";

/** Below this many RPMs to parse the main thread alone is faster than with parser threads. */
export const THREADS_FROM = 3000;

/** A run whose I/O-bound first steps are under way. */
export interface StartedRun {
  /** The repository directory, absolute. */
  dir: string;
  /** The RPMs, in output order. */
  files: Promise<PackageFile[]>;
  /** With `--update`: the previous repodata's raw files. */
  old?: Promise<OldMetadataFiles>;
  /** Without `--update` every RPM is parsed, so the parser threads start right away. */
  pool?: ParsePool;
  /** Ends the run: stops the threads, releases the lock. */
  finish(): Promise<void>;
}

/**
 * The first steps of `createrepo`, using nothing heavier than node:fs and threads: check the
 * directory and take its lock, then
 * - full index: scan the directory, then start parser threads if there is enough to parse
 *   (they load their modules while this thread loads its own);
 * - `--update`: start the prefetch thread (old metadata read and decompressed, then the
 *   directory scanned), which runs while this thread loads the modules that parse metadata.
 */
export async function startCreaterepo(opts: CreaterepoOptions): Promise<StartedRun> {
  const dir = resolve(opts.dir);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new YumError("INVALID_ARGUMENT", `${opts.dir}: not a directory`);
  const unlock = await lockRepository(dir);
  const finish = async () => {
    await run.pool?.close();
    await unlock();
  };
  let run: StartedRun;
  if (opts.update) {
    const prefetch = startPrefetch(dir, true);
    run = { dir, files: prefetch.files, finish };
    if (prefetch.old) run.old = prefetch.old;
  } else {
    // Scanning first tells whether parser threads are worth their start-up (~150 ms of CPU
    // each to load their modules); the main thread parses too, so threads = workers - 1.
    let files: PackageFile[];
    try {
      files = scanPackages(dir);
    } catch (err) {
      await unlock();
      throw err;
    }
    run = { dir, files: Promise.resolve(files), finish };
    if (opts.workers > 1 && files.length > THREADS_FROM) run.pool = new ParsePool(opts.workers - 1);
  }
  run.files.catch(() => {}); // awaited (and reported) by createrepo()
  return run;
}
