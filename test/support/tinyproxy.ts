import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startProcess } from "./processes.js";
import { makeTempDir } from "./tmp.js";
import { waitForPort } from "./wait-for-port.js";

export interface TinyproxyOptions {
  /** Require `Proxy-Authorization: Basic` with these credentials (tinyproxy's `BasicAuth`: no whitespace in them). */
  basicAuth?: { user: string; pass: string };
  /** Ports CONNECT may reach (`ConnectPort`). Default: any port (tests' servers use OS-chosen ports). */
  connectPorts?: number[];
}

export interface Tinyproxy {
  /** `http://127.0.0.1:<port>` (with `user:pass@` when `basicAuth` is set). */
  url: string;
  port: number;
  stop(): Promise<void>;
  /** tinyproxy's log so far (`LogLevel Info`: one `Request ...` line per proxied request, `CONNECT` ones for tunnels). */
  log(): string;
}

/**
 * Debian's tinyproxy (`/usr/bin/tinyproxy`) in the foreground (`-d -c <conf>`) on a loopback port of
 * its own, taking clients from 127.0.0.1 only, logging to a file in a temp dir.
 */
export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  const dir = makeTempDir("tinyproxy-");
  const port = await freePort();
  const logFile = join(dir, "tinyproxy.log");
  const conf = [
    `Port ${port}`,
    "Listen 127.0.0.1",
    "Timeout 60",
    `LogFile "${logFile}"`,
    "LogLevel Info",
    `PidFile "${join(dir, "tinyproxy.pid")}"`,
    "MaxClients 200",
    "Allow 127.0.0.1",
    // Without ConnectPort lines tinyproxy lets CONNECT reach any port.
    ...(options.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
    ...(options.basicAuth ? [`BasicAuth ${options.basicAuth.user} ${options.basicAuth.pass}`] : []),
    'ViaProxyName "tinyproxy"',
    "",
  ].join("\n");
  const file = join(dir, "tinyproxy.conf");
  writeFileSync(file, conf);
  const child = await startProcess("/usr/bin/tinyproxy", ["-d", "-c", file]);
  await waitForPort(port, child);
  const auth = options.basicAuth
    ? `${encodeURIComponent(options.basicAuth.user)}:${encodeURIComponent(options.basicAuth.pass)}@`
    : "";
  return {
    url: `http://${auth}127.0.0.1:${port}`,
    port,
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    async stop() {
      await child.stop("SIGTERM", 5_000);
    },
  };
}
