import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, makeTempDir } from "../../../test/support/tmp.js";
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
});
