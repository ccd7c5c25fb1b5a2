import { YumError } from "@beskar-yum/errors";
import { parseRepomd, type Repomd } from "@beskar-yum/repodata";
import { type Metalink, metalinkMismatch } from "./metalink.js";
import { parseMirrorUrl } from "./mirror-url.js";
import { rollbackProblem, staleUpstream } from "./stale-check.js";

export interface SelectMirrorOptions {
  /** repomd.xml of one mirror (base URL), as text; throws when the mirror cannot serve it. */
  fetchRepomd(base: string): Promise<string>;
  /** The metalink the candidates came from: a repomd.xml that matches neither it nor an alternate is stale. */
  metalink?: Metalink;
  /** The repomd.xml being served: a mirror older than it is stale, unless `force`. */
  served?: Repomd;
  force: boolean;
  log(message: string): void;
}

export interface SelectedMirror {
  base: string;
  repomdText: string;
  /** The failover list for the rest of the sync: the chosen mirror, then those not tried and those that failed (not the stale ones). */
  urls: string[];
}

/**
 * Picks the first candidate whose repomd.xml is current, as dnf does with a metalink: a mirror that
 * is down, or whose repomd.xml does not match the metalink's size and hashes, or is older than what
 * we serve, is skipped (and the log says why). When every mirror is skipped, the sync fails with
 * what was wrong with them (UPSTREAM_STALE when some were merely behind).
 */
export async function selectMirror(
  candidates: string[],
  options: SelectMirrorOptions,
): Promise<SelectedMirror> {
  const failed: string[] = [];
  const problems: string[] = [];
  let stale: string | undefined;
  for (const [i, base] of candidates.entries()) {
    const shown = parseMirrorUrl(base).display;
    let text: string;
    try {
      text = await options.fetchRepomd(base);
    } catch (err) {
      options.log(`mirror ${shown} failed (${(err as Error).message}); trying the next one`);
      failed.push(base);
      problems.push(`${shown}: ${(err as Error).message}`);
      continue;
    }
    const mismatch = options.metalink && metalinkMismatch(Buffer.from(text, "utf8"), options.metalink);
    if (mismatch) {
      options.log(`mirror ${shown} is stale: its ${mismatch}; skipped`);
      problems.push(`${shown}: ${mismatch}`);
      continue;
    }
    let repomd: Repomd;
    try {
      repomd = parseRepomd(text);
    } catch (err) {
      options.log(`mirror ${shown} serves an invalid repomd.xml (${(err as Error).message}); skipped`);
      problems.push(`${shown}: ${(err as Error).message}`);
      continue;
    }
    const rollback = !options.force && options.served ? rollbackProblem(repomd, options.served) : undefined;
    if (rollback) {
      options.log(`mirror ${shown} is stale: ${rollback}; skipped`);
      stale ??= rollback;
      problems.push(`${shown}: ${rollback}`);
      continue;
    }
    if (i > 0) options.log(`syncing from mirror ${shown}`);
    return { base, repomdText: text, urls: [base, ...candidates.slice(i + 1), ...failed] };
  }
  if (stale) throw staleUpstream(stale);
  throw new YumError(
    "UPSTREAM_UNAVAILABLE",
    `no mirror could serve a current repodata/repomd.xml: ${problems.join("; ")}`,
  );
}
