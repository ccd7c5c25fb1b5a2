import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary } from "./harness/repodata-client.js";
import { rockyTestdata } from "./harness/upstream.js";
import { freePort, type ProcessHandle, startProcess } from "./support/processes.js";
import { deletePrefix, redisUrl, uniquePrefix } from "./support/redis.js";
import { run } from "./support/run.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "apps/cli/bin/beskar-yum.js");
const version = (JSON.parse(readFileSync(join(root, "apps/cli/package.json"), "utf8")) as { version: string })
  .version;
const rpms = readdirSync(join(rockyTestdata, "Packages"))
  .filter((f) => f.endsWith(".rpm"))
  .sort()
  .map((f) => join(rockyTestdata, "Packages", f));

/** No server or token from the test's own environment: the CLI must find them itself. */
const unset = {
  BESKARYUM_URL: undefined,
  BESKARYUM_TOKEN: undefined,
  BESKARYUM_ADMIN_TOKEN: undefined,
  BESKARYUM_DATADIR: undefined,
  BESKARYUM_ADDR: undefined,
  BESKARYUM_CLI_CONFIG: undefined,
  XDG_CONFIG_HOME: undefined,
};

/**
 * The CLI against a server started as a user would: `npm start` (scripts/start.mjs) in a directory
 * of its own, on a non-default BESKARYUM_ADDR, with the admin token it generates into ./data/admin-token.
 * Every CLI run below has only BESKARYUM_ADDR and that directory: no --server, no --token.
 */
describe("beskar-yum CLI", () => {
  const prefix = uniquePrefix("cli");
  const home = makeTempDir("cli-home");
  let port: number;
  let server: ProcessHandle;
  let repoUrl: (name: string) => string;
  const beskarYum = (args: string[], env: Record<string, string | undefined> = {}) =>
    run("node", [cli, ...args], {
      cwd: home,
      // HOME: no config file of the machine's user is read.
      env: { ...unset, HOME: home, BESKARYUM_ADDR: `0.0.0.0:${port}`, ...env },
      timeoutMs: 60_000,
    });
  const json = async (args: string[]) => {
    const result = await beskarYum([...args, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    port = await freePort();
    repoUrl = (name) => `http://127.0.0.1:${port}/artifacts/yum/${name}/repo/`;
    server = await startProcess("node", [join(root, "scripts/start.mjs")], {
      cwd: home,
      env: {
        ...unset,
        BESKARYUM_ADDR: `0.0.0.0:${port}`,
        BESKARYUM_REDIS_URL: redisUrl(),
        BESKARYUM_REDIS_PREFIX: prefix,
        BESKARYUM_PUBLISH_DEBOUNCE_MS: "50",
        BESKARYUM_PUBLISH_MAX_DELAY_MS: "500",
      },
      readyLine: /"msg":"worker ready"/,
      // start.mjs builds first when the sources are newer than dist/.
      timeoutMs: 180_000,
    });
    await server.waitFor(/"msg":"api listening"/, 30_000);
  });
  afterAll(async () => {
    // SIGTERM, so that start.mjs takes the API and the worker down with it.
    await server?.stop("SIGTERM", 20_000);
    await deletePrefix(prefix);
    await cleanupTempDirs();
  });

  it("finds the server npm start configured (BESKARYUM_ADDR, ./data/admin-token), with no --server or --token", async () => {
    const created = await beskarYum(["repo", "create", "hosted"]);
    expect(created.stderr).toBe("");
    expect(created.stdout).toBe("created artifacts/yum/hosted\n");
    const listed = await beskarYum(["repo", "list"]);
    expect(listed.stdout).toMatch(/^REPOSITORY +TYPE +PACKAGES +STATE\nartifacts\/yum\/hosted +hosted +0\n$/);
  });

  /** An RPM lead (so that it passes the CLI's own check) and then garbage: the server refuses it. */
  const corruptRpm = (dir: string, name: string, size: number) => {
    const file = join(dir, name);
    writeFileSync(file, Buffer.concat([Buffer.from("edabeedb", "hex"), Buffer.alloc(size, 7)]));
    return file;
  };

  it("pushes 27 RPMs in parallel past a bad file in the middle, waits once, and says what failed", async () => {
    const bad = corruptRpm(makeTempDir("cli-bad"), "bad.rpm", 100_000);
    const files = [...rpms.slice(0, 13), bad, ...rpms.slice(13)];
    expect(files).toHaveLength(28);
    const t0 = Date.now();
    const pushed = await beskarYum(["push", "hosted", ...files]);
    console.log(`push of 27 RPMs and a bad file: ${Date.now() - t0} ms`);
    expect(pushed.code).toBe(1);
    expect(pushed.stdout.trim().split("\n")).toHaveLength(27);
    expect(pushed.stderr).toMatch(/^27 of 28 pushed; failed: \S*\/bad\.rpm: \S.+\n$/m);
    // One wait at the end: when push returns, every stored file is in the published repodata.
    expect((await fetchPrimary(repoUrl("hosted"))).packages).toHaveLength(27);
  });

  it("refuses what is not an RPM before sending it, and still waits when the file carrying the wait is refused", async () => {
    const dir = makeTempDir("cli-local");
    const misnamed = join(dir, "notes.txt");
    writeFileSync(misnamed, "hello\n");
    const text = join(dir, "text.rpm");
    writeFileSync(text, "hello\n");
    const refused = await beskarYum(["push", "hosted", misnamed, text]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain(`${misnamed}: not an RPM file name (expected *.rpm)`);
    expect(refused.stderr).toContain(`${text}: not an RPM (it does not start with an RPM lead)`);
    expect(refused.stderr).toMatch(/^0 of 2 pushed; failed: /m);

    // The smallest file carries the wait; refused, the publish is waited for another way.
    const tiny = corruptRpm(dir, "tiny.rpm", 100);
    const pushed = await beskarYum(["push", "second", rpms[0]!, tiny]);
    expect(pushed.code).toBe(1);
    expect(pushed.stderr).toMatch(/^1 of 2 pushed; failed: \S*\/tiny\.rpm: /m);
    expect((await fetchPrimary(repoUrl("second"))).packages).toHaveLength(1);
  });

  it("prints JSON that parses with --json on every read command, and filters packages", async () => {
    // One after the other: on two cores, parallel node processes are no faster.
    const reads = [
      ["repo", "list"],
      ["repo", "get", "hosted"],
      ["packages", "hosted"],
      ["packages", "hosted", "--name", "pacemaker-cli-debuginfo"],
      ["packages", "hosted", "--arch", "noarch"],
      ["packages", "hosted", "--search", "DEBUGSOURCE", "--arch", "x86_64"],
      ["status", "hosted"],
      ["logs", "hosted"],
    ];
    const parsed = [];
    for (const args of reads) parsed.push(await json(args));
    const [repos, repo, all, named, noarch, searched, status, logs] = parsed;
    const table = await beskarYum(["packages", "hosted", "--search", "pacemaker"]);
    expect(repos).toEqual([
      { repository: "artifacts/yum/hosted", mirror: false, packages: 27, syncing: false },
      { repository: "artifacts/yum/second", mirror: false, packages: 1, syncing: false },
    ]);
    expect(repo.properties).toMatchObject({ mirror: false });
    expect(all).toHaveLength(27);
    expect(named.map((p: { name: string }) => p.name)).toEqual(["pacemaker-cli-debuginfo"]);
    expect(noarch).toEqual([]);
    expect(searched.length).toBeGreaterThan(0);
    expect(searched.every((p: { name: string }) => p.name.endsWith("-debugsource"))).toBe(true);
    expect(status.sync_status).toMatchObject({ syncing: false });
    expect(Array.isArray(logs)).toBe(true);
    const byId = await json(["package", "get", "hosted", named[0].id]);
    const byTag = await json(["package", "get", "hosted", named[0].tag, "--tag"]);
    expect(byId.repository_packages).toMatchObject({ name: "pacemaker-cli-debuginfo", id: named[0].id });
    expect(byTag.repository_packages.id).toBe(named[0].id);

    // And tables otherwise: a header, then one aligned row per package.
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^PACKAGE +ID +TAG +SIGNATURE$/);
    expect(lines).toHaveLength(3);
    const idColumn = lines.map((line, i) => (i === 0 ? line.indexOf("ID") : line.search(/[0-9a-f]{64}/)));
    expect(new Set(idColumn).size).toBe(1);
  });

  it("removes a package and returns once the published repodata no longer lists it", async () => {
    const [victim] = await json(["packages", "hosted", "--name", "spausedd-debuginfo"]);
    const removed = await beskarYum(["package", "rm", "hosted", victim.id]);
    expect(removed.code, removed.stderr).toBe(0);
    const published = (await fetchPrimary(repoUrl("hosted"))).packages;
    expect(published).toHaveLength(26);
    expect(published.map((p) => p.pkgid)).not.toContain(victim.id);
  });

  it("follows a repository's log until a sync ends (logs --follow --until-sync-end)", async () => {
    const dead = async () => `http://127.0.0.1:${await freePort()}/nothing`;
    expect(
      (await beskarYum(["repo", "create", "mirrored", "--mirror", "--mirror-url", await dead()])).code,
    ).toBe(0);
    // A first failed sync leaves a line, by which we know the follower has started.
    expect((await beskarYum(["sync", "mirrored", "--wait"])).code).toBe(1);
    const follower = await startProcess("node", [cli, "logs", "mirrored", "--follow", "--until-sync-end"], {
      cwd: home,
      env: { ...unset, BESKARYUM_ADDR: `0.0.0.0:${port}` },
    });
    await follower.waitFor(/sync failed/, 20_000);
    const second = await dead();
    // Sync times have a resolution of a second: the next sync starts in a later one, or the follower
    // (polling every 500 ms) could not tell a fast failing sync from the previous one.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await beskarYum(["sync", "mirrored", "--url", second])).code).toBe(0);
    const exit = await Promise.race([
      follower.exited,
      new Promise((resolve) => setTimeout(() => resolve("still following"), 20_000)),
    ]);
    if (exit === "still following") await follower.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    // Every line in the log's format; both failures shown (more lines, e.g. a sync's start, may come).
    const lines = follower.output().trim().split("\n");
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC {2}[A-Z]+ +\S/);
    expect(lines.filter((line) => / {2}ERROR {2}sync failed: /.test(line))).toHaveLength(2);
  });

  it("logs in to a server and uses the saved config file from anywhere; flags and the environment win", async () => {
    const elsewhere = makeTempDir("cli-elsewhere");
    const url = `http://127.0.0.1:${port}`;
    const tokenFile = join(home, "data", "admin-token");
    // Not next to the server: no BESKARYUM_ADDR, no ./data, a HOME of its own.
    const away = (args: string[], env: Record<string, string | undefined> = {}) =>
      run("node", [cli, ...args], {
        cwd: elsewhere,
        env: { ...unset, HOME: elsewhere, ...env },
        timeoutMs: 60_000,
      });
    const configFile = join(elsewhere, ".config", "beskar-yum", "cli.json");
    const refused = await away(["login", url, "--token", "x".repeat(64)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Unauthenticated \(HTTP 401\)/);
    expect(existsSync(configFile)).toBe(false);
    expect(await away(["login", url])).toMatchObject({
      code: 2,
      stderr: "beskar-yum: no token: stdin was empty\n",
    });

    const loggedIn = await away(["login", `${url}/`, "--token-file", tokenFile]);
    expect(loggedIn).toMatchObject({ code: 0, stdout: `logged in to ${url}; saved in ${configFile}\n` });
    expect(JSON.parse(readFileSync(configFile, "utf8"))).toEqual({ server: url, token_file: tokenFile });
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect((await away(["repo", "list"])).stdout).toMatch(/^artifacts\/yum\/hosted +hosted/m);

    // A token piped in is saved in the file itself (0600); XDG_CONFIG_HOME moves the file.
    const xdg = join(elsewhere, "xdg");
    const piped = await run("node", [cli, "login", url], {
      cwd: elsewhere,
      env: { ...unset, HOME: elsewhere, XDG_CONFIG_HOME: xdg },
      input: readFileSync(tokenFile),
      timeoutMs: 60_000,
    });
    expect(piped.code, piped.stderr).toBe(0);
    const xdgFile = join(xdg, "beskar-yum", "cli.json");
    expect(JSON.parse(readFileSync(xdgFile, "utf8"))).toEqual({
      server: url,
      token: readFileSync(tokenFile, "utf8").trim(),
    });
    expect(statSync(xdgFile).mode & 0o777).toBe(0o600);
    expect((await away(["repo", "list", "--json"], { XDG_CONFIG_HOME: xdg })).code).toBe(0);

    // The environment wins over the file: another server, which the file's token is not sent to.
    const nobody = await freePort();
    const overridden = await away(["repo", "list"], { BESKARYUM_URL: `http://127.0.0.1:${nobody}` });
    expect(overridden.code).toBe(2);
    expect(overridden.stderr).toMatch(/^beskar-yum: no admin token: /);
    // --config names another file; a file holding a token that others can read is refused.
    const loose = join(elsewhere, "loose.json");
    writeFileSync(loose, JSON.stringify({ server: url, token: "t" }), { mode: 0o644 });
    expect(await away(["repo", "list", "--config", loose])).toMatchObject({
      code: 2,
      stderr: `beskar-yum: ${loose} holds a token and others can read it (mode 0644): chmod 600 ${loose}\n`,
    });
    expect(await away(["logout"])).toMatchObject({ code: 0, stdout: `removed ${configFile}\n` });
    expect(existsSync(configFile)).toBe(false);
  });

  it("names an unreachable server with its URL and the cause", async () => {
    const nobody = await freePort();
    const result = await beskarYum(["repo", "list"], { BESKARYUM_ADDR: `0.0.0.0:${nobody}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `beskar-yum: cannot reach http://127.0.0.1:${nobody}: connect ECONNREFUSED 127.0.0.1:${nobody}\n`,
    );
  });

  it("has --help for every command, --version, and names an unknown command", async () => {
    const commands = [
      "repo create",
      "repo update",
      "repo list",
      "repo get",
      "repo delete",
      "push",
      "packages",
      "package get",
      "package rm",
      "sync",
      "status",
      "logs",
      "login",
      "logout",
    ];
    const helps = await Promise.all(commands.map((command) => beskarYum([...command.split(" "), "--help"])));
    commands.forEach((command, i) => {
      expect(helps[i]!.code, command).toBe(0);
      expect(helps[i]!.stdout, command).toMatch(new RegExp(`^usage: beskar-yum ${command}( |\n)`));
    });
    const global = await beskarYum(["--help"]);
    expect(global.code).toBe(0);
    for (const command of commands) expect(global.stdout).toContain(`  ${command}`);

    expect(await beskarYum(["--version"])).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect(await beskarYum(["foo"])).toMatchObject({
      code: 2,
      stderr: "beskar-yum: unknown command: foo (see beskar-yum --help)\n",
    });
    expect((await beskarYum(["repo", "frobnicate"])).stderr).toMatch(
      /^beskar-yum: unknown command: repo frobnicate/,
    );
    // `npm start -- --help` prints its usage instead of starting servers.
    const startHelp = await run("node", [join(root, "scripts/start.mjs"), "--help"], { timeoutMs: 30_000 });
    expect(startHelp.code).toBe(0);
    expect(startHelp.stdout).toMatch(/^usage: npm start /);
    const badOption = await beskarYum(["repo", "list", "--bogus"]);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toBe(
      "beskar-yum: unknown option --bogus\nusage: beskar-yum repo list [--json]\n",
    );
  });
});
