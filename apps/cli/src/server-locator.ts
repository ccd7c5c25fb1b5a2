import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** The variables the CLI reads, read once in main. */
export interface CliEnv {
  BESKARYUM_URL?: string | undefined;
  BESKARYUM_ADDR?: string | undefined;
  BESKARYUM_TOKEN?: string | undefined;
  BESKARYUM_ADMIN_TOKEN?: string | undefined;
  BESKARYUM_DATADIR?: string | undefined;
}

export interface ServerLocation {
  /** Base URL without a trailing slash. */
  url: string;
  /** Undefined when none was given and `tokenFile` does not exist. */
  token: string | undefined;
  /** The admin-token file looked at when no token was given, and why it gave none (for the error message). */
  tokenFile: string;
  tokenFileProblem?: string;
}

export const defaultServerUrl = "http://127.0.0.1:5200";

const HOST_PORT = /^(?:\[([0-9A-Za-z:.%]*)\]|([^:[\]\s]*)):(\d{1,5})$/;

/**
 * The URL to reach a server listening on `addr` (BESKARYUM_ADDR's host:port, as the server parses
 * it): a wildcard or empty host is reached on the loopback address, an IPv6 one in brackets.
 */
export function urlOfListenAddress(addr: string): string | undefined {
  const m = HOST_PORT.exec(addr.trim());
  if (!m) return undefined;
  const host = (m[1] ?? m[2]) || "0.0.0.0";
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${m[3]}`;
}

/**
 * Where the server is and which token to show it, as `npm start` configured it: --server, then
 * BESKARYUM_URL, then BESKARYUM_ADDR, then the default; --token, BESKARYUM_TOKEN,
 * BESKARYUM_ADMIN_TOKEN, then `<datadir>/admin-token` (BESKARYUM_DATADIR, else ./data, as the server).
 */
export function locateServer(options: {
  server?: string | undefined;
  token?: string | undefined;
  env: CliEnv;
  cwd: string;
}): ServerLocation {
  const { env } = options;
  const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v.trim());
  const fromAddr = nonEmpty(env.BESKARYUM_ADDR);
  const url =
    nonEmpty(options.server) ??
    nonEmpty(env.BESKARYUM_URL) ??
    (fromAddr ? urlOfListenAddress(fromAddr) : undefined) ??
    defaultServerUrl;
  const tokenFile = resolve(options.cwd, nonEmpty(env.BESKARYUM_DATADIR) ?? "data", "admin-token");
  const given =
    nonEmpty(options.token) ?? nonEmpty(env.BESKARYUM_TOKEN) ?? nonEmpty(env.BESKARYUM_ADMIN_TOKEN);
  const fromFile = given === undefined ? readTokenFile(tokenFile) : {};
  // "host:port" alone is taken as http://host:port.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`;
  return {
    url: withScheme.replace(/\/+$/, ""),
    token: given ?? fromFile.token,
    tokenFile,
    ...(fromFile.problem ? { tokenFileProblem: fromFile.problem } : {}),
  };
}

/** The token in the file, or why there is none (absent, unreadable, empty). */
function readTokenFile(file: string): { token?: string; problem?: string } {
  try {
    const token = readFileSync(file, "utf8").trim();
    return token ? { token } : { problem: "empty" };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: code === "ENOENT" ? "no such file" : (code ?? (err as Error).message) };
  }
}
