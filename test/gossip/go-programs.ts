import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { type ProcessHandle, startProcess } from "../support/processes.js";
import { run, runOk } from "../support/run.js";

/**
 * The Go programs of the gossip tests, built at test time against Debian's
 * golang-github-hashicorp-memberlist-dev in GOPATH mode (TOOLS.md §6).
 */

const here = path.dirname(fileURLToPath(import.meta.url));
/** Shared between runs so a warm build takes well under a second. */
const GOCACHE = path.join(os.tmpdir(), "beskar-yum-gocache");

export type GoProgram = "beskar-peer" | "go-codec";

/** Builds the package in `test/gossip/<program>/` into `outDir`; returns the binary path. */
export async function buildGoProgram(program: GoProgram, outDir: string): Promise<string> {
  const out = path.join(outDir, program);
  await runOk("go", ["build", "-o", out, "."], {
    cwd: path.join(here, program),
    env: { GO111MODULE: "off", GOPATH: "/usr/share/gocode", GOCACHE, GOFLAGS: "" },
    timeoutMs: 120_000,
  });
  return out;
}

/** Runs go-codec in `mode`, one answer line per input line. */
export async function goCodec(binary: string, mode: string, lines: readonly string[]): Promise<string[]> {
  const result = await run(binary, [mode], { input: `${lines.join("\n")}\n`, timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`go-codec ${mode} exited ${result.code}: ${result.stderr}`);
  const out = result.stdout.split("\n");
  out.pop();
  if (out.length !== lines.length)
    throw new Error(`go-codec ${mode}: ${out.length} answers for ${lines.length} lines`);
  return out;
}

/** A JSON line printed by beskar-peer. */
export interface GoEvent {
  event: string;
  name?: string;
  addr?: string;
  port?: number;
  meta?: {
    InstanceType: number;
    Ready: boolean;
    ServicePort: number;
    RegistryPort: number;
    Hostname: string;
  };
  metaError?: string;
  state?: string;
  join?: boolean;
  joined?: number;
  error?: string;
  members?: GoEvent[];
  [key: string]: unknown;
}

/** What beskar-peer's control API answers: the plugin's status and body (base64), or why it failed. */
export interface ControlReply {
  status?: number;
  body?: string | null;
  error?: string;
  /** The plugin node the request went to (the one Beskar's rendezvous hash picked, when routed). */
  node?: string;
}

/** A running beskar-peer: Beskar's gossip side, played by Go memberlist. */
export class GoPeer {
  private constructor(
    readonly process: ProcessHandle,
    /** Its node name (a random UUID, as Beskar's). */
    readonly name: string,
    readonly port: number,
    /** With `-ca -control 127.0.0.1:0`: the control API's port. */
    readonly controlPort: number | undefined,
    /** `BeskarMeta.RegistryPort` (with `-registry`: the registry stand-in's port). */
    readonly registryPort: number | undefined,
  ) {}

  static async start(binary: string, args: readonly string[] = []): Promise<GoPeer> {
    const proc = await startProcess(binary, ["-bind", "127.0.0.1", "-log", ...args], {
      readyLine: /"event":"started"/,
      timeoutMs: 15_000,
    });
    const started = parseEvents(proc.output()).find((e) => e.event === "started");
    if (!started?.name || !started.port)
      throw new Error(`beskar-peer did not report its name and port:\n${proc.output()}`);
    const num = (v: unknown) => (typeof v === "number" ? v : undefined);
    return new GoPeer(proc, started.name, started.port, num(started.controlPort), num(started.registryPort));
  }

  /** Calls the control API (`-ca -control`): `/event` or `/request`; returns its JSON answer. */
  async control(path: "/event" | "/request", body: Record<string, unknown>): Promise<ControlReply> {
    if (!this.controlPort) throw new Error("beskar-peer was started without -control");
    const res = await fetch(`http://127.0.0.1:${this.controlPort}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    return (await res.json()) as ControlReply;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  events(): GoEvent[] {
    return parseEvents(this.process.output());
  }

  /** memberlist's own log lines (stderr, `-log`). */
  logLines(): string[] {
    return this.process
      .output()
      .split("\n")
      .filter((line) => line.startsWith("memberlist "));
  }

  /** Waits until an event matches `predicate`; rejects with everything printed so far on timeout. */
  async waitForEvent(predicate: (e: GoEvent) => boolean, timeoutMs = 10_000): Promise<GoEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events().find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `beskar-peer: no matching event within ${timeoutMs} ms; output:\n${this.process.output()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  stop(): Promise<unknown> {
    return this.process.stop("SIGTERM", 10_000);
  }
}

function parseEvents(output: string): GoEvent[] {
  const events: GoEvent[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      events.push(JSON.parse(line) as GoEvent);
    } catch {
      // A line still being written.
    }
  }
  return events;
}
