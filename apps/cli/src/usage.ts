import type { Command } from "./command.js";

const repoNote = `<repo> is "name" or "artifacts/yum/name".`;

const serverNote = `The server: --server URL, else $BESKARYUM_URL, else http://$BESKARYUM_ADDR (0.0.0.0 as 127.0.0.1),
else the config file's (\`beskar-yum login\`), else http://127.0.0.1:5200. The admin token: --token, else
$BESKARYUM_TOKEN or $BESKARYUM_ADMIN_TOKEN, else the config file's, else the file <datadir>/admin-token
($BESKARYUM_DATADIR, else ./data), as \`npm start\` writes it. The config file: --config FILE, else
$BESKARYUM_CLI_CONFIG, else $XDG_CONFIG_HOME/beskar-yum/cli.json (~/.config/beskar-yum/cli.json).`;

/** `beskar-yum --help`: every command with its one-line summary. */
export function globalUsage(commands: Record<string, Command>): string {
  const entries: [string, string][] = [
    ["createrepo <dir>", "offline, no server: write <dir>/repodata like createrepo_c"],
    ...Object.values(commands).map((c): [string, string] => [c.synopsis.split(" [")[0]!, c.summary]),
  ];
  const width = Math.max(...entries.map(([left]) => left.length));
  return `beskar-yum — admin client for a beskar-yum server

usage: beskar-yum <command> [args] [--server URL] [--token TOKEN] [--config FILE]
       beskar-yum <command> --help     the command's arguments and options
       beskar-yum --version

commands:
${entries.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join("\n")}

${repoNote}
${serverNote}`;
}

/** `beskar-yum <command> --help`. */
export function commandUsage(command: Command): string {
  return [
    `usage: beskar-yum ${command.synopsis}`,
    "",
    command.summary,
    ...(command.help ? ["", command.help] : []),
    "",
    `${repoNote} Every command also takes --server URL, --token TOKEN and --config FILE.`,
    serverNote,
  ].join("\n");
}
