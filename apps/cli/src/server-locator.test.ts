import { chmodSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, makeTempDir } from "../../../test/support/tmp.js";
import { cliConfigLocation, readCliConfig, writeCliConfig } from "./cli-config.js";
import { locateServer, urlOfListenAddress } from "./server-locator.js";

describe("locateServer", () => {
  afterAll(cleanupTempDirs);

  it("reaches a listen address: wildcards on the loopback, IPv6 in brackets", () => {
    expect(urlOfListenAddress("0.0.0.0:5300")).toBe("http://127.0.0.1:5300");
    expect(urlOfListenAddress(":5300")).toBe("http://127.0.0.1:5300");
    expect(urlOfListenAddress("[::]:5300")).toBe("http://[::1]:5300");
    expect(urlOfListenAddress("[::1]:5300")).toBe("http://[::1]:5300");
    expect(urlOfListenAddress("repo.example:80")).toBe("http://repo.example:80");
    expect(urlOfListenAddress("no port")).toBeUndefined();
  });

  it("takes --server, then BESKARYUM_URL, then BESKARYUM_ADDR, then the default", () => {
    const cwd = makeTempDir("locator-url");
    const env = { BESKARYUM_URL: "http://url:1/", BESKARYUM_ADDR: "0.0.0.0:2" };
    expect(locateServer({ server: "http://flag:3", env, cwd }).url).toBe("http://flag:3");
    expect(locateServer({ env, cwd }).url).toBe("http://url:1");
    expect(locateServer({ env: { BESKARYUM_ADDR: "0.0.0.0:2" }, cwd }).url).toBe("http://127.0.0.1:2");
    expect(locateServer({ env: {}, cwd }).url).toBe("http://127.0.0.1:5200");
    expect(locateServer({ server: "127.0.0.1:5300/", env: {}, cwd }).url).toBe("http://127.0.0.1:5300");
  });

  it("takes --token, then BESKARYUM_TOKEN, BESKARYUM_ADMIN_TOKEN, then <datadir>/admin-token", () => {
    const cwd = makeTempDir("locator-token");
    mkdirSync(join(cwd, "data"));
    writeFileSync(join(cwd, "data", "admin-token"), "from-default-datadir\n");
    mkdirSync(join(cwd, "elsewhere"));
    writeFileSync(join(cwd, "elsewhere", "admin-token"), "from-datadir\n");
    const env = { BESKARYUM_TOKEN: "t", BESKARYUM_ADMIN_TOKEN: "a", BESKARYUM_DATADIR: "elsewhere" };
    expect(locateServer({ token: "f", env, cwd }).token).toBe("f");
    expect(locateServer({ env, cwd }).token).toBe("t");
    expect(locateServer({ env: { ...env, BESKARYUM_TOKEN: "" }, cwd }).token).toBe("a");
    expect(locateServer({ env: { BESKARYUM_DATADIR: "elsewhere" }, cwd }).token).toBe("from-datadir");
    expect(locateServer({ env: {}, cwd }).token).toBe("from-default-datadir");
    const none = locateServer({ env: {}, cwd: makeTempDir("locator-none") });
    expect(none.token).toBeUndefined();
    expect(none.tokenFile).toMatch(/locator-none.*\/data\/admin-token$/);
    expect(none.tokenFileProblem).toBe("no such file");
  });

  it("puts the config file after flags and the environment, before the local defaults", () => {
    const cwd = makeTempDir("locator-config");
    mkdirSync(join(cwd, "data"));
    writeFileSync(join(cwd, "data", "admin-token"), "local\n");
    const config = { server: "https://yum.example.com/", token: "saved" };
    expect(locateServer({ env: {}, cwd, config })).toMatchObject({
      url: "https://yum.example.com",
      token: "saved",
    });
    // The environment's server wins, and the saved token is not sent to it: the local one is.
    expect(locateServer({ env: { BESKARYUM_ADDR: "0.0.0.0:2" }, cwd, config })).toMatchObject({
      url: "http://127.0.0.1:2",
      token: "local",
    });
    expect(locateServer({ server: "https://yum.example.com", env: {}, cwd, config }).token).toBe("saved");
    expect(locateServer({ env: { BESKARYUM_TOKEN: "env" }, cwd, config }).token).toBe("env");
    // Nor is the local token sent to the config's server.
    const noToken = locateServer({ env: {}, cwd, config: { server: "https://yum.example.com" } });
    expect(noToken.token).toBeUndefined();
    expect(noToken.tokenFileProblem).toMatch(/the server comes from the config file/);
    // A config without a server gives its token to whatever server is found.
    expect(locateServer({ env: {}, cwd, config: { token: "saved" } })).toMatchObject({
      url: "http://127.0.0.1:5200",
      token: "saved",
    });
    const tokenFile = join(cwd, "token");
    writeFileSync(tokenFile, "from-token-file\n");
    expect(locateServer({ env: {}, cwd, config: { server: "https://y", token_file: tokenFile } }).token).toBe(
      "from-token-file",
    );
  });
});

describe("the CLI config file", () => {
  afterAll(cleanupTempDirs);

  it("is --config, else BESKARYUM_CLI_CONFIG, else under XDG_CONFIG_HOME, else ~/.config", () => {
    const at = (flag: string | undefined, env: Record<string, string>) =>
      cliConfigLocation({ flag, env, home: "/home/u", cwd: "/w" });
    expect(at("c.json", { BESKARYUM_CLI_CONFIG: "/e.json" })).toEqual({ file: "/w/c.json", explicit: true });
    expect(at(undefined, { BESKARYUM_CLI_CONFIG: "/e.json", XDG_CONFIG_HOME: "/x" }).file).toBe("/e.json");
    expect(at(undefined, { XDG_CONFIG_HOME: "/x" })).toEqual({
      file: "/x/beskar-yum/cli.json",
      explicit: false,
    });
    expect(at(undefined, { XDG_CONFIG_HOME: "relative" }).file).toBe("/home/u/.config/beskar-yum/cli.json");
  });

  it("is written 0600 in a 0700 folder, read back, and refused when wrong", () => {
    const dir = makeTempDir("cli-config");
    const file = join(dir, "sub", "cli.json");
    writeCliConfig(file, { server: "https://y", token: "t" });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "sub")).mode & 0o777).toBe(0o700);
    expect(readCliConfig({ file, explicit: false })).toEqual({ server: "https://y", token: "t" });
    chmodSync(file, 0o640);
    expect(() => readCliConfig({ file, explicit: false })).toThrow(/others can read it \(mode 0640\)/);
    const missing = join(dir, "none.json");
    expect(readCliConfig({ file: missing, explicit: false })).toEqual({});
    expect(() => readCliConfig({ file: missing, explicit: true })).toThrow(/cannot read the config file/);
    const write = (text: string) => {
      writeFileSync(missing, text, { mode: 0o600 });
      return () => readCliConfig({ file: missing, explicit: true });
    };
    expect(write("{")).toThrow(/is not JSON/);
    expect(write("[]")).toThrow(/must hold a JSON object/);
    expect(write('{"url": "x"}')).toThrow(/unknown key url/);
    expect(write('{"server": 1}')).toThrow(/server must be a non-empty string/);
    expect(write('{"token_file": "tok"}')()).toEqual({ token_file: join(dir, "tok") });
  });
});
