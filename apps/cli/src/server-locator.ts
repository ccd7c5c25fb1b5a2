import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { CliConfig } from "./cli-config.js";

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

const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v.trim());

/** "host:port" alone is taken as http://host:port; no trailing slash. */
function normalizedUrl(url: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`;
  return withScheme.replace(/\/+$/, "");
}

/**
 * Where the server is and which token to show it: flags, then the environment, then the CLI's config
 * file (`config`, what `beskar-yum login` saved), then what `npm start` does by default.
 * Server: --server, BESKARYUM_URL, BESKARYUM_ADDR, the config's `server`, http://127.0.0.1:5200.
 * Token: --token, BESKARYUM_TOKEN, BESKARYUM_ADMIN_TOKEN, the config's `token` or `token_file`, then
 * `<datadir>/admin-token` (BESKARYUM_DATADIR, else ./data, as the server). A token is only sent where
 * it belongs: the config's to the config's server (or when it names none), the local datadir's to any
 * server but the config's.
 */
export function locateServer(options: {
  server?: string | undefined;
  token?: string | undefined;
  env: CliEnv;
  cwd: string;
  config?: CliConfig;
}): ServerLocation {
  const { env } = options;
  const config = options.config ?? {};
  const fromAddr = nonEmpty(env.BESKARYUM_ADDR);
  const fromFlagOrEnv =
    nonEmpty(options.server) ??
    nonEmpty(env.BESKARYUM_URL) ??
    (fromAddr ? urlOfListenAddress(fromAddr) : undefined);
  const url = normalizedUrl(fromFlagOrEnv ?? config.server ?? defaultServerUrl);
  const configServes = config.server === undefined || normalizedUrl(config.server) === url;
  const given =
    nonEmpty(options.token) ??
    nonEmpty(env.BESKARYUM_TOKEN) ??
    nonEmpty(env.BESKARYUM_ADMIN_TOKEN) ??
    (configServes ? config.token : undefined);
  const configTokenFile = configServes ? config.token_file : undefined;
  const localServer = fromFlagOrEnv !== undefined || config.server === undefined;
  const tokenFile =
    configTokenFile ?? resolve(options.cwd, nonEmpty(env.BESKARYUM_DATADIR) ?? "data", "admin-token");
  const fromFile =
    given !== undefined
      ? {}
      : configTokenFile !== undefined || localServer
        ? readTokenFile(tokenFile)
        : { problem: `not read: the server comes from the config file, which gives no token for it` };
  return {
    url,
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
