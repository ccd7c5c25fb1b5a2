import { parseArgs } from "node:util";
import { AdminClient, ServerError } from "./admin-client.js";
import { commands, SyncFailed, UsageError } from "./commands.js";

const usage = `beskar-yum — admin client for a beskar-yum server

usage: beskar-yum <command> [args] [--server URL] [--token TOKEN]

  createrepo <dir> [--update] [--checksum sha256|sha1|sha512] [--compress gz|xz|zstd] [--workers N]
                                             offline, no server: write <dir>/repodata like createrepo_c
                                             (beskar-yum createrepo --help for every option)
  repo create <repo> [--mirror] [--mirror-url U[,U]] [--metalink U | --mirrorlist U] [--gpg-key FILE]
  repo update <repo> [--mirror|--no-mirror] [--mirror-url U[,U]] [--metalink U | --mirrorlist U]
                     [--gpg-key FILE] [--sync-schedule CRON]
  repo list
  repo get <repo>
  repo delete <repo> [--delete-packages]
  push <repo> <file.rpm>... [--no-wait]      upload, waiting until each is published
  packages <repo>                            list packages
  package get <repo> <id> [--tag]            one package, by id (sha256) or by --tag
  package rm <repo> <id> [--tag]
  sync <repo> [--url U] [--wait] [--force]    sync a mirror (from U this time only); --wait shows progress;
                                             --force accepts an upstream older than what is served
  restore <repo> [--mirror --mirror-url U[,U]] [--gpg-key FILE] [--no-wait]
                                             rebuild a repository this server has no index for from
                                             its OCI registry (registry.url; Beskar's layout, also
                                             what Beskar's Go plugin wrote): package headers are read
                                             with ranged requests, packages stay in the registry until
                                             first requested; waits until it is published. The
                                             registry keeps no properties: give them (--mirror, ...)
  status <repo>                              sync status of a mirror
  logs <repo>

<repo> is "name" or "artifacts/yum/name". The server is $BESKARYUM_URL or --server (default
http://127.0.0.1:5200) and the admin token $BESKARYUM_TOKEN (or --token).`;

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv[0] === "createrepo") {
    const { runCreaterepo } = await import("./createrepo/run-createrepo.js");
    return runCreaterepo(argv.slice(1));
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: "string" },
      url: { type: "string" },
      token: { type: "string" },
      mirror: { type: "boolean" },
      "no-mirror": { type: "boolean" },
      "mirror-url": { type: "string" },
      metalink: { type: "string" },
      mirrorlist: { type: "string" },
      force: { type: "boolean" },
      "gpg-key": { type: "string" },
      "sync-schedule": { type: "string" },
      "delete-packages": { type: "boolean" },
      tag: { type: "boolean" },
      "no-wait": { type: "boolean" },
      wait: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const two = positionals.slice(0, 2).join(" ");
  const name = commands[two] ? two : positionals[0];
  if (values.help || !name || !commands[name]) {
    process.stdout.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  if (values.url !== undefined && name !== "sync") {
    process.stderr.write(
      "beskar-yum: --url is the upstream of `sync`; the server is --server or $BESKARYUM_URL\n",
    );
    return 2;
  }
  const token = values.token ?? env.BESKARYUM_TOKEN;
  if (!token) {
    process.stderr.write(
      "beskar-yum: no admin token: set BESKARYUM_TOKEN or pass --token (see <datadir>/admin-token)\n",
    );
    return 2;
  }
  const client = new AdminClient({
    url: (values.server ?? env.BESKARYUM_URL ?? "http://127.0.0.1:5200").replace(/\/$/, ""),
    token,
  });
  const interactive = process.stderr.isTTY === true;
  await commands[name]!({
    client,
    args: positionals.slice(name.split(" ").length),
    flags: values as Record<string, string | boolean>,
    out: (line) => process.stdout.write(`${line}\n`),
    progress: (line) => {
      if (interactive) process.stderr.write(`\r${line}`);
    },
  });
  if (interactive) process.stderr.write("\r\x1b[K");
  return 0;
}

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError) process.stderr.write(`${err.message}\n`);
    else if (err instanceof SyncFailed) process.stderr.write(`beskar-yum: sync failed: ${err.message}\n`);
    else if (err instanceof ServerError)
      process.stderr.write(`beskar-yum: ${err.code} (HTTP ${err.status}): ${err.message}\n`);
    else process.stderr.write(`beskar-yum: ${(err as Error).message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
