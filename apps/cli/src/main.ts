import { homedir } from "node:os";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { AdminClient, ServerError, ServerUnreachable } from "./admin-client.js";
import { cliConfigLocation, readCliConfig } from "./cli-config.js";
import { type Command, CommandFailed, optionalString, UsageError } from "./command.js";
import { commandGroups, commands } from "./commands.js";
import { ProgressLine } from "./progress-line.js";
import { type CliEnv, locateServer } from "./server-locator.js";
import { commandUsage, globalUsage } from "./usage.js";
import { cliVersion } from "./version.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

const globalOptions: Options = {
  server: { type: "string" },
  token: { type: "string" },
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
};

/** Every option of every command: enough to tell option values from the command words. */
const allOptions: Options = Object.assign(
  {},
  globalOptions,
  ...Object.values(commands).map((c) => c.options),
);

interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

/** What main reads of the process: the variables, the working and home directories. */
interface Process {
  env: CliEnv & { BESKARYUM_CLI_CONFIG?: string | undefined; XDG_CONFIG_HOME?: string | undefined };
  cwd: string;
  home: string;
}

/** The command named by the leading words, or a usage error naming what is unknown. */
function findCommand(words: string[]): { name: string; command: Command } {
  const two = words.slice(0, 2).join(" ");
  const name = commands[two] ? two : words[0]!;
  const command = commands[name];
  if (command) return { name, command };
  if (commandGroups.has(words[0]!)) {
    const known = Object.keys(commands)
      .filter((w) => w.startsWith(`${words[0]} `))
      .map((w) => w.split(" ")[1]);
    throw new UsageError(
      words[1] === undefined
        ? `${words[0]}: expected one of: ${known.join(", ")}`
        : `unknown command: ${two} (${words[0]} takes: ${known.join(", ")})`,
    );
  }
  throw new UsageError(`unknown command: ${words[0]} (see beskar-yum --help)`);
}

/** The command's options and positionals; a bad option is a usage error showing its synopsis. */
function parseCommandLine(argv: string[], command: Command) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { ...globalOptions, ...command.options },
    });
  } catch (err) {
    const { code, message } = err as { code?: string; message: string };
    // Node's own message for it goes on about positionals starting with "-".
    const unknown = code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && /'([^']+)'/.exec(message)?.[1];
    throw new UsageError(
      `${unknown ? `unknown option ${unknown}` : message}\nusage: beskar-yum ${command.synopsis}`,
    );
  }
}

async function main(argv: string[], { env, cwd, home }: Process, io: Io): Promise<number> {
  if (argv[0] === "createrepo") {
    const { runCreaterepo } = await import("./createrepo/run-createrepo.js");
    return runCreaterepo(argv.slice(1));
  }
  const print = (stream: NodeJS.WriteStream, text: string) => stream.write(`${text}\n`);
  const loose = parseArgs({ args: argv, allowPositionals: true, strict: false, options: allOptions });
  const words = loose.positionals[0] === "help" ? loose.positionals.slice(1) : loose.positionals;
  const helpWanted = loose.values.help === true || loose.positionals[0] === "help";
  if (loose.values.version === true) {
    print(io.stdout, cliVersion());
    return 0;
  }
  if (words.length === 0) {
    print(helpWanted ? io.stdout : io.stderr, globalUsage(commands));
    return helpWanted ? 0 : 2;
  }
  if (words[0] === "createrepo") {
    // `help createrepo`, or options before the word: its own parser has the usage and the options.
    const { runCreaterepo } = await import("./createrepo/run-createrepo.js");
    const at = argv.indexOf("createrepo");
    return runCreaterepo(helpWanted ? ["--help"] : [...argv.slice(0, at), ...argv.slice(at + 1)]);
  }
  const { name, command } = findCommand(words);
  if (helpWanted) {
    print(io.stdout, commandUsage(command));
    return 0;
  }
  const { values, positionals } = parseCommandLine(argv, command);
  const args = positionals.slice(name.split(" ").length);
  if (args.length < (command.minArgs ?? 0)) throw new UsageError(`usage: beskar-yum ${command.synopsis}`);
  const flags = values as Record<string, string | boolean | undefined>;
  const configLocation = cliConfigLocation({ flag: optionalString(values.config), env, home, cwd });
  if ("runLocal" in command) {
    return (
      (await command.runLocal({
        args,
        flags,
        out: (line) => print(io.stdout, line),
        err: (line) => print(io.stderr, line),
        configFile: configLocation.file,
        givenToken: optionalString(values.token) || env.BESKARYUM_TOKEN?.trim() || undefined,
        stdin: io.stdin,
        client: (url, token) => new AdminClient({ url, token }),
      })) ?? 0
    );
  }

  const server = locateServer({
    server: optionalString(values.server),
    token: optionalString(values.token),
    env,
    cwd,
    config: readCliConfig(configLocation),
  });
  if (!server.token) {
    throw new UsageError(
      `no admin token: pass --token, set BESKARYUM_TOKEN, run \`beskar-yum login ${server.url}\`, or run where the server's datadir is (${server.tokenFile}: ${server.tokenFileProblem})`,
    );
  }
  const progress = new ProgressLine(io.stderr);
  try {
    return (
      (await command.run({
        client: new AdminClient({ url: server.url, token: server.token }),
        args,
        flags,
        out: (line) => {
          progress.clear();
          print(io.stdout, line);
        },
        err: (line) => {
          progress.clear();
          print(io.stderr, line);
        },
        progress: (line) => progress.draw(line),
      })) ?? 0
    );
  } finally {
    progress.clear();
  }
}

/** The message and exit code of a failure: 2 for a command line to fix, 1 for everything else. */
function describeFailure(err: unknown): { message: string; code: number } {
  if (err instanceof UsageError) return { message: `beskar-yum: ${err.message}`, code: 2 };
  if (err instanceof ServerError)
    return { message: `beskar-yum: ${err.code} (HTTP ${err.status}): ${err.message}`, code: 1 };
  if (err instanceof ServerUnreachable || err instanceof CommandFailed)
    return { message: `beskar-yum: ${err.message}`, code: 1 };
  return { message: `beskar-yum: ${(err as Error).message ?? String(err)}`, code: 1 };
}

const {
  BESKARYUM_URL,
  BESKARYUM_ADDR,
  BESKARYUM_TOKEN,
  BESKARYUM_ADMIN_TOKEN,
  BESKARYUM_DATADIR,
  BESKARYUM_CLI_CONFIG,
  XDG_CONFIG_HOME,
} = process.env;
main(
  process.argv.slice(2),
  {
    env: {
      BESKARYUM_URL,
      BESKARYUM_ADDR,
      BESKARYUM_TOKEN,
      BESKARYUM_ADMIN_TOKEN,
      BESKARYUM_DATADIR,
      BESKARYUM_CLI_CONFIG,
      XDG_CONFIG_HOME,
    },
    cwd: process.cwd(),
    home: homedir(),
  },
  { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
).then(
  (code) => process.exit(code),
  (err) => {
    const { message, code } = describeFailure(err);
    process.stderr.write(`${message}\n`);
    process.exit(code);
  },
);
