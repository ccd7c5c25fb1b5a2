import type { Command } from "./command.js";
import { loginCommands } from "./login-commands.js";
import { packageCommands } from "./package-commands.js";
import { repoCommands } from "./repo-commands.js";
import { restoreCommands } from "./restore-command.js";
import { syncCommands } from "./sync-commands.js";

export { allPages } from "./all-pages.js";

/** Every admin command, by its words, in the order the usage lists them. */
export const commands: Record<string, Command> = {
  ...repoCommands,
  ...packageCommands,
  ...syncCommands,
  ...restoreCommands,
  ...loginCommands,
};

/** The first words of two-word commands (`repo create`, `package rm`). */
export const commandGroups = new Set(
  Object.keys(commands)
    .filter((words) => words.includes(" "))
    .map((words) => words.split(" ")[0]!),
);
