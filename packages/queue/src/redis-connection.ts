import { Redis } from "ioredis";

/** One ioredis connection as BullMQ wants it (no per-command retry limit: blocking commands wait). */
export function createRedis(url: string, name: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: name, lazyConnect: false });
}
