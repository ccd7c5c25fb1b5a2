import { setTimeout as sleep } from "node:timers/promises";
import { type AdminClient, fullRepositoryName, ServerError } from "./admin-client.js";
import { allPages } from "./all-pages.js";
import { type Command, CommandFailed } from "./command.js";
import { properties, propertyHelp, propertyOptions } from "./repo-commands.js";

/** The worker's last word on a restore in the repository log: its summary, or its failure. */
async function restoreOutcome(client: AdminClient, repository: string): Promise<string> {
  let outcome = "";
  for await (const line of allPages<{ message: string }>(
    client,
    "/repository/logs",
    { repository },
    "logs",
  )) {
    if (line.message.startsWith("restored ") || line.message.startsWith("restore of "))
      outcome = line.message;
  }
  return outcome;
}

const restore: Command = {
  synopsis: "restore <repo> [--mirror --mirror-url U[,U]] [--gpg-key FILE] [--no-wait]",
  summary: "rebuild a repository this server has no index for from its OCI registry",
  help: `The registry (registry.url) holds Beskar's layout, also what Beskar's Go plugin wrote: package
headers are read with ranged requests, packages stay in the registry until first requested. The
registry keeps no repository properties: give them here. Waits until the restore is published.

${propertyHelp}
  --no-wait               return once the restore is queued`,
  options: { ...propertyOptions, "no-wait": { type: "boolean" } },
  minArgs: 1,
  run: async ({ client, args, flags, out, progress }) => {
    const repository = fullRepositoryName(args[0]!);
    const wait = flags["no-wait"] !== true;
    try {
      await client.call("POST", "/repository/restore", { repository, properties: properties(flags), wait });
    } catch (err) {
      // The server stops waiting after upload.wait_timeout_ms; the restore goes on: wait for its log line.
      if (!(err instanceof ServerError && err.status === 504)) throw err;
      progress(`restore of ${repository} is still running`);
    }
    if (!wait) {
      out(`restore of ${repository} started; follow it with: beskar-yum logs ${args[0]} --follow`);
      return 0;
    }
    for (;;) {
      const outcome = await restoreOutcome(client, repository);
      if (outcome.startsWith("restore of ")) throw new CommandFailed(outcome);
      if (outcome) {
        out(`${repository}: ${outcome}`);
        return 0;
      }
      await sleep(1000);
    }
  },
};

export const restoreCommands: Record<string, Command> = { restore };
