import type { Pool } from "pg";

/** A repository's change token: its row's id (a new one when deleted and created again) and change counter. */
export type ChangeToken = string;

interface Batch {
  repositories: Set<string>;
  done: Promise<Map<string, ChangeToken>>;
}

/**
 * Exact change tokens of repository indexes in PostgreSQL, for the API's content cache
 * (`repositories.changes`, bumped by every update of the repository's row: postgres-migrations.ts v3).
 *
 * `read` answers from a query that starts after it was called, so a token it gives reflects every
 * commit visible before the call, in any process: what makes a cached answer as fresh as the route's.
 * Concurrent calls share one query (a batch of every repository asked for meanwhile): while a query
 * runs, the calls that arrive wait for the next one, which starts when it ends. So N cache hits
 * arriving together cost one round trip, not N, and a hit waits at most two round trips.
 */
export class PostgresChangeTokens {
  private running: Batch | undefined;
  private next: Batch | undefined;

  constructor(private readonly pool: Pool) {}

  /** The token of `repository` now; undefined when it has no index, or is being deleted (not servable). */
  async read(repository: string): Promise<ChangeToken | undefined> {
    if (!this.next) {
      const repositories = new Set<string>();
      // Starts once the running query (which may have started before this call) has ended.
      const after = this.running?.done.catch(() => undefined) ?? Promise.resolve();
      const batch: Batch = { repositories, done: after.then(() => this.query(batch)) };
      this.next = batch;
    }
    const batch = this.next;
    batch.repositories.add(repository);
    return (await batch.done).get(repository);
  }

  private async query(batch: Batch): Promise<Map<string, ChangeToken>> {
    this.next = undefined;
    this.running = batch;
    try {
      const { rows } = await this.pool.query<{ name: string; id: number; changes: number }>(
        `SELECT name, id, changes FROM repositories
         WHERE name = ANY($1) AND properties IS NOT NULL AND NOT deleting`,
        [[...batch.repositories]],
      );
      return new Map(rows.map((r) => [r.name, `${r.id}:${r.changes}`]));
    } finally {
      if (this.running === batch) this.running = undefined;
    }
  }
}
