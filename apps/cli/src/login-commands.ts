import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type CliConfig, removeCliConfig, writeCliConfig } from "./cli-config.js";
import { type Command, type LocalContext, optionalString, UsageError } from "./command.js";

/** The token `login` saves: --token-file (the path is saved, not the token), --token or the environment, or stdin. */
async function loginToken(ctx: LocalContext): Promise<{ token: string; tokenFile?: string }> {
  const file = optionalString(ctx.flags["token-file"]);
  if (file !== undefined) {
    const tokenFile = resolve(file);
    let token: string;
    try {
      token = readFileSync(tokenFile, "utf8").trim();
    } catch (err) {
      throw new UsageError(`cannot read --token-file ${tokenFile}: ${(err as Error).message}`);
    }
    if (!token) throw new UsageError(`--token-file ${tokenFile} is empty`);
    return { token, tokenFile };
  }
  if (ctx.givenToken) return { token: ctx.givenToken };
  if (ctx.stdin.isTTY)
    throw new UsageError("no token: pass --token-file FILE (or --token, or pipe the token into stdin)");
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.stdin) chunks.push(chunk as Buffer);
  const token = Buffer.concat(chunks).toString("utf8").trim();
  if (!token) throw new UsageError("no token: stdin was empty");
  return { token };
}

export const loginCommands: Record<string, Command> = {
  login: {
    synopsis: "login <url> [--token-file FILE]",
    summary: "check a server's admin token and save both in the CLI's config file",
    help: `The token: --token-file FILE (its path is saved, and read at each run), else --token or
$BESKARYUM_TOKEN, else stdin (\`beskar-yum login https://yum.example.com < token.txt\`). It is checked
against the server (listing repositories) before anything is saved. The config file is
$XDG_CONFIG_HOME/beskar-yum/cli.json (~/.config/...), or --config FILE / $BESKARYUM_CLI_CONFIG; it is
written with mode 0600. Flags and environment variables still win over it.`,
    options: { "token-file": { type: "string" } },
    minArgs: 1,
    runLocal: async (ctx) => {
      const url = ctx.args[0]!.trim().replace(/\/+$/, "");
      if (!/^https?:\/\/[^/]+/i.test(url)) throw new UsageError(`login: ${url} is not an http(s):// URL`);
      const { token, tokenFile } = await loginToken(ctx);
      // A wrong token or URL is said now, not at the next command.
      await ctx.client(url, token).call("GET", "/repository:list", { "page.size": "1" });
      const config: CliConfig = tokenFile ? { server: url, token_file: tokenFile } : { server: url, token };
      writeCliConfig(ctx.configFile, config);
      ctx.out(`logged in to ${url}; saved in ${ctx.configFile}`);
      return 0;
    },
  },
  logout: {
    synopsis: "logout",
    summary: "remove the CLI's config file (server and token saved by login)",
    runLocal: async (ctx) => {
      ctx.out(
        removeCliConfig(ctx.configFile) ? `removed ${ctx.configFile}` : `no config file at ${ctx.configFile}`,
      );
      return 0;
    },
  },
};
