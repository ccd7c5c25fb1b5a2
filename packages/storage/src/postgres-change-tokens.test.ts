import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresChangeTokens } from "./postgres-change-tokens.js";
import { PostgresIndexes } from "./postgres-indexes.js";
import type { PostgresRepoIndex } from "./postgres-repo-index.js";
import { createTestDatabase } from "./test-support/postgres-test-db.js";

const properties = { mirror: false, mirror_urls: [], gpg_key: "" };

/**
 * The content cache's change tokens on a real PostgreSQL: exact (a read never answers from a query
 * that started before it was called) and shared (reads that arrive together cost one query).
 */
describe("PostgresChangeTokens", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let indexes: PostgresIndexes;
  let pool: pg.Pool;
  let a: PostgresRepoIndex;
  beforeAll(async () => {
    database = await createTestDatabase();
    indexes = await PostgresIndexes.connect(database.url);
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    a = await indexes.create("artifacts/yum/a");
    await a.createRepository(properties, 1);
    await (await indexes.create("artifacts/yum/b")).createRepository(properties, 1);
  });
  afterAll(async () => {
    await pool?.end();
    await indexes?.close();
    await database?.drop();
  });

  /** The pool the tokens read through, counting its queries and holding their answers while `held`. */
  function gatedPool() {
    let release: () => void = () => {};
    let held: Promise<void> | undefined;
    let ran: () => void = () => {};
    const state = {
      queries: 0,
      /** Resolves once a query has run on the server (its answer possibly held). */
      ran: new Promise<void>((resolve) => {
        ran = resolve;
      }),
      hold() {
        held = new Promise((resolve) => {
          release = resolve;
        });
      },
      release: () => release(),
      pool: {
        query: async (text: string, values: unknown[]) => {
          state.queries++;
          const result = await pool.query(text, values);
          ran();
          if (held) await held;
          return result;
        },
      } as unknown as pg.Pool,
    };
    return state;
  }

  it("gives every repository its token, and none to one that does not exist or is being deleted", async () => {
    const gate = gatedPool();
    const tokens = new PostgresChangeTokens(gate.pool);
    const reads = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        tokens.read(["artifacts/yum/a", "artifacts/yum/b", "none"][i % 3]!),
      ),
    );
    // Twenty reads that arrived together: one query.
    expect(gate.queries).toBe(1);
    expect(new Set(reads.filter((_, i) => i % 3 === 0)).size).toBe(1);
    expect(reads[0]).toMatch(/^\d+:\d+$/);
    expect(reads[1]).not.toBe(reads[0]);
    expect(reads[2]).toBeUndefined();
    const deleting = await indexes.create("artifacts/yum/deleting");
    await deleting.createRepository(properties, 1);
    expect(await tokens.read("artifacts/yum/deleting")).toBeDefined();
    await deleting.setDeleting(true);
    expect(await tokens.read("artifacts/yum/deleting")).toBeUndefined();
  });

  it("answers a read called after a commit with a query that started after it, not the one running", async () => {
    const gate = gatedPool();
    const tokens = new PostgresChangeTokens(gate.pool);
    gate.hold();
    const first = tokens.read("artifacts/yum/a");
    await gate.ran;
    // Committed after the running query read the row, before the second read is called.
    await a.recordPublish(1, { seq: 0, revision: 2, repomd: "<repomd/>" });
    const second = tokens.read("artifacts/yum/a");
    gate.release();
    const [before, after] = await Promise.all([first, second]);
    expect(after).not.toBe(before);
    expect(gate.queries).toBe(2);
    expect(await new PostgresChangeTokens(pool).read("artifacts/yum/a")).toBe(after);
  });
});
