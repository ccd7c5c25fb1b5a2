import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { UsageError } from "./command.js";

/**
 * The CLI's own config file (`beskar-yum login` writes it): the server to talk to and its token,
 * for a server that is not the one `npm start` runs beside the CLI.
 */
export interface CliConfig {
  server?: string;
  /** The admin token itself (the file is then kept 0600), or... */
  token?: string;
  /** ...a file that holds it (absolute). */
  token_file?: string;
}

/** Where the config file is, and whether the user named it (a named file that is missing is an error). */
export interface CliConfigLocation {
  file: string;
  explicit: boolean;
}

/**
 * `--config FILE`, else `$BESKARYUM_CLI_CONFIG`, else `$XDG_CONFIG_HOME/beskar-yum/cli.json`, else
 * `~/.config/beskar-yum/cli.json`.
 */
export function cliConfigLocation(options: {
  flag: string | undefined;
  env: { BESKARYUM_CLI_CONFIG?: string | undefined; XDG_CONFIG_HOME?: string | undefined };
  home: string;
  cwd: string;
}): CliConfigLocation {
  const named = options.flag?.trim() || options.env.BESKARYUM_CLI_CONFIG?.trim();
  if (named) return { file: resolve(options.cwd, named), explicit: true };
  // XDG: a relative XDG_CONFIG_HOME is invalid and ignored.
  const xdg = options.env.XDG_CONFIG_HOME?.trim();
  const base = xdg && isAbsolute(xdg) ? xdg : join(options.home, ".config");
  return { file: join(base, "beskar-yum", "cli.json"), explicit: false };
}

const keys = new Set(["server", "token", "token_file"]);

/** The config file's content: {} when there is none (unless it was named); a bad one is a usage error. */
export function readCliConfig(location: CliConfigLocation): CliConfig {
  const { file } = location;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !location.explicit) return {};
    throw new UsageError(`cannot read the config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new UsageError(`${file} must hold a JSON object ({"server": ..., "token": ...})`);
  const config: CliConfig = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!keys.has(key)) throw new UsageError(`${file}: unknown key ${key} (known: ${[...keys].join(", ")})`);
    if (typeof value !== "string" || value.trim() === "")
      throw new UsageError(`${file}: ${key} must be a non-empty string`);
    config[key as keyof CliConfig] = value.trim();
  }
  if (config.token !== undefined) {
    // As ssh with its keys: a token others can read is refused rather than used.
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077)
      throw new UsageError(
        `${file} holds a token and others can read it (mode ${mode.toString(8).padStart(4, "0")}): chmod 600 ${file}`,
      );
  }
  if (config.token_file !== undefined) config.token_file = resolve(dirname(file), config.token_file);
  return config;
}

/** Writes the config file: its folder 0700, the file 0600, replaced atomically. */
export function writeCliConfig(file: string, config: CliConfig): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // A umask does not widen 0600, but an existing temp file would keep its mode.
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

/** Removes the config file; false when there was none. */
export function removeCliConfig(file: string): boolean {
  try {
    unlinkSync(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}
