import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "./support/run.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const composeText = readFileSync(join(root, "docker-compose.yml"), "utf8");

/**
 * Debian's docker-compose (1.29) checks a file against the Compose specification's schema without
 * a container engine: `config -q` exits non-zero, naming the key, for anything the schema refuses.
 */
async function composeConfig(dir: string, args: string[] = []) {
  return run(
    "docker-compose",
    ["--project-directory", dir, "-f", join(dir, "docker-compose.yml"), ...args, "config"],
    {
      timeoutMs: 60_000,
    },
  );
}

describe("docker-compose.yml", () => {
  afterAll(() => cleanupTempDirs());

  it("is valid Compose with every profile, and lists the services the README names", async () => {
    for (const profile of [[], ["--profile", "front"], ["--profile", "beskar"]]) {
      const result = await composeConfig(root, profile);
      expect(result.code, result.stderr).toBe(0);
    }
    const services = await run(
      "docker-compose",
      [
        "--project-directory",
        root,
        "-f",
        join(root, "docker-compose.yml"),
        "--profile",
        "front",
        "--profile",
        "beskar",
        "config",
        "--services",
      ],
      { timeoutMs: 60_000 },
    );
    expect(services.stdout.trim().split("\n").sort()).toEqual([
      "api",
      "front",
      "redis",
      "registry",
      "worker",
    ]);
  });

  it("is refused when it breaks the schema (the check can fail)", async () => {
    const dir = makeTempDir("compose-");
    writeFileSync(
      join(dir, "docker-compose.yml"),
      composeText.replace("profiles: [front]", "profilez: [front]"),
    );
    mkdirSync(join(dir, "deploy", "nginx"), { recursive: true });
    copyFileSync(join(root, "deploy/nginx/beskar-yum.conf"), join(dir, "deploy/nginx/beskar-yum.conf"));
    const result = await composeConfig(dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/profilez/);
  });

  it("mounts files that exist, and the front reads the data volume where the API writes it", () => {
    for (const [, source] of composeText.matchAll(/^\s+- (\.\/[^:\s]+):/gm)) {
      expect(existsSync(resolve(root, source!)), source).toBe(true);
    }
    expect(composeText).toMatch(/BESKARYUM_DATADIR: \/data\n/);
    expect(composeText).toMatch(/BESKARYUM_HTTP_ACCEL_REDIRECT: "true"/);
    expect(composeText).toMatch(/- data:\/data:ro\n/);
    const site = readFileSync(join(root, "deploy/nginx/beskar-yum.conf"), "utf8");
    expect(site).toMatch(/alias \/data\/;/);
    expect(site).toMatch(/X-Accel-Mapping \/data\/=\/_beskar_yum_files\/;/);
    expect(site).toMatch(/server api:5200;/);
  });
});
