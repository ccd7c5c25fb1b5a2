import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { startUpstream, type Upstream } from "./harness/upstream.js";
import { createrepoC } from "./support/createrepo.js";
import { startProcess } from "./support/processes.js";
import { redisUrl, uniquePrefix } from "./support/redis.js";
import { manyFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("secrets never show: API responses, repository logs, process logs, configuration errors", () => {
  let stack: Stack;
  let upstream: Upstream;
  /** Everything the processes printed, and everything the API answered, must be free of these. */
  const leaks = (text: string, secrets: string[]) => secrets.filter((s) => text.includes(s));
  const allOutput = () => [stack.api, ...stack.workers].map((p) => p.output()).join("\n");

  beforeAll(async () => {
    const small = makeTempDir("secrets-upstream");
    await manyFixtures(join(small, "Packages"), 2, { prefix: "secretstest-" });
    await createrepoC(small);
    upstream = await startUpstream({ small });
    stack = await startStack({ name: "secrets", env: { BESKARYUM_SYNC_TIMEOUT_MS: "2000" } });
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.server.close();
    await cleanupTempDirs();
  });

  it("GET /repository shows mirror_urls with *** for passwords, and writing the view back keeps them", async () => {
    const repository = "artifacts/yum/sec-mirror";
    const authUrl = upstream.authUrl("small"); // http://test:test-password@.../auth/small
    const properties = { mirror: true, mirror_urls: [authUrl, upstream.url("small")] };
    expect((await stack.call("POST", "/repository", { repository, properties })).status).toBe(200);
    const view = await stack.call("GET", "/repository", { repository });
    expect(view.status).toBe(200);
    expect(JSON.stringify(view.json)).not.toContain("test-password");
    expect(view.json.properties.mirror_urls).toEqual([
      authUrl.replace("test:test-password@", "test:***@"),
      upstream.url("small"),
    ]);
    // What a client does: read, change something, write the whole thing back.
    const written = await stack.call("PUT", "/repository", {
      repository,
      properties: { ...view.json.properties, mirror_urls: view.json.properties.mirror_urls.slice(0, 1) },
    });
    expect(written.status, JSON.stringify(written.json)).toBe(200);
    // The stored password is still there: the upstream (basic auth) lets the sync in.
    const synced = await stack.call("GET", "/repository/sync", { repository, wait: true });
    expect(synced.status, JSON.stringify(synced.json)).toBe(200);
    const list = await stack.call("GET", "/repository/package:list", { repository });
    expect(list.json.repository_packages).toHaveLength(2);
    // sync:url with the URL as GET /repository shows it: the stored password is used.
    const shownUrl = view.json.properties.mirror_urls[0];
    const again = await stack.call("GET", "/repository/sync:url", {
      repository,
      mirror_url: shownUrl,
      wait: true,
    });
    expect(again.status, JSON.stringify(again.json)).toBe(200);
    // A redacted URL that matches no stored one is refused, and the refusal shows no password.
    const other = await stack.call("PUT", "/repository", {
      repository,
      properties: { mirror_urls: [`${authUrl.replace("test:test-password@", "test:***@")}other/`] },
    });
    expect(other.status).toBe(400);
    expect(other.json.error.message).toMatch(/redacted \*\*\*/);
    expect(leaks(allOutput(), ["test-password"])).toEqual([]);
  });

  it("a failed sync:url shows its URL with *** in the answer, sync status, repository logs and process logs", async () => {
    const repository = "artifacts/yum/sec-syncurl";
    const properties = { mirror: true, mirror_urls: [upstream.url("small")] };
    expect((await stack.call("POST", "/repository", { repository, properties })).status).toBe(200);
    const secret = "Sup3rSecretPw";
    // Wrong credentials: the upstream answers 401 and the sync fails.
    const bad = upstream.authUrl("small").replace("test-password", secret);
    const failed = await stack.call("GET", "/repository/sync:url", {
      repository,
      mirror_url: bad,
      wait: true,
    });
    expect(failed.status).toBe(500);
    // Again with the URL in the query string, as curl users do.
    const query = new URLSearchParams({ repository, mirror_url: bad, wait: "true" });
    const response = await fetch(`${stack.url}/artifacts/yum/api/v1/repository/sync:url?${query}`, {
      headers: { authorization: `Bearer ${stack.token}` },
    });
    const text = await response.text();
    expect(response.status).toBe(500);
    const status = await stack.call("GET", "/repository/sync:status", { repository });
    expect(status.json.sync_status.sync_error).not.toBe("");
    const logs = await stack.call("GET", "/repository/logs", { repository });
    expect(logs.json.logs.length).toBeGreaterThan(0);
    const shown = [JSON.stringify(failed.json), text, JSON.stringify(status.json), JSON.stringify(logs.json)];
    expect(leaks(shown.join("\n"), [secret])).toEqual([]);
    expect(leaks(allOutput(), [secret])).toEqual([]);
  });

  it("a misplaced ?access_token= is never logged", async () => {
    const token = "Leaky0AccessToken0Value0123456789";
    const urls = [
      `/artifacts/yum/api/v1/repository?repository=artifacts/yum/nope&access_token=${token}`,
      `/artifacts/yum/nope/repo/repodata/nothing.xml.gz?access_token=${token}`,
      `/artifacts/yum/api/v1/nowhere?token=${token}`,
    ];
    for (const url of urls) {
      const response = await fetch(`${stack.url}${url}`);
      expect([401, 404]).toContain(response.status);
      expect(await response.text()).not.toContain(token);
    }
    // An authorized request with a failing upload also logs its URL (400): still hidden.
    const upload = await fetch(
      `${stack.url}/artifacts/yum/sec-upload/repo/Packages/x-1-1.noarch.rpm?access_token=${token}`,
      {
        method: "PUT",
        headers: { authorization: `Bearer ${stack.token}` },
        body: "not an rpm",
      },
    );
    expect(upload.status).toBe(400);
    expect(stack.api.output()).toMatch(/access_token=\*\*\*/);
    expect(leaks(allOutput(), [token, stack.token])).toEqual([]);
  });
});

describe("the admin token rule", () => {
  const startApi = async (env: Record<string, string | undefined>, dataDir = makeTempDir("token-rule")) => {
    const api = await startProcess("node", [join(root, "apps/api/dist/main.js")], {
      env: {
        BESKARYUM_ADDR: "127.0.0.1:0",
        BESKARYUM_DATADIR: dataDir,
        BESKARYUM_REDIS_URL: redisUrl(),
        BESKARYUM_REDIS_PREFIX: uniquePrefix("token-rule"),
        BESKARYUM_ADMIN_TOKEN: undefined,
        ...env,
      },
    });
    // A build without the rule would serve: give it 15 s, then stop it.
    const timer = setTimeout(() => void api.stop(), 15_000);
    const status = await api.exited.finally(() => clearTimeout(timer));
    return { status, output: api.output() };
  };
  afterAll(async () => {
    await cleanupTempDirs();
  });

  it("refuses at start a token shorter than 32 characters, or with spaces, without showing it (exit 2)", async () => {
    for (const token of ["Short0Secret0Token", "has spaces inside the admin token value 0123456789"]) {
      const { status, output } = await startApi({ BESKARYUM_ADMIN_TOKEN: token });
      expect(status.code, output).toBe(2);
      expect(output).toMatch(/BESKARYUM_ADMIN_TOKEN/);
      expect(output).not.toContain(token);
      for (const word of token.split(" ")) if (word.length > 6) expect(output).not.toContain(word);
    }
    const { output } = await startApi({ BESKARYUM_ADMIN_TOKEN: "Short0Secret0Token" });
    expect(output).toMatch(/shorter than 32 characters/);
  });

  it("refuses a short token in <datadir>/admin-token the same way", async () => {
    const dataDir = makeTempDir("token-file");
    writeFileSync(join(dataDir, "admin-token"), "Short0File0Token\n", { mode: 0o600 });
    const { status, output } = await startApi({}, dataDir);
    expect(status.code, output).toBe(2);
    expect(output).toMatch(/admin-token: the admin token is shorter than 32 characters/);
    expect(output).not.toContain("Short0File0Token");
  });
});
