export { assertCronPattern } from "./cron-pattern.js";
export { parseRepoJobData, parseSyncJobData } from "./parse-job-data.js";
export { createRedis } from "./redis-connection.js";
export { type HeldLock, RepoLock, type RepoLockOptions } from "./repo-lock.js";
export { type RepoJobData, RepoTrigger, repoEventsQueueName } from "./repo-queue.js";
export {
  type SyncJobData,
  type SyncJobStatus,
  SyncQueue,
  syncMaxResumes,
  syncQueueName,
} from "./sync-queue.js";
