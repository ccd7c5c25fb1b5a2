import { setTimeout as sleep } from "node:timers/promises";
import { type AdminClient, ServerUnreachable } from "./admin-client.js";
import { nextToken } from "./all-pages.js";

export interface LogLine {
  level: string;
  date: string;
  message: string;
}

interface SyncStatus {
  syncing: boolean;
  start_time: string;
  end_time: string;
}

export interface FollowOptions {
  /** Return once a sync has ended: one running now, or the next one to start. */
  untilSyncEnd: boolean;
  intervalMs: number;
  signal?: AbortSignal;
}

/**
 * Prints a repository's log lines, then new ones as they are written, polling. The log API pages
 * with keyset tokens and gives none after its last page, so the token that led to the last page is
 * kept and that page read again, its lines already printed skipped.
 */
export async function followLogs(
  client: AdminClient,
  repository: string,
  print: (line: LogLine) => void,
  options: FollowOptions,
): Promise<void> {
  const syncStatus = async () =>
    (await client.call<{ sync_status: SyncStatus }>("GET", "/repository/sync:status", { repository }))
      .sync_status;
  const initial = options.untilSyncEnd ? await syncStatus() : undefined;
  let seenSyncing = initial?.syncing === true;
  let start: string | undefined;
  let printed = 0;
  const drain = async () => {
    for (;;) {
      const response = await client.call<Record<string, unknown>>("GET", "/repository/logs", {
        repository,
        ...(start ? { "page.token": start } : {}),
      });
      const lines = (response.logs as LogLine[] | null | undefined) ?? [];
      for (const line of lines.slice(printed)) print(line);
      const next = nextToken(response, start);
      if (!next) {
        printed = Math.max(printed, lines.length);
        return;
      }
      start = next;
      printed = 0;
    }
  };
  for (let polled = false; ; polled = true) {
    let ended = false;
    try {
      if (initial) {
        const status = await syncStatus();
        seenSyncing ||= status.syncing;
        // Ended: the one seen running, or one that started and ended between two polls. The times
        // have a resolution of a second (Beskar's format): a sync that started and ended within the
        // second the previous one ended in, between two polls, is not told from it.
        ended =
          !status.syncing &&
          (seenSyncing || status.start_time !== initial.start_time || status.end_time !== initial.end_time);
      }
      await drain();
    } catch (err) {
      // A server restarting (npm start brings a dead API back) is waited for, as tail -F would;
      // one that was never reached is an error.
      if (!(polled && err instanceof ServerUnreachable)) throw err;
    }
    if (ended) {
      // The worker may write its last lines just after it marks the sync ended.
      await sleep(options.intervalMs, undefined, { signal: options.signal });
      await drain();
      return;
    }
    await sleep(options.intervalMs, undefined, { signal: options.signal });
  }
}

/** A log line as text: the date and level have fixed widths, so lines align without a table. */
export function formatLogLine(line: LogLine): string {
  return `${line.date}  ${line.level.padEnd(5)}  ${line.message}`;
}
