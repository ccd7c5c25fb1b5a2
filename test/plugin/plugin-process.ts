import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { type ProcessHandle, startProcess } from "../support/processes.js";
import { runOk } from "../support/run.js";

/**
 * The test plugin (fixture/test-plugin.ts) as a child process: compiled with tsc against the built SDK
 * (`npm run build` first, as `npm test` does), then run with node.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const fixtureDir = path.join(here, "fixture");

/** Compiles the fixture into fixture/dist; returns the entry point. */
export async function buildTestPlugin(): Promise<string> {
  const sdk = path.join(root, "packages/plugin-sdk/dist/index.js");
  if (!fs.existsSync(sdk)) throw new Error(`${sdk} is missing: run \`npm run build\` first`);
  await runOk(path.join(root, "node_modules/.bin/tsc"), ["-p", fixtureDir], { timeoutMs: 60_000 });
  return path.join(fixtureDir, "dist/test-plugin.js");
}

export interface TestPluginConfig {
  /** HTTP listen address. */
  addr: string;
  /** BeskarMeta.Hostname and server certificate DNS SAN. */
  hostname: string;
  gossip: { addr: string; key: string; peers: string[] };
}

/** A JSON line the test plugin printed. */
export interface PluginLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export class TestPlugin {
  private constructor(readonly process: ProcessHandle) {}

  /** Starts the plugin; resolves once it printed `readyLine` (default: "plugin ready"). */
  static async start(
    entry: string,
    config: TestPluginConfig,
    readyLine = /"msg":"plugin ready"/,
  ): Promise<TestPlugin> {
    const proc = await startProcess(process.execPath, [entry, JSON.stringify(config)], {
      readyLine,
      timeoutMs: 20_000,
    });
    return new TestPlugin(proc);
  }

  lines(): PluginLine[] {
    const lines: PluginLine[] = [];
    for (const text of this.process.output().split("\n")) {
      if (!text.startsWith("{")) continue;
      try {
        lines.push(JSON.parse(text) as PluginLine);
      } catch {
        // A line still being written.
      }
    }
    return lines;
  }

  /** Waits until `count` lines match `predicate`; rejects with the output on timeout. */
  async waitForLines(
    predicate: (l: PluginLine) => boolean,
    count = 1,
    timeoutMs = 10_000,
  ): Promise<PluginLine[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines().filter(predicate);
      if (found.length >= count) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `test plugin: ${found.length}/${count} matching lines; output:\n${this.process.output()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
