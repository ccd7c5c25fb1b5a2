export { createRedis } from "./redis-connection.js";
export { type HeldLock, RepoLock, type RepoLockOptions } from "./repo-lock.js";
export { type RepoJobData, RepoTrigger, repoEventsQueueName } from "./repo-queue.js";
export { type SyncJobData, SyncQueue, syncQueueName } from "./sync-queue.js";
