import { isYumError, redactText } from "@beskar-yum/errors";
import type { Config } from "./config.js";
import { loadConfig } from "./load-config.js";

/** What a started service gives back: how to stop it cleanly. */
export type StopService = (signal: NodeJS.Signals) => Promise<void>;

/**
 * The entry point of a long-running process: reads the configuration once (exit 2 with a one-line
 * message when it is invalid, or when the service refuses it with CONFIG_INVALID), starts the service
 * (exit 1 when that fails), and stops it on
 * SIGTERM/SIGINT (exit 0).
 */
export function runService(name: string, start: (config: Config) => Promise<StopService>): void {
  let config: Config;
  try {
    config = loadConfig({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd() });
  } catch (err) {
    console.error(redactText(`${name}: ${(err as Error).message}`));
    process.exit(2);
  }
  start(config).then(
    (stop) => {
      const onSignal = (signal: NodeJS.Signals) => {
        stop(signal).then(
          () => process.exit(0),
          (err) => {
            console.error(redactText(`${name}: stopping failed: ${(err as Error).stack ?? err}`));
            process.exit(1);
          },
        );
      };
      process.once("SIGTERM", onSignal);
      process.once("SIGINT", onSignal);
    },
    (err) => {
      // Configuration refused by the service itself (the admin token rule): exit 2, one line, like loadConfig.
      if (isYumError(err, "CONFIG_INVALID")) {
        console.error(redactText(`${name}: ${err.message}`));
        process.exit(2);
      }
      console.error(redactText(`${name}: ${(err as Error).stack ?? err}`));
      process.exit(1);
    },
  );
}
