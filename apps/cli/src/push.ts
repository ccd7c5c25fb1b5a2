import { open, stat } from "node:fs/promises";
import { basename } from "node:path";
import { type AdminClient, ServerError, ServerUnreachable } from "./admin-client.js";

export interface PushedFile {
  file: string;
  result: Record<string, unknown>;
}

export interface FailedFile {
  file: string;
  reason: string;
}

export interface PushReport {
  pushed: PushedFile[];
  failed: FailedFile[];
}

export interface PushOptions {
  /** Wait until everything pushed is in the published repodata (one wait, at the end). */
  wait: boolean;
  /** Uploads at once. */
  jobs: number;
  onPushed?: (pushed: PushedFile) => void;
  onFailed?: (failed: FailedFile) => void;
  /** Bytes sent of all files, and their total. */
  onProgress?: (sent: number, total: number, done: number, files: number) => void;
}

/**
 * Uploads RPM files to a repository, `jobs` at a time; a file that fails does not stop the others.
 * With `wait`, the smallest file is sent alone with `?wait=true` once every other one is stored: the
 * server publishes events in order, so its publish covers them all (one wait instead of one per file).
 */
export async function pushFiles(
  client: AdminClient,
  repository: string,
  files: string[],
  options: PushOptions,
): Promise<PushReport> {
  const report: PushReport = { pushed: [], failed: [] };
  const fail = (file: string, reason: string) => {
    report.failed.push({ file, reason });
    options.onFailed?.({ file, reason });
  };
  const sizes = new Map<string, number>();
  for (const file of files) {
    const problem = await localProblem(file, sizes);
    if (problem) fail(file, problem);
  }
  const ready = files.filter((file) => sizes.has(file));
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  const sent = new Map<string, number>();
  const progress = () =>
    options.onProgress?.(
      [...sent.values()].reduce((a, b) => a + b, 0),
      total,
      report.pushed.length + report.failed.length,
      files.length,
    );

  /** The wait ran out (504): the file is stored and queued, and another wait would run out too. */
  let waitTimedOut = false;
  const upload = async (file: string, wait: boolean): Promise<boolean> => {
    try {
      const result = await client.push(repository, file, {
        wait,
        onProgress: (bytes) => {
          sent.set(file, bytes);
          progress();
        },
      });
      report.pushed.push({ file, result });
      options.onPushed?.({ file, result });
      return true;
    } catch (err) {
      // A server that cannot be reached at all would fail every file the same way: stop there.
      if (!fileFailure(err)) throw err;
      waitTimedOut ||= err instanceof ServerError && err.status === 504;
      // The server's message often starts with the file's name, which the summary shows already.
      const named = `${basename(file)}: `;
      fail(file, err.message.startsWith(named) ? err.message.slice(named.length) : err.message);
      return false;
    } finally {
      progress();
    }
  };

  // The upload that carries the wait goes alone, after the others: the smallest file keeps that short.
  const last = options.wait ? takeSmallest(ready, sizes) : undefined;
  await runPool(ready, options.jobs, (file) => upload(file, false));
  if (last !== undefined && !(await upload(last, true)) && report.pushed.length > 0 && !waitTimedOut) {
    await waitForPublish(client, repository, report, sizes);
  }
  return report;
}

/**
 * The wait the held-back file could not give (it was refused): the smallest stored file is sent again
 * with `?wait=true`. The server stores nothing new for the same bytes, and its publish covers the others.
 */
async function waitForPublish(
  client: AdminClient,
  repository: string,
  report: PushReport,
  sizes: Map<string, number>,
): Promise<void> {
  const sizeOf = (p: PushedFile) => sizes.get(p.file) ?? 0;
  const smallest = report.pushed.reduce((a, b) => (sizeOf(b) < sizeOf(a) ? b : a));
  try {
    await client.push(repository, smallest.file, { wait: true });
  } catch (err) {
    if (!fileFailure(err)) throw err;
    report.failed.push({ file: "(publish)", reason: err.message });
  }
}

/** A failure of one upload (refused, or its connection broke), as opposed to a server out of reach. */
function fileFailure(err: unknown): err is Error {
  return err instanceof ServerError || (err instanceof ServerUnreachable && !err.connect);
}

/** Removes the smallest file from `files` and returns it (undefined when empty). */
function takeSmallest(files: string[], sizes: Map<string, number>): string | undefined {
  if (files.length === 0) return undefined;
  let best = 0;
  for (let i = 1; i < files.length; i++) if (sizes.get(files[i]!)! < sizes.get(files[best]!)!) best = i;
  return files.splice(best, 1)[0];
}

/** Why a file cannot be pushed, found before sending anything; records the size of those that can. */
async function localProblem(file: string, sizes: Map<string, number>): Promise<string | undefined> {
  if (!basename(file).endsWith(".rpm")) return "not an RPM file name (expected *.rpm)";
  try {
    const info = await stat(file);
    if (!info.isFile()) return "not a regular file";
    if (!(await startsWithRpmLead(file))) return "not an RPM (it does not start with an RPM lead)";
    sizes.set(file, info.size);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "no such file" : (err as Error).message;
  }
}

/** Whether the file starts with the RPM lead's magic: a cheap local check, the server checks the rest. */
async function startsWithRpmLead(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    return bytesRead === 4 && buffer.readUInt32BE(0) === 0xedabeedb;
  } finally {
    await handle.close();
  }
}

/** Runs `task` over `items`, at most `limit` at once; the first rejection rejects the whole. */
export async function runPool<T>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}
