import { randomBytes } from "node:crypto";
import pg from "pg";

/** The test server (CI starts it): trust auth, user postgres. */
export const testPostgresServer = process.env.BESKARYUM_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432";

/** A database of its own for one test file; `drop` removes it (and whatever connections it still has). */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `beskaryum_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: `${testPostgresServer}/postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: `${testPostgresServer}/${name}`,
    async drop() {
      const client = new pg.Client({ connectionString: `${testPostgresServer}/postgres` });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
