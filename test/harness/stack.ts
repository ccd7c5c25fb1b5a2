import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { request } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ProcessHandle, startProcess } from "../support/processes.js";
import { deletePrefix, redisUrl, uniquePrefix } from "../support/redis.js";
import { makeTempDir } from "../support/tmp.js";
import { indexEnv, storageEnv } from "./index-driver.js";

/** The repository root: the nearest ancestor with apps/api (this file also runs compiled under bench/dist). */
function findRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "apps", "api", "package.json"))) return dir;
  }
  throw new Error(`no repository root above ${from}`);
}

const root = findRoot(dirname(fileURLToPath(import.meta.url)));

export interface StackOptions {
  name: string;
  workers?: number;
  env?: Record<string, string>;
  /** Start on this data dir (e.g. one a previous stack or build left behind) instead of a new one. */
  dataDir?: string;
  /**
   * Let the processes generate the signing key into the data dir, as a first start does. Otherwise
   * they read `test/fixtures/signing/test-signing-key.asc`: an RSA key takes seconds to generate on
   * a loaded machine, every stack would pay it.
   */
  generatedSigningKey?: boolean;
  /**
   * Share this Redis key prefix (several stacks acting as nodes of one deployment); the caller owns
   * it and deletes it. Default: a prefix of the stack's own, deleted by `stop`.
   */
  prefix?: string;
}

/** A throwaway signing key for test stacks (made with gpg, no passphrase; never used anywhere else). */
export const testSigningKeyFile = join(root, "test/fixtures/signing/test-signing-key.asc");

export interface Stack {
  url: string;
  token: string;
  prefix: string;
  dataDir: string;
  api: ProcessHandle;
  workers: ProcessHandle[];
  /** An admin API call; `body` goes as JSON (Beskar's clients send a body even with GET). */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  /** PUT of a local RPM file to `<repo>/repo/Packages/<name>`. */
  upload(
    repository: string,
    file: string,
    options?: { wait?: boolean; name?: string },
  ): Promise<{ status: number; json: any }>;
  startWorker(): Promise<ProcessHandle>;
  repoUrl(repository: string): string;
  stop(): Promise<void>;
}

/**
 * Starts the real API process and worker processes (the built `dist/` of apps/api and
 * apps/worker) on an OS-chosen port, a temp data dir and a Redis key prefix of their own.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const dataDir = options.dataDir ?? makeTempDir(`stack-${options.name}`);
  const prefix = options.prefix ?? uniquePrefix(options.name);
  const token = randomBytes(16).toString("hex");
  // A test that chooses its index driver keeps it; the others run on BESKARYUM_TEST_INDEX_DRIVER's.
  const index = options.env?.BESKARYUM_INDEX_DRIVER === undefined ? await indexEnv(dataDir) : {};
  // Likewise the storage, unless the test configures a registry or a storage driver itself.
  const storage =
    options.env?.BESKARYUM_STORAGE_DRIVER === undefined && options.env?.BESKARYUM_REGISTRY_URL === undefined
      ? await storageEnv(dataDir)
      : {};
  const env = {
    ...process.env,
    BESKARYUM_ADDR: "127.0.0.1:0",
    BESKARYUM_DATADIR: dataDir,
    BESKARYUM_REDIS_URL: redisUrl(),
    BESKARYUM_REDIS_PREFIX: prefix,
    BESKARYUM_ADMIN_TOKEN: token,
    BESKARYUM_PUBLISH_DEBOUNCE_MS: "50",
    BESKARYUM_PUBLISH_MAX_DELAY_MS: "500",
    BESKARYUM_UPLOAD_WAIT_TIMEOUT_MS: "60000",
    ...(options.generatedSigningKey ? {} : { BESKARYUM_SIGNING_KEY_FILE: testSigningKeyFile }),
    ...index,
    ...storage,
    ...options.env,
  };
  const api = await startProcess("node", [join(root, "apps/api/dist/main.js")], {
    env,
    cwd: dataDir,
    readyLine: /"msg":"api listening"/,
    timeoutMs: 20_000,
  });
  const listening = api
    .output()
    .split("\n")
    .find((line) => line.includes('"msg":"api listening"'))!;
  const url = (JSON.parse(listening) as { address: string }).address;

  const workers: ProcessHandle[] = [];
  const startWorker = async () => {
    // With the flags `npm start` gives it (apps/worker/node-flags.json).
    const flags = JSON.parse(readFileSync(join(root, "apps/worker/node-flags.json"), "utf8")) as string[];
    const worker = await startProcess("node", [...flags, join(root, "apps/worker/dist/main.js")], {
      env,
      cwd: dataDir,
      readyLine: /"msg":"worker ready"/,
      timeoutMs: 20_000,
    });
    workers.push(worker);
    return worker;
  };
  try {
    for (let i = 0; i < (options.workers ?? 1); i++) await startWorker();
  } catch (err) {
    // A worker that did not come up (a loaded machine) must not leave the API running, orphaned.
    await Promise.all([api, ...workers].map((p) => p.stop()));
    throw err;
  }

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await requestWithBody(method, `${url}/artifacts/yum/api/v1${path}`, {
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: response.text ? JSON.parse(response.text) : undefined };
  };

  return {
    url,
    token,
    prefix,
    dataDir,
    api,
    workers,
    call,
    startWorker,
    repoUrl: (repository) => `${url}/${repository}/repo/`,
    upload: async (repository, file, uploadOptions = {}) => {
      const name = uploadOptions.name ?? file.split("/").pop()!;
      const response = await fetch(
        `${url}/${repository}/repo/Packages/${name}${uploadOptions.wait ? "?wait=true" : ""}`,
        {
          method: "PUT",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/x-rpm" },
          body: await readFile(file),
        },
      );
      const text = await response.text();
      return { status: response.status, json: text ? JSON.parse(text) : undefined };
    },
    stop: async () => {
      await Promise.all([api, ...workers].map((p) => p.stop()));
      if (options.prefix === undefined) await deletePrefix(prefix);
    },
  };
}

/** An HTTP request that may carry a body whatever the method: fetch refuses GET bodies, Beskar's clients send them. */
function requestWithBody(
  method: string,
  url: string,
  options: { headers: Record<string, string>; body?: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    // Node sends a GET body with neither Content-Length nor chunked framing unless told: set the length, as Go does.
    const headers = { ...options.headers, "content-length": String(Buffer.byteLength(options.body ?? "")) };
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}
