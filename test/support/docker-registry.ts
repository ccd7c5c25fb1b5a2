import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, type ProcessHandle, startProcess } from "./processes.js";
import { makeTempDir } from "./tmp.js";

/** Debian's `docker-registry` (distribution 2.8) on a loopback port of its own, storing in a temp dir. */
export interface DockerRegistry {
  /** `http://127.0.0.1:<port>`, known before the first start (a stack can be configured with it). */
  readonly url: string;
  /**
   * Starts it (again, after `stop`), with `extraConfig` YAML lines appended to the base config
   * (`auth:`, `notifications:` ...); a restart without them keeps the last ones.
   */
  start(extraConfig?: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function dockerRegistry(): Promise<DockerRegistry> {
  const port = await freePort();
  const dir = makeTempDir("docker-registry-");
  const config = join(dir, "config.yml");
  let process: ProcessHandle | undefined;
  let extra: string[] = [];
  return {
    url: `http://127.0.0.1:${port}`,
    async start(extraConfig) {
      if (extraConfig) extra = extraConfig;
      const base = [
        "version: 0.1",
        "log: { level: info }",
        "storage:",
        `  filesystem: { rootdirectory: ${join(dir, "data")} }`,
        "  delete: { enabled: true }",
        "  cache: { blobdescriptor: inmemory }",
        "http:",
        `  addr: 127.0.0.1:${port}`,
      ];
      writeFileSync(config, [...base, ...extra, ""].join("\n"));
      process = await startProcess("docker-registry", ["serve", config], {
        readyLine: /listening on/,
        timeoutMs: 20_000,
      });
    },
    async stop() {
      await process?.stop();
      process = undefined;
    },
  };
}

/**
 * The registry's `notifications:` config that sends its events to a stack's registry endpoint
 * (`<apiUrl>/artifacts/yum/registry/events`), as an operator would configure it.
 */
export function notifyStack(apiUrl: string, token: string): string[] {
  return [
    "notifications:",
    "  events: { includereferences: true }",
    "  endpoints:",
    "    - name: beskar-yum",
    `      url: ${apiUrl}/artifacts/yum/registry/events`,
    `      headers: { Authorization: [Bearer ${token}] }`,
    "      timeout: 2s",
    "      threshold: 3",
    "      backoff: 1s",
    "      ignore: { mediatypes: [application/octet-stream], actions: [pull] }",
  ];
}
