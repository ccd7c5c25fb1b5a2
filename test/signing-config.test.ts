import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startStack } from "./harness/stack.js";
import { eventually } from "./support/eventually.js";
import { gpgVerify } from "./support/gpg-verify.js";
import { startProcess } from "./support/processes.js";
import { deletePrefix, redisUrl, uniquePrefix } from "./support/redis.js";
import { describeFailure, run, runOk } from "./support/run.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const api = join(root, "apps/api/dist/main.js");
const worker = join(root, "apps/worker/dist/main.js");

const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await deletePrefix(prefix);
  await cleanupTempDirs();
});

function baseEnv(): Record<string, string> {
  const prefix = uniquePrefix("signing-config");
  prefixes.push(prefix);
  return {
    BESKARYUM_ADDR: "127.0.0.1:0",
    BESKARYUM_DATADIR: makeTempDir("signing-config"),
    BESKARYUM_REDIS_URL: redisUrl(),
    BESKARYUM_REDIS_PREFIX: prefix,
    BESKARYUM_ADMIN_TOKEN: randomBytes(16).toString("hex"),
  };
}

async function exitOf(main: string, env: Record<string, string>) {
  const proc = await startProcess("node", [main], { env });
  const status = await Promise.race([
    proc.exited,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`still running:\n${proc.output()}`)), 30_000),
    ),
  ]).finally(() => proc.stop("SIGKILL", 1000).catch(() => undefined));
  return { code: status.code, output: proc.output() };
}

/** A passphrase-protected RSA signing key made by gpg: its armored secret key and fingerprint. */
async function gpgSecretKey(passphrase: string): Promise<{ armored: string; fingerprint: string }> {
  const home = makeTempDir("gpg-keygen-");
  const gpg = (...args: string[]) =>
    runOk("gpg", [
      "--homedir",
      home,
      "--batch",
      "--pinentry-mode",
      "loopback",
      "--passphrase",
      passphrase,
      ...args,
    ]);
  const uid = "Signing Config Test <signing@test.invalid>";
  await gpg("--quick-gen-key", uid, "rsa3072", "sign", "never");
  const armored = (await gpg("--armor", "--export-secret-keys", uid)).stdout;
  const colons = (await gpg("--with-colons", "--fingerprint", uid)).stdout;
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(colons)![1]!;
  await run("gpgconf", ["--homedir", home, "--kill", "gpg-agent"]);
  return { armored, fingerprint };
}

describe("signing.key_file and its passphrase", () => {
  it("a key file that is not a key: the API and the worker exit 2 naming it", async () => {
    const env = baseEnv();
    const file = join(env.BESKARYUM_DATADIR!, "not-a-key.asc");
    writeFileSync(file, "this is not an OpenPGP key\n");
    for (const [main, name] of [
      [api, "beskar-yum api"],
      [worker, "beskar-yum worker"],
    ] as const) {
      const { code, output } = await exitOf(main, { ...env, BESKARYUM_SIGNING_KEY_FILE: file });
      expect(code, output).toBe(2);
      expect(output).toMatch(
        new RegExp(
          `^${name}: invalid configuration: signing\\.key_file: ${file} is not an armored OpenPGP secret key`,
        ),
      );
    }
    const missing = join(env.BESKARYUM_DATADIR!, "missing.asc");
    const { code, output } = await exitOf(api, { ...env, BESKARYUM_SIGNING_KEY_FILE: missing });
    expect(code).toBe(2);
    expect(output).toContain(`signing.key_file: cannot read the signing key ${missing} (ENOENT)`);
  });

  it("a passphrase-protected key: refused without its passphrase, used with it from the environment", async () => {
    const passphrase = `pass ${randomBytes(6).toString("hex")}`;
    const key = await gpgSecretKey(passphrase);
    const dir = makeTempDir("signing-key-file");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "server-key.asc");
    writeFileSync(file, key.armored, { mode: 0o600 });

    const without = await exitOf(api, { ...baseEnv(), BESKARYUM_SIGNING_KEY_FILE: file });
    expect(without.code).toBe(2);
    expect(without.output).toContain(
      `signing.key_file: the signing key ${file} is protected by a passphrase: set BESKARYUM_SIGNING_PASSPHRASE`,
    );
    const wrong = await exitOf(api, {
      ...baseEnv(),
      BESKARYUM_SIGNING_KEY_FILE: file,
      BESKARYUM_SIGNING_PASSPHRASE: "wrong",
    });
    expect(wrong.code).toBe(2);
    expect(wrong.output).toContain(`the signing key ${file} cannot be decrypted with the passphrase given`);
    expect(wrong.output).not.toContain(passphrase);

    const stack = await startStack({
      name: "signing-passphrase",
      env: { BESKARYUM_SIGNING_KEY_FILE: file, BESKARYUM_SIGNING_PASSPHRASE: passphrase },
    });
    try {
      const repository = "artifacts/yum/own-key";
      expect((await stack.call("POST", "/repository", { repository, properties: {} })).status).toBe(200);
      const served = await (await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml.key`)).text();
      const home = makeTempDir("gpg-served-");
      const files = makeTempDir("gpg-served-files-");
      writeFileSync(join(files, "key.asc"), served);
      await runOk("gpg", ["--homedir", home, "--batch", "--import", join(files, "key.asc")]);
      const listed = (await runOk("gpg", ["--homedir", home, "--with-colons", "--fingerprint"])).stdout;
      // The key served is the public half of the configured one, and no secret came with it.
      expect(listed).toContain(`fpr:::::::::${key.fingerprint}:`);
      expect(served).not.toMatch(/PRIVATE KEY/);
      for (const name of ["repomd.xml", "repomd.xml.asc"]) {
        const response = await fetch(`${stack.repoUrl(repository)}repodata/${name}`);
        expect(response.status).toBe(200);
        writeFileSync(join(files, name), Buffer.from(await response.arrayBuffer()));
      }
      const verified = await run("gpg", [
        "--homedir",
        home,
        "--batch",
        "--verify",
        join(files, "repomd.xml.asc"),
        join(files, "repomd.xml"),
      ]);
      expect(verified.code, describeFailure("gpg --verify", verified)).toBe(0);
      expect(verified.stderr).toContain("Signing Config Test");
      await run("gpgconf", ["--homedir", home, "--kill", "gpg-agent"]);
    } finally {
      await stack.stop();
    }
  });

  it("a new key: the worker signs the served repomd.xml again at start, same repomd.xml, new signature", async () => {
    const repository = "artifacts/yum/rotated";
    const first = await startStack({ name: "signing-rotation" });
    let dataDir: string;
    let before: { repomd: string; asc: string; key: string };
    try {
      expect((await first.call("POST", "/repository", { repository, properties: {} })).status).toBe(200);
      before = await served(first.repoUrl(repository));
      dataDir = first.dataDir;
    } finally {
      await first.stop();
    }
    // Restarted on the same data, with no key_file: a new key is generated and replaces the old one.
    const second = await startStack({ name: "signing-rotation-2", dataDir, generatedSigningKey: true });
    try {
      const after = await eventually(
        "repomd.xml signed with the new key",
        async () => {
          const now = await served(second.repoUrl(repository));
          return now.asc !== before.asc ? now : undefined;
        },
        { timeoutMs: 60_000, context: () => second.workers.map((w) => w.output()).join("\n") },
      );
      expect(after.key).not.toBe(before.key);
      expect(after.repomd).toBe(before.repomd);
      const good = await gpgVerify(after.key, after.asc, after.repomd);
      expect(good.code, describeFailure("gpg --verify", good)).toBe(0);
      // What a client that kept the old key sees: the new signature is by a key it does not have.
      const old = await gpgVerify(before.key, after.asc, after.repomd);
      expect(old.code).not.toBe(0);
      expect(second.workers[0]!.output()).toContain('"msg":"signed repodata with the current key"');
    } finally {
      await second.stop();
    }
  });
});

async function served(repoUrl: string): Promise<{ repomd: string; asc: string; key: string }> {
  const text = async (file: string) => {
    const response = await fetch(`${repoUrl}repodata/${file}`);
    if (response.status !== 200) throw new Error(`${file}: HTTP ${response.status}`);
    return response.text();
  };
  return {
    repomd: await text("repomd.xml"),
    asc: await text("repomd.xml.asc"),
    key: await text("repomd.xml.key"),
  };
}
