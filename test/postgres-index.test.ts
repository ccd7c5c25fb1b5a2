import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../packages/storage/src/test-support/postgres-test-db.js";
import { type Stack, startStack } from "./harness/stack.js";
import { makeDnf } from "./support/dnf.js";
import { standardFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

/** Every file named like an SQLite index (`index.db`, `-wal`, `-shm`) under `dir`. */
function indexFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) =>
    /(^|\/)index\.db(-wal|-shm)?$/.test(f),
  );
}

describe("index.driver: postgres, with the real API, worker and dnf", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  const stacks: Stack[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    env = { BESKARYUM_INDEX_DRIVER: "postgres", BESKARYUM_INDEX_POSTGRES_URL: database.url };
  });
  afterAll(async () => {
    for (const stack of stacks) await stack.stop();
    await database?.drop();
    await cleanupTempDirs();
  });

  it("serves an uploaded package to dnf from an index kept in PostgreSQL only, across a restart", async () => {
    const first = await startStack({ name: "postgres-index", env });
    stacks.push(first);
    const repo = "artifacts/yum/on-postgres";
    expect((await first.call("POST", "/repository", { repository: repo, properties: {} })).status).toBe(200);
    for (const rpm of (await standardFixtures(makeTempDir("fixtures"))).all) {
      const { status, json } = await first.upload(repo, rpm, { wait: true });
      expect(status, JSON.stringify(json)).toBe(201);
    }
    const installed = await makeDnf(first.repoUrl(repo)).install(["yumtest-app"]);
    expect(installed.stdout).toMatch(/Complete!/);
    // No index on the local disk: blobs and repodata only.
    expect(indexFiles(first.dataDir)).toEqual([]);
    await first.stop();
    stacks.pop();

    // Another stack on the same datadir and database: the repository list and its content come
    // from PostgreSQL.
    const second = await startStack({ name: "postgres-index-again", env, dataDir: first.dataDir });
    stacks.push(second);
    const listed = await second.call("GET", "/repository:list", {});
    expect(listed.status).toBe(200);
    expect(listed.json.repositories).toMatchObject([{ repository: repo, packages: 3 }]);
    const again = makeDnf(second.repoUrl(repo));
    expect((await again.install(["yumtest-app"])).stdout).toMatch(/yumtest-lib/);
    expect(indexFiles(join(second.dataDir))).toEqual([]);

    // What the observability and signing work keeps in the index, kept in PostgreSQL too: the log
    // lines of the uploads and publishes, the publish stats /metrics reads, the signature served.
    const logs = await second.call("GET", "/repository/logs", { repository: repo });
    expect(logs.status).toBe(200);
    const messages: string[] = logs.json.logs.map((l: { message: string }) => l.message);
    expect(messages.filter((m) => m.startsWith("uploaded "))).toHaveLength(3);
    expect(messages).toContainEqual(expect.stringMatching(/^published revision \d+: 3 packages/));
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    const publishes = metrics.match(
      /^beskaryum_repository_publish_duration_seconds_count\{repository="artifacts\/yum\/on-postgres"\} (\d+)$/m,
    );
    expect(Number(publishes?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/^beskaryum_repository_packages\{repository="artifacts\/yum\/on-postgres"\} 3$/m);
    const asc = await fetch(`${second.repoUrl(repo)}repodata/repomd.xml.asc`);
    expect(asc.status).toBe(200);
    expect(await asc.text()).toContain("BEGIN PGP SIGNATURE");
  });
});
