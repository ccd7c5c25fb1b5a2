import { YumError } from "@beskar-yum/errors";
import pg from "pg";
import { PostgresChangeTokens } from "./postgres-change-tokens.js";
import { migratePostgres } from "./postgres-migrations.js";
import { PostgresRepoIndex, type PostgresRepoIndexOptions } from "./postgres-repo-index.js";
import type { RegistryTombstone } from "./registry-records.js";

/** BIGINT columns (counts, sequence numbers, unix seconds) read as numbers: all stay below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * The repository indexes of one PostgreSQL database (`index.driver: postgres`): one pool per process,
 * the schema brought up to date at start (`connect`), and the list of repositories, which with this
 * driver is the `repositories` table, not the directories of the datadir.
 */
export class PostgresIndexes {
  /** The change tokens of this database's repositories (one batching reader per process). */
  readonly changeTokens: PostgresChangeTokens;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: PostgresRepoIndexOptions,
  ) {
    this.changeTokens = new PostgresChangeTokens(pool);
  }

  /** Connects to `url` and migrates the schema (one process at a time: an advisory lock). */
  static async connect(
    url: string,
    options: PostgresRepoIndexOptions & {
      /** Told about errors of idle connections (the server restarted): the pool replaces them. */
      onError?: (err: Error) => void;
    } = {},
  ): Promise<PostgresIndexes> {
    const pool = new pg.Pool({ connectionString: url, types, max: 10 });
    // An idle connection dropped by the server must not crash the process: the next query reconnects.
    pool.on("error", (err) => options.onError?.(err));
    try {
      await migratePostgres(pool);
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof YumError) throw err;
      throw new YumError("UNAVAILABLE", `the PostgreSQL index cannot be used: ${(err as Error).message}`);
    }
    const { maxPackages, logRetention } = options;
    return new PostgresIndexes(pool, {
      ...(maxPackages !== undefined ? { maxPackages } : {}),
      ...(logRetention ? { logRetention } : {}),
    });
  }

  /** The index of `repository`, or undefined when it has none. */
  async open(repository: string): Promise<PostgresRepoIndex | undefined> {
    const { rows } = await this.pool.query<{ id: number }>("SELECT id FROM repositories WHERE name = $1", [
      repository,
    ]);
    return rows[0] ? new PostgresRepoIndex(this.pool, repository, rows[0].id, this.options) : undefined;
  }

  /** Creates the repository's (empty) index, idempotently. */
  async create(repository: string): Promise<PostgresRepoIndex> {
    await this.pool.query("INSERT INTO repositories (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", [
      repository,
    ]);
    const index = await this.open(repository);
    if (!index) throw new YumError("REPO_NOT_FOUND", `repository ${repository} was deleted while created`);
    return index;
  }

  /** Deletes the repository's index: every row of it goes with its `repositories` row (ON DELETE CASCADE). */
  async delete(repository: string): Promise<void> {
    await this.pool.query("DELETE FROM repositories WHERE name = $1", [repository]);
  }

  /** Every repository with an index, by name. */
  async list(): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>("SELECT name FROM repositories ORDER BY name");
    return rows.map((r) => r.name);
  }

  /**
   * Adds the manifests a repository about to be deleted leaves in the registry to its tombstone
   * (those of an earlier deletion of the name not cleaned up yet stay), in one statement.
   */
  async addTombstone(tombstone: RegistryTombstone): Promise<void> {
    await this.pool.query(
      `INSERT INTO registry_tombstones (name, manifests) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET manifests =
         (registry_tombstones.manifests::jsonb || EXCLUDED.manifests::jsonb)::text`,
      [tombstone.repository, JSON.stringify(tombstone.manifests)],
    );
  }

  async tombstone(repository: string): Promise<RegistryTombstone | undefined> {
    const { rows } = await this.pool.query<{ manifests: string }>(
      "SELECT manifests FROM registry_tombstones WHERE name = $1",
      [repository],
    );
    return rows[0] ? { repository, manifests: JSON.parse(rows[0].manifests) } : undefined;
  }

  async removeTombstone(repository: string): Promise<void> {
    await this.pool.query("DELETE FROM registry_tombstones WHERE name = $1", [repository]);
  }

  async listTombstones(): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>(
      "SELECT name FROM registry_tombstones ORDER BY name",
    );
    return rows.map((r) => r.name);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
