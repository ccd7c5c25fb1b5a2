import type { ParseArgsConfig } from "node:util";
import type { AdminClient } from "./admin-client.js";

/** What a command is given: the client, its arguments, and where to write. */
export interface CommandContext {
  client: AdminClient;
  /** Positional arguments after the command words. */
  args: string[];
  flags: Record<string, string | boolean | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  /** A transient status line (drawn on a terminal only, cleared at the end). */
  progress: (line: string) => void;
}

/** What a command that runs without a located server is given (`login`, `logout`). */
export interface LocalContext {
  args: string[];
  flags: Record<string, string | boolean | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  /** The CLI's config file (README "CLI"). */
  configFile: string;
  /** A token given as `--token` or in the environment, if any. */
  givenToken: string | undefined;
  /** Standard input, for a token piped in. */
  stdin: NodeJS.ReadStream;
  client: (url: string, token: string) => AdminClient;
}

interface CommandBase {
  /** The synopsis after `beskar-yum `, e.g. `push <repo> <file.rpm>... [--no-wait]`. */
  synopsis: string;
  /** One line for the global usage. */
  summary: string;
  /** The rest of `<command> --help`: arguments, options, what it prints. */
  help?: string;
  /** The command's own options (the global ones are added by main). */
  options?: NonNullable<ParseArgsConfig["options"]>;
  /** Minimum number of positional arguments. */
  minArgs?: number;
}

export interface ServerCommand extends CommandBase {
  /** Its exit code; undefined is 0. */
  run: (ctx: CommandContext) => Promise<number | undefined>;
}

/** A command about the CLI's own settings: no server is located, no token needed. */
export interface LocalCommand extends CommandBase {
  runLocal: (ctx: LocalContext) => Promise<number | undefined>;
}

export type Command = ServerCommand | LocalCommand;

/** A command line that does not say what to do: exit code 2, with the usage to print. */
export class UsageError extends Error {}

/** A failure already explained on stderr, or one that ends with a message and exit code 1. */
export class CommandFailed extends Error {}

/** `--json` on every read command: one JSON document on stdout. */
export const jsonOption = { json: { type: "boolean" } } as const;

export function printJson(out: (line: string) => void, value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

export function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
