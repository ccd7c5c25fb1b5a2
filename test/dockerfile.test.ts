import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { readRouterPolicy } from "@beskar-yum/router";
import { describe, expect, it } from "vitest";
import { runtimeFiles, runtimePath } from "../apps/api/src/runtime-files.js";
import { startProcess } from "./support/processes.js";
import { deletePrefix, redisUrl, uniquePrefix } from "./support/redis.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

/**
 * No container engine here: the Dockerfile is read as Docker would read its COPY instructions
 * (stages, WORKDIR, --from, .dockerignore), and every file the runtime reads (`runtimeFiles`,
 * which the code that reads them takes its paths from) must end up in the final image.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

interface Copy {
  from?: string;
  sources: string[];
  /** Absolute destination in the stage. */
  dest: string;
  /** The destination ends with "/" or there are several sources: sources go into it. */
  intoDir: boolean;
}

interface Stage {
  name: string;
  workdir: string;
  copies: Copy[];
  cmd?: string[];
}

/** Instructions with continuation lines joined and comments dropped. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (current === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    out.push(current + line);
    current = "";
  }
  if (current) out.push(current);
  return out;
}

function words(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith("[")) return JSON.parse(trimmed) as string[];
  return trimmed.split(/\s+/);
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions(text)) {
    const [keyword = "", ...rest] = instruction.split(/\s+/);
    const args = instruction.slice(keyword.length).trim();
    const stage = stages.at(-1);
    switch (keyword.toUpperCase()) {
      case "FROM": {
        const as = rest.findIndex((w) => w.toUpperCase() === "AS");
        stages.push({ name: as >= 0 ? rest[as + 1]! : String(stages.length), workdir: "/", copies: [] });
        break;
      }
      case "WORKDIR":
        stage!.workdir = posix.resolve(stage!.workdir, args);
        break;
      case "COPY":
      case "ADD": {
        const list = words(args);
        const flags = list.filter((w) => w.startsWith("--"));
        const paths = list.filter((w) => !w.startsWith("--"));
        const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
        const destRaw = paths.pop()!;
        stage!.copies.push({
          ...(from ? { from } : {}),
          sources: paths,
          dest: posix.resolve(stage!.workdir, destRaw),
          intoDir: destRaw.endsWith("/") || destRaw === "." || paths.length > 1,
        });
        break;
      }
      case "CMD":
      case "ENTRYPOINT":
        stage!.cmd = words(args);
        break;
    }
  }
  return stages;
}

/** .dockerignore patterns as matchers of context-relative paths (a match excludes the path and what is under it). */
function ignoreMatcher(text: string): (path: string) => boolean {
  const rules = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((pattern) => {
      const negated = pattern.startsWith("!");
      const body = (negated ? pattern.slice(1) : pattern).replace(/^\/+|\/+$/g, "");
      const regex = body
        .split("/")
        .map((part) =>
          part === "**"
            ? "(?:.*)"
            : part
                .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                .replace(/\*/g, "[^/]*")
                .replace(/\?/g, "[^/]"),
        )
        .join("/")
        .replace(/\(\?:\.\*\)\//g, "(?:.*/)?");
      return { negated, re: new RegExp(`^${regex}(?:/.*)?$`) };
    });
  return (path) => {
    let ignored = false;
    for (const { negated, re } of rules) if (re.test(path)) ignored = !negated;
    return ignored;
  };
}

/**
 * Where `path` (absolute, in stage `stageName`) comes from: a context path that exists and is not
 * ignored, or another stage's copy of it. Returns the chain for messages, or why it is missing.
 */
function provenance(
  stages: Stage[],
  stageName: string,
  path: string,
  ignored: (p: string) => boolean,
): { ok: true; from: string } | { ok: false; why: string } {
  const stage = stages.find((s) => s.name === stageName);
  if (!stage) return { ok: false, why: `no stage ${stageName}` };
  // The last COPY that covers the path wins, as in the image.
  for (const copy of [...stage.copies].reverse()) {
    for (const source of copy.sources) {
      const base = copy.intoDir ? posix.join(copy.dest, posix.basename(source)) : copy.dest;
      let sourcePath: string | undefined;
      if (copy.from !== undefined) {
        // Another stage's directory (or file) as a whole: its contents land at dest.
        if (path === copy.dest || path.startsWith(`${copy.dest}/`))
          sourcePath = posix.join(source, posix.relative(copy.dest, path));
      } else {
        const rel = posix.normalize(source).replace(/^\.\/?/, "");
        const isDir = existsSync(join(root, rel)) && statSync(join(root, rel)).isDirectory();
        // A context directory's contents land at dest; a file at dest (or dest/<name>).
        const target = isDir ? copy.dest : base;
        if (path === target || (isDir && path.startsWith(`${target}/`))) {
          sourcePath = isDir ? posix.join(rel, posix.relative(target, path)) : rel;
        }
      }
      if (sourcePath === undefined) continue;
      if (copy.from !== undefined) {
        const upstream = provenance(stages, copy.from, sourcePath, ignored);
        return upstream.ok ? { ok: true, from: `${stageName}:${path} <- ${upstream.from}` } : upstream;
      }
      if (!existsSync(join(root, sourcePath)))
        return { ok: false, why: `${sourcePath} is not in the repository` };
      if (ignored(sourcePath)) return { ok: false, why: `${sourcePath} is excluded by .dockerignore` };
      return { ok: true, from: `${stageName}:${path} <- context ${sourcePath}` };
    }
  }
  return { ok: false, why: `no COPY in stage ${stageName} puts ${path} in the image` };
}

describe("the Dockerfile", () => {
  const stages = parseDockerfile(readFileSync(join(root, "Dockerfile"), "utf8"));
  const ignored = ignoreMatcher(readFileSync(join(root, ".dockerignore"), "utf8"));
  const final = stages.at(-1)!;

  it("runs the API from /app, the repository root the runtime resolves its files against", () => {
    expect(final.workdir).toBe("/app");
    expect(final.cmd).toEqual(["node", "apps/api/dist/main.js"]);
  });

  it("puts every file the runtime reads into the final image", () => {
    expect(runtimeFiles).toEqual(
      expect.arrayContaining([
        "policy/router.rego",
        "policy/data.json",
        "apps/api/openapi/swagger.yaml",
        "apps/api/package.json",
        "apps/api/ui/index.html",
        "apps/api/ui/style.css",
      ]),
    );
    const missing: string[] = [];
    for (const file of runtimeFiles) {
      // The list names real files, where the code looks for them.
      expect(existsSync(runtimePath(file)), file).toBe(true);
      const found = provenance(stages, final.name, posix.join(final.workdir, file), ignored);
      if (!found.ok) missing.push(`${file}: ${found.why}`);
    }
    expect(missing).toEqual([]);
  });

  it("the runtime reads its files where runtimeFiles says (plugin mode's policy)", async () => {
    const policy = await readRouterPolicy();
    expect(Buffer.from(policy.rego).equals(readFileSync(runtimePath("policy/router.rego")))).toBe(true);
    expect(Buffer.from(policy.data).equals(readFileSync(runtimePath("policy/data.json")))).toBe(true);
  });

  it("the built API serves swagger.yaml from where runtimeFiles says", async () => {
    const prefix = uniquePrefix("dockerfile");
    const api = await startProcess("node", [join(root, "apps/api/dist/main.js")], {
      env: {
        BESKARYUM_ADDR: "127.0.0.1:0",
        BESKARYUM_DATADIR: makeTempDir("dockerfile"),
        BESKARYUM_REDIS_URL: redisUrl(),
        BESKARYUM_REDIS_PREFIX: prefix,
        BESKARYUM_ADMIN_TOKEN: randomBytes(16).toString("hex"),
      },
      readyLine: /"msg":"api listening"/,
      timeoutMs: 20_000,
    });
    try {
      const line = api
        .output()
        .split("\n")
        .find((l) => l.includes('"msg":"api listening"'))!;
      const { address, version } = JSON.parse(line) as { address: string; version: string };
      expect(version).toBe(JSON.parse(readFileSync(runtimePath("apps/api/package.json"), "utf8")).version);
      const res = await fetch(`${address}/artifacts/yum/api/v1/doc/swagger.yaml`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(readFileSync(runtimePath("apps/api/openapi/swagger.yaml"), "utf8"));
    } finally {
      await api.stop();
      await deletePrefix(prefix);
      await cleanupTempDirs();
    }
  });

  it("builds the dashboard's modules in the image (they are compiled, not copied)", () => {
    // apps/api/ui/dist is ignored by .dockerignore: the build stage must have the sources and the
    // build must include them, and the final image takes the build stage's /app.
    for (const file of ["apps/api/ui/tsconfig.json", "apps/api/ui/src/main.ts", "tsconfig.base.json"]) {
      expect(provenance(stages, "build", posix.join("/app", file), ignored), file).toMatchObject({
        ok: true,
      });
    }
    const build = JSON.parse(readFileSync(join(root, "tsconfig.build.json"), "utf8")) as {
      references: { path: string }[];
    };
    expect(build.references).toContainEqual({ path: "apps/api/ui" });
    expect(readFileSync(join(root, "Dockerfile"), "utf8")).toMatch(/RUN npm ci && npm run build/);
    expect(provenance(stages, final.name, "/app/apps/api/ui/index.html", ignored)).toMatchObject({
      ok: true,
    });
  });

  it("is read the way Docker reads it (the checker finds what is not there)", () => {
    const without = parseDockerfile(
      "FROM node:20 AS build\nWORKDIR /app\nCOPY package.json ./\nCOPY apps apps\nFROM node:20\nWORKDIR /app\nCOPY --from=build /app /app\n",
    );
    const at = (file: string) => provenance(without, without.at(-1)!.name, posix.join("/app", file), ignored);
    expect(at("apps/api/openapi/swagger.yaml")).toMatchObject({ ok: true });
    expect(at("apps/api/package.json")).toMatchObject({ ok: true });
    expect(at("policy/router.rego")).toEqual({
      ok: false,
      why: "no COPY in stage build puts /app/policy/router.rego in the image",
    });
    expect(ignored("apps/api/dist/main.js")).toBe(true);
    expect(ignored("node_modules/x")).toBe(true);
    expect(ignored("apps/api/openapi/swagger.yaml")).toBe(false);
  });

  it("docker-compose.yml runs the worker with the Node flags npm start gives it", () => {
    const flags = JSON.parse(readFileSync(join(root, "apps/worker/node-flags.json"), "utf8")) as string[];
    const compose = readFileSync(join(root, "docker-compose.yml"), "utf8");
    const command = /^ {2}worker:\n(?:.*\n)*? {4}command: (\[.*\])$/m.exec(compose);
    expect(command, "the worker service's command").not.toBeNull();
    expect(JSON.parse(command![1]!)).toEqual(["node", ...flags, "apps/worker/dist/main.js"]);
  });
});
