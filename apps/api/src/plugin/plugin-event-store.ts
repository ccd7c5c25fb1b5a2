import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { decodeEventPayload, type EventPayload, encodeEventPayload } from "@beskar-yum/plugin-sdk";
import { assertRepositoryName } from "@beskar-yum/repository";

const SUFFIX = ".pb";

/** Beskar's event id: `<digest>:<action>` (one stored event per manifest and action). */
function eventKey(event: EventPayload): string {
  return createHash("sha256").update(`${event.digest}:${event.action}`).digest("hex").slice(0, 32);
}

/**
 * Events Beskar posted and we have not processed yet, kept on disk so a restart replays them (Beskar's
 * status DB `events` table): `<directory>/<repository>/<ms>-<key>.pb`, the protobuf as received. Storing
 * the same manifest and action again replaces the earlier one.
 */
export class PluginEventStore {
  private sequence = 0;

  constructor(private readonly directory: string) {}

  /** Persists `event` (written to a temp file, fsynced, renamed). */
  async store(repository: string, event: EventPayload): Promise<void> {
    const dir = this.repositoryDir(repository);
    await mkdir(dir, { recursive: true });
    const key = eventKey(event);
    await this.removeKey(dir, key);
    const stamp = `${Date.now().toString().padStart(15, "0")}${(this.sequence++ % 1000).toString().padStart(3, "0")}`;
    const target = join(dir, `${stamp}-${key}${SUFFIX}`);
    const temp = `${target}.tmp`;
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(encodeEventPayload(event));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  }

  /** The stored events of `repository`, oldest first. */
  async list(repository: string): Promise<EventPayload[]> {
    const dir = this.repositoryDir(repository);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(SUFFIX)).sort();
    const events: EventPayload[] = [];
    for (const name of names) {
      // Processed (or replaced by a newer copy) between readdir and now: nothing to replay.
      const bytes = await readFile(join(dir, name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return undefined;
        throw err;
      });
      if (bytes) events.push(decodeEventPayload(bytes));
    }
    return events;
  }

  /** Forgets `event` once processed. */
  async remove(repository: string, event: EventPayload): Promise<void> {
    await this.removeKey(this.repositoryDir(repository), eventKey(event));
  }

  /** Repositories that have stored events (to start their handlers at plugin start). */
  async repositories(): Promise<string[]> {
    const entries = await readdir(this.directory, { recursive: true }).catch(() => [] as string[]);
    const repos = new Set<string>();
    for (const entry of entries) {
      const parts = entry.split(/[\\/]/);
      if (parts.at(-1)?.endsWith(SUFFIX)) repos.add(parts.slice(0, -1).join("/"));
    }
    return [...repos].sort();
  }

  private repositoryDir(repository: string): string {
    assertRepositoryName(repository);
    return join(this.directory, repository);
  }

  private async removeKey(dir: string, key: string): Promise<void> {
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(
      names.filter((n) => n.endsWith(`-${key}${SUFFIX}`)).map((n) => rm(join(dir, n), { force: true })),
    );
  }
}
