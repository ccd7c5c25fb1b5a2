import { createHash } from "node:crypto";
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicMain, craftRpm, writeHeader } from "../packages/rpm/src/test-support/crafted-rpm.js";
import { TestGpg } from "../packages/rpm/src/test-support/gpg.js";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata, startUpstream, type Upstream } from "./harness/upstream.js";
import { createrepoC } from "./support/createrepo.js";
import { run } from "./support/run.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const rockyKey = readFileSync(join(rockyTestdata, "RPM-GPG-KEY-rockyofficial"), "utf8");
const gpgKey = Buffer.from(rockyKey).toString("base64");
const rockyFile = "booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm";

/** The bytes with one bit flipped `fromEnd` bytes before the end: inside the compressed payload. */
function tamper(bytes: Buffer, fromEnd = 10): Buffer {
  const out = Buffer.from(bytes);
  out[out.length - fromEnd]! ^= 0x01;
  return out;
}

/** Every file name under `dir`, recursively. */
function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => {
    try {
      return statSync(join(dir, f)).isFile();
    } catch {
      return false;
    }
  });
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("a payload that does not match its signed header is refused", () => {
  let stack: Stack;
  let upstream: Upstream;
  let dir: string;
  const good = readFileSync(join(rockyTestdata, "Packages", rockyFile));

  beforeAll(async () => {
    dir = makeTempDir("payload-integrity");
    upstream = await startUpstream({});
    stack = await startStack({ name: "payload" });
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.server.close();
    await cleanupTempDirs();
  });

  it("upload: 400 with the code, nothing stored, repomd.xml unchanged; the good package is verified", async () => {
    const repo = "artifacts/yum/payload-hosted";
    const created = await stack.call("POST", "/repository", {
      repository: repo,
      properties: { gpg_key: gpgKey },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const goodPath = join(dir, rockyFile);
    writeFileSync(goodPath, good);
    expect((await stack.upload(repo, goodPath, { wait: true })).status).toBe(201);
    const repomdBefore = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();
    const listBefore = (await stack.call("GET", "/repository/package:list", { repository: repo })).json
      .repository_packages;
    expect(listBefore).toHaveLength(1);
    expect(listBefore[0]).toMatchObject({ verified: true });

    const tampered = tamper(good);
    const padded = Buffer.concat([good, Buffer.from("trailing garbage\n")]);
    const truncated = good.subarray(0, good.length - 100);
    // rpm agrees that the first two are broken.
    for (const [name, bytes] of [
      ["tampered", tampered],
      ["padded", padded],
    ] as const) {
      const path = join(dir, `${name}.rpm`);
      writeFileSync(path, bytes);
      const k = await run("rpm", ["-Kv", "--nosignature", path]);
      expect(k.stdout).toMatch(/Payload SHA256 digest: BAD/);
    }
    const cases: [string, Buffer, string, RegExp][] = [
      [
        "tampered",
        tampered,
        "RPM_PAYLOAD_DIGEST_MISMATCH",
        new RegExp(
          `^${rockyFile.replace(/\./g, "\\.")}: payload SHA256 digest \\(main header tag 5092 \\(PAYLOADDIGEST\\)\\) mismatch: expected 3dba86f65ccd7d99a52821bd510099080df7e5e17810b7fbc59dbf71df9effb0, `,
        ),
      ],
      ["padded", padded, "RPM_TRAILING_DATA", /: trailing data after the payload: the signature header says/],
      [
        "truncated",
        truncated,
        "RPM_TRUNCATED",
        /: truncated RPM: file is \d+ bytes, the signature header says/,
      ],
    ];
    for (const [name, bytes, reason, message] of cases) {
      const path = join(dir, `${name}.rpm`);
      writeFileSync(path, bytes);
      // Uploaded under the real package's name, to a repository holding it.
      const { status, json } = await stack.upload(repo, path, { wait: true, name: rockyFile });
      expect(status, `${name}: ${JSON.stringify(json)}`).toBe(400);
      expect(json.error).toMatchObject({ code: "InvalidArgument", reason });
      expect(json.error.message).toMatch(message);
      // Not stored anywhere, not even as a temporary file.
      const digest = sha256(bytes);
      expect(allFiles(stack.dataDir).filter((f) => f.includes(digest))).toEqual([]);
    }
    expect(allFiles(stack.dataDir).filter((f) => /(^|\/)tmp\/./.test(f) && !f.includes("redis"))).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    expect(await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text()).toBe(repomdBefore);
    const listAfter = (await stack.call("GET", "/repository/package:list", { repository: repo })).json
      .repository_packages;
    expect(listAfter).toEqual(listBefore);
    // What is served is still the good package, byte for byte.
    const served = Buffer.from(
      await (await fetch(`${stack.repoUrl(repo)}Packages/${rockyFile}`)).arrayBuffer(),
    );
    expect(served.equals(good)).toBe(true);
  });

  it("upload of a package without PAYLOADDIGEST: a payload changed behind a recomputed MD5 is refused by its header+payload signature", async () => {
    // As rpm < 4.14 built them (EL7): no payload digest, the MD5 of header+payload, signed with --rpmv3.
    const gpg = new TestGpg(dir);
    try {
      const key = gpg.generate("legacy@example.invalid", "rsa");
      const entries = basicMain("legacypkg");
      const payload = Buffer.alloc(16_384, 0x33);
      const md5 = createHash("md5").update(writeHeader(entries, 63)).update(payload).digest();
      const path = join(dir, "legacypkg-1.0-1.noarch.rpm");
      writeFileSync(
        path,
        craftRpm({ main: entries, payload, signature: [{ tag: 1004, type: 7, value: md5 }] }),
      );
      const signedRc = await run(
        "rpmsign",
        [
          "--define",
          "__gpg /usr/bin/gpg",
          "--define",
          "_gpg_name legacy@example.invalid",
          "--addsign",
          "--rpmv3",
          path,
        ],
        {
          env: { ...process.env, GNUPGHOME: gpg.home },
        },
      );
      expect(signedRc.code).toBe(0);
      const repo = "artifacts/yum/payload-legacy";
      const properties = { gpg_key: Buffer.from(key.armoredPublicKey).toString("base64") };
      expect((await stack.call("POST", "/repository", { repository: repo, properties })).status).toBe(200);
      expect((await stack.upload(repo, path, { wait: true })).status).toBe(201);
      const list = (await stack.call("GET", "/repository/package:list", { repository: repo })).json;
      expect(list.repository_packages).toMatchObject([{ name: "legacypkg", verified: true }]);

      const bytes = readFileSync(path);
      const mainStart = bytes.indexOf(writeHeader(entries, 63).subarray(0, 16), 96);
      const md5At = bytes.indexOf(md5);
      expect(mainStart).toBeGreaterThan(96);
      expect(md5At).toBeGreaterThan(96);
      bytes[bytes.length - 10]! ^= 1;
      createHash("md5").update(bytes.subarray(mainStart)).digest().copy(bytes, md5At);
      const forged = join(dir, "forged.rpm");
      writeFileSync(forged, bytes);
      const { status, json } = await stack.upload(repo, forged, {
        wait: true,
        name: "legacypkg-1.0-1.noarch.rpm",
      });
      expect(status, JSON.stringify(json)).toBe(400);
      expect(json.error).toMatchObject({ code: "InvalidArgument", reason: "RPM_SIGNATURE_INVALID" });
      expect(json.error.message).toMatch(
        /header\+payload signature \(tag 1002 \(PGP\)\) by key [0-9a-f]{16} does not verify/,
      );
      const after = (await stack.call("GET", "/repository/package:list", { repository: repo })).json;
      expect(after.repository_packages).toEqual(list.repository_packages);
    } finally {
      gpg.close();
    }
  });

  /**
   * A copy of the Rocky tree with one package's payload tampered, regenerated with createrepo_c so
   * that upstream's own checksums agree with the tampered bytes: only the payload digest can tell.
   * Returns the tampered package's href.
   */
  const tamperedUpstream = async (name: string, pick: (hrefs: string[]) => string): Promise<string> => {
    const tree = join(upstream.root, name);
    cpSync(rockyTestdata, tree, { recursive: true });
    rmSync(join(tree, "repodata"), { recursive: true });
    await createrepoC(tree);
    const hrefs = primaryHrefs(tree);
    expect(hrefs).toHaveLength(27);
    const href = pick(hrefs);
    const path = join(tree, href);
    writeFileSync(path, tamper(readFileSync(path)));
    await createrepoC(tree);
    expect(primaryHrefs(tree)).toEqual(hrefs);
    return href;
  };

  const mirrorFails = async (name: string, href: string) => {
    const repo = `artifacts/yum/${name}`;
    const properties = { mirror: true, mirror_urls: [upstream.url(name)], gpg_key: gpgKey };
    const created = await stack.call("POST", "/repository", { repository: repo, properties });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    // A new repository serves empty repodata: the failed sync must leave it so.
    const repomdBefore = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();
    const { status, json } = await stack.call("GET", "/repository/sync", { repository: repo, wait: true });
    expect(status, JSON.stringify(json)).toBe(500);
    const message = new RegExp(
      `${href.replace(/[.+]/g, "\\$&")}: payload SHA256 digest \\(main header tag 5092 \\(PAYLOADDIGEST\\)\\) mismatch`,
    );
    expect(json.error.message).toMatch(message);
    const state = (await stack.call("GET", "/repository/sync:status", { repository: repo })).json.sync_status;
    expect(state.syncing).toBe(false);
    expect(state.sync_error).toMatch(message);
    // Nothing published: the same repomd.xml, no packages listed, the tampered package not served.
    expect(await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text()).toBe(repomdBefore);
    expect((await fetchPrimary(stack.repoUrl(repo))).packages).toEqual([]);
    expect((await fetch(`${stack.repoUrl(repo)}${href}`)).status).toBe(404);
    const list = (await stack.call("GET", "/repository/package:list", { repository: repo })).json;
    expect(list.repository_packages ?? []).toEqual([]);
  };

  // The first packages of a sync stream to a file (the payload checked as the bytes pass); from the
  // 17th small one on, they are downloaded whole and handed to the package thread (checked there).
  it("mirror sync, streamed download: the sync fails naming the package and publishes nothing", async () => {
    const href = await tamperedUpstream("tampered-first", (hrefs) => hrefs[0]!);
    await mirrorFails("tampered-first", href);
  });

  it("mirror sync, package thread: the sync fails naming the package and publishes nothing", async () => {
    const href = await tamperedUpstream("tampered-last", (hrefs) => hrefs.at(-1)!);
    await mirrorFails("tampered-last", href);
  });
});

/** The package hrefs of a createrepo_c tree, in primary.xml's order. */
function primaryHrefs(tree: string): string[] {
  const repodata = join(tree, "repodata");
  const file = readdirSync(repodata).find((f) => f.endsWith("-primary.xml.gz"))!;
  const xml = gunzipSync(readFileSync(join(repodata, file))).toString("utf8");
  return [...xml.matchAll(/<location href="([^"]+)"/g)].map((m) => m[1]!);
}
