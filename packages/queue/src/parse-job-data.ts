import { YumError } from "@beskar-yum/errors";
import type { RepoJobData } from "./repo-queue.js";
import type { SyncJobData } from "./sync-queue.js";

// Job payloads come from Redis, which anything with access (an older release, an operator, a bug)
// can write: a worker checks them at the boundary and fails a bad job with JOB_INVALID instead of
// letting an odd value travel into storage paths and SQL.

function invalid(queue: string, message: string, data: unknown): YumError {
  const shown = JSON.stringify(data)?.slice(0, 200) ?? String(data);
  return new YumError("JOB_INVALID", `invalid ${queue} job: ${message} (payload ${shown})`);
}

function record(queue: string, data: unknown): Record<string, unknown> {
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw invalid(queue, "expected an object", data);
  return data as Record<string, unknown>;
}

function repositoryOf(queue: string, data: Record<string, unknown>): string {
  const { repository } = data;
  if (typeof repository !== "string" || repository === "")
    throw invalid(queue, "repository: expected a non-empty string", data);
  return repository;
}

/** The payload of a `repo-events` trigger, or JOB_INVALID. */
export function parseRepoJobData(data: unknown): RepoJobData {
  const fields = record("repo-events", data);
  return { repository: repositoryOf("repo-events", fields) };
}

/** The payload of a `repo-sync` job, or JOB_INVALID. */
export function parseSyncJobData(data: unknown): SyncJobData {
  const fields = record("repo-sync", data);
  const repository = repositoryOf("repo-sync", fields);
  const { startTime, urls, force } = fields;
  if (typeof startTime !== "number" || !Number.isSafeInteger(startTime) || startTime < 0)
    throw invalid("repo-sync", "startTime: expected a non-negative integer", data);
  if (force !== undefined && typeof force !== "boolean")
    throw invalid("repo-sync", "force: expected a boolean", data);
  const forced = force === true ? { force } : {};
  if (urls === undefined) return { repository, startTime, ...forced };
  if (!Array.isArray(urls) || urls.length === 0 || urls.some((u) => typeof u !== "string"))
    throw invalid("repo-sync", "urls: expected a non-empty array of strings", data);
  return { repository, startTime, urls: urls as string[], ...forced };
}
