import { readFileSync } from "node:fs";
import { fullRepositoryName } from "./admin-client.js";
import { allPages } from "./all-pages.js";
import { type Command, jsonOption, optionalString, printJson } from "./command.js";
import { formatFields, formatTable } from "./table.js";

export const propertyOptions = {
  mirror: { type: "boolean" },
  "no-mirror": { type: "boolean" },
  "mirror-url": { type: "string" },
  metalink: { type: "string" },
  mirrorlist: { type: "string" },
  "gpg-key": { type: "string" },
  "sync-schedule": { type: "string" },
} as const;

export const propertyHelp = `  --mirror, --no-mirror   a mirror of an upstream (synced) or a hosted repository (pushed to)
  --mirror-url U[,U]      upstream base URLs, tried in order
  --metalink U            upstream metalink (instead of --mirror-url)
  --mirrorlist U          upstream mirrorlist (instead of --mirror-url)
  --gpg-key FILE          armored public key: packages must be signed by it
  --sync-schedule CRON    sync a mirror on this schedule ("" removes it)`;

export function properties(flags: Record<string, string | boolean | undefined>): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  if (flags.mirror === true) props.mirror = true;
  if (flags["no-mirror"] === true) props.mirror = false;
  const mirrorUrl = optionalString(flags["mirror-url"]);
  if (mirrorUrl !== undefined) props.mirror_urls = mirrorUrl.split(",");
  if (typeof flags.metalink === "string") props.metalink = flags.metalink;
  if (typeof flags.mirrorlist === "string") props.mirrorlist = flags.mirrorlist;
  if (typeof flags["sync-schedule"] === "string") props.sync_schedule = flags["sync-schedule"];
  const keyFile = optionalString(flags["gpg-key"]);
  if (keyFile !== undefined) props.gpg_key = Buffer.from(readFileSync(keyFile, "utf8")).toString("base64");
  return props;
}

/** Keys and certificates (base64, PEM) are whole screens: the table says whether one is set. */
function abbreviateKeys(properties: Record<string, unknown>): Record<string, unknown> {
  const shown = { ...properties };
  for (const key of ["gpg_key", "tls_ca", "tls_cert"]) {
    const value = shown[key];
    if (typeof value === "string" && value.length > 64)
      shown[key] = `(set, ${value.length} characters: --json shows it)`;
  }
  return shown;
}

interface RepositorySummary {
  repository: string;
  mirror: boolean;
  packages: number;
  syncing: boolean;
  error?: string;
}

export const repoCommands: Record<string, Command> = {
  "repo create": {
    synopsis:
      "repo create <repo> [--mirror] [--mirror-url U[,U]] [--metalink U | --mirrorlist U] [--gpg-key FILE]",
    summary: "create a hosted repository, or a mirror with --mirror",
    help: propertyHelp,
    options: propertyOptions,
    minArgs: 1,
    run: async ({ client, args, flags, out }) => {
      const repository = fullRepositoryName(args[0]!);
      await client.call("POST", "/repository", { repository, properties: properties(flags) });
      out(`created ${repository}`);
      return 0;
    },
  },
  "repo update": {
    synopsis:
      "repo update <repo> [--mirror|--no-mirror] [--mirror-url U[,U]] [--metalink U | --mirrorlist U] [--gpg-key FILE] [--sync-schedule CRON]",
    summary: "change a repository's properties (those given; the others stay)",
    help: propertyHelp,
    options: propertyOptions,
    minArgs: 1,
    run: async ({ client, args, flags, out }) => {
      const repository = fullRepositoryName(args[0]!);
      await client.call("PUT", "/repository", { repository, properties: properties(flags) });
      out(`updated ${repository}`);
      return 0;
    },
  },
  "repo list": {
    synopsis: "repo list [--json]",
    summary: "the repositories: type, package count, whether one syncs",
    options: jsonOption,
    run: async ({ client, flags, out }) => {
      const all: RepositorySummary[] = [];
      for await (const r of allPages<RepositorySummary>(client, "/repository:list", {}, "repositories"))
        all.push(r);
      if (flags.json === true) {
        printJson(out, all);
        return 0;
      }
      const rows = all.map((r) =>
        r.error
          ? [r.repository, "-", "-", `error: ${r.error}`]
          : [r.repository, r.mirror ? "mirror" : "hosted", String(r.packages), r.syncing ? "syncing" : ""],
      );
      for (const line of formatTable(["REPOSITORY", "TYPE", "PACKAGES", "STATE"], rows)) out(line);
      return 0;
    },
  },
  "repo get": {
    synopsis: "repo get <repo> [--json]",
    summary: "a repository's properties",
    options: jsonOption,
    minArgs: 1,
    run: async ({ client, args, flags, out }) => {
      const repo = await client.call<{ properties: Record<string, unknown> }>("GET", "/repository", {
        repository: fullRepositoryName(args[0]!),
      });
      if (flags.json === true) printJson(out, repo);
      else for (const line of formatFields(abbreviateKeys(repo.properties ?? {}))) out(line);
      return 0;
    },
  },
  "repo config": {
    synopsis: "repo config <repo>",
    summary: "print a ready .repo file for dnf/yum/zypper (baseurl, gpgcheck, keys)",
    help: `  Prints what GET /artifacts/yum/<name>/<id>.repo serves (<id>: the name, "/" written "-"):
  baseurl as this command reaches the server (or the server's http.public_url), gpgcheck=1 when
  the repository has a gpg_key, repo_gpgcheck=1 when a signature clients can check is served,
  gpgkey the URLs of those keys. Install it with:
    beskar-yum repo config myrepo | sudo tee /etc/yum.repos.d/myrepo.repo`,
    minArgs: 1,
    run: async ({ client, args, out }) => {
      const repository = fullRepositoryName(args[0]!);
      // The server's section id rule (repositoryId in packages/repository): dnf ids hold no "/".
      const id = repository.slice("artifacts/yum/".length).replaceAll("/", "-");
      const text = await client.text(`${repository}/${id}.repo`);
      out(text.replace(/\n$/, ""));
      return 0;
    },
  },
  "repo delete": {
    synopsis: "repo delete <repo> [--delete-packages]",
    summary: "delete a repository (one with packages only with --delete-packages)",
    options: { "delete-packages": { type: "boolean" } },
    minArgs: 1,
    run: async ({ client, args, flags, out }) => {
      const repository = fullRepositoryName(args[0]!);
      await client.call("DELETE", "/repository", {
        repository,
        delete_packages: flags["delete-packages"] === true,
      });
      out(`deleted ${repository}`);
      return 0;
    },
  },
};
