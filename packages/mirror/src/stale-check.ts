import { YumError } from "@beskar-yum/errors";
import type { Repomd } from "@beskar-yum/repodata";

const numeric = /^\d{1,15}$/;

function newestTimestamp(repomd: Repomd): number | undefined {
  let newest: number | undefined;
  for (const r of repomd.records) if (newest === undefined || r.timestamp > newest) newest = r.timestamp;
  return newest;
}

/**
 * Why upstream's repomd.xml would roll the served one back, or undefined: its `revision` is older
 * (when both are numbers, as createrepo writes them) or its newest data file is older. A mirror
 * that lags behind the one we synced from last serves exactly that, and publishing it would take
 * packages and fixes away from every client.
 */
export function rollbackProblem(upstream: Repomd, served: Repomd): string | undefined {
  const [up, ours] = [upstream.revision ?? "", served.revision ?? ""];
  if (numeric.test(up) && numeric.test(ours) && Number(up) < Number(ours))
    return `upstream repomd.xml revision ${up} is older than the served ${ours}`;
  const [upTime, ourTime] = [newestTimestamp(upstream), newestTimestamp(served)];
  if (upTime !== undefined && ourTime !== undefined && upTime < ourTime)
    return `upstream repomd.xml's newest data timestamp ${upTime} is older than the served ${ourTime}`;
  return undefined;
}

/** UPSTREAM_STALE with the message the log and `sync_error` show. */
export function staleUpstream(problem: string): YumError {
  return new YumError("UPSTREAM_STALE", `${problem}: refusing to roll back; sync with force to accept`);
}
