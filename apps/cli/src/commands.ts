import { readFileSync } from "node:fs";
import { type AdminClient, fullRepositoryName, ServerError } from "./admin-client.js";

export interface CommandContext {
  client: AdminClient;
  /** Positional arguments after the command words. */
  args: string[];
  flags: Record<string, string | boolean>;
  out: (line: string) => void;
  progress: (line: string) => void;
}

type Command = (ctx: CommandContext) => Promise<void>;

function need(args: string[], count: number, usage: string): void {
  if (args.length < count) throw new UsageError(`usage: beskar-yum ${usage}`);
}

export class UsageError extends Error {}

/** A sync that ended with an error; its message is the server's `sync_error`. */
export class SyncFailed extends Error {}

/** A restore that ended with an error; its message is the repository log's line. */
export class RestoreFailed extends Error {}

interface SyncStatus {
  syncing: boolean;
  phase: string;
  total_packages: number;
  synced_packages: number;
  downloaded_packages: number;
  downloaded_bytes: number;
  bytes_per_second: number;
  sync_error: string;
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

/**
 * Every item of a paged list endpoint (Beskar's `page: {size, token}`): asks for the next page with
 * the previous response's `next_page_token` until a response has none.
 */
export async function* allPages<T>(
  client: AdminClient,
  path: string,
  request: Record<string, unknown>,
  key: string,
): AsyncGenerator<T> {
  let token: string | undefined;
  do {
    const response = await client.call<Record<string, unknown>>("GET", path, {
      ...request,
      ...(token ? { "page.token": token } : {}),
    });
    for (const item of (response[key] as T[] | null | undefined) ?? []) yield item;
    const next = response.next_page_token;
    token = typeof next === "string" && next !== "" && next !== token ? next : undefined;
  } while (token);
}

function properties(flags: Record<string, string | boolean>): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  if (flags.mirror === true) props.mirror = true;
  if (flags["no-mirror"] === true) props.mirror = false;
  if (typeof flags["mirror-url"] === "string") props.mirror_urls = flags["mirror-url"].split(",");
  if (typeof flags.metalink === "string") props.metalink = flags.metalink;
  if (typeof flags.mirrorlist === "string") props.mirrorlist = flags.mirrorlist;
  if (typeof flags["sync-schedule"] === "string") props.sync_schedule = flags["sync-schedule"];
  if (typeof flags["gpg-key"] === "string") {
    props.gpg_key = Buffer.from(readFileSync(flags["gpg-key"], "utf8")).toString("base64");
  }
  return props;
}

function progressBar(sent: number, total: number): string {
  const width = 30;
  const done = total === 0 ? width : Math.round((sent / total) * width);
  return `[${"#".repeat(done)}${".".repeat(width - done)}] ${((sent / Math.max(total, 1)) * 100).toFixed(0).padStart(3)}% ${sent}/${total}`;
}

/** Every admin command, by its words. */
export const commands: Record<string, Command> = {
  "repo create": async ({ client, args, flags, out }) => {
    need(args, 1, "repo create <repo> [--mirror] [--mirror-url U[,U]] [--gpg-key FILE]");
    await client.call("POST", "/repository", {
      repository: fullRepositoryName(args[0]!),
      properties: properties(flags),
    });
    out(`created ${fullRepositoryName(args[0]!)}`);
  },
  "repo update": async ({ client, args, flags, out }) => {
    need(
      args,
      1,
      "repo update <repo> [--mirror|--no-mirror] [--mirror-url U[,U]] [--gpg-key FILE] [--sync-schedule CRON]",
    );
    await client.call("PUT", "/repository", {
      repository: fullRepositoryName(args[0]!),
      properties: properties(flags),
    });
    out(`updated ${fullRepositoryName(args[0]!)}`);
  },
  "repo list": async ({ client, out }) => {
    type Summary = {
      repository: string;
      mirror: boolean;
      packages: number;
      syncing: boolean;
      error?: string;
    };
    for await (const r of allPages<Summary>(client, "/repository:list", {}, "repositories")) {
      if (r.error) {
        out(`${r.repository}\terror: ${r.error}`);
        continue;
      }
      out(
        `${r.repository}\t${r.mirror ? "mirror" : "hosted"}\t${r.packages} packages${r.syncing ? "\tsyncing" : ""}`,
      );
    }
  },
  "repo get": async ({ client, args, out }) => {
    need(args, 1, "repo get <repo>");
    out(json(await client.call("GET", "/repository", { repository: fullRepositoryName(args[0]!) })));
  },
  "repo delete": async ({ client, args, flags, out }) => {
    need(args, 1, "repo delete <repo> [--delete-packages]");
    await client.call("DELETE", "/repository", {
      repository: fullRepositoryName(args[0]!),
      delete_packages: flags["delete-packages"] === true,
    });
    out(`deleted ${fullRepositoryName(args[0]!)}`);
  },
  push: async ({ client, args, flags, out, progress }) => {
    need(args, 2, "push <repo> <file.rpm>... [--no-wait]");
    const repository = fullRepositoryName(args[0]!);
    for (const file of args.slice(1)) {
      const result = await client.push(repository, file, {
        wait: flags["no-wait"] !== true,
        onProgress: (sent, total) => progress(`${file} ${progressBar(sent, total)} bytes`),
      });
      out(
        `${file}: ${result.name}-${result.version}-${result.release}.${result.architecture} id=${result.id} tag=${result.tag}`,
      );
    }
  },
  packages: async ({ client, args, out }) => {
    need(args, 1, "packages <repo>");
    const request = { repository: fullRepositoryName(args[0]!) };
    for await (const p of allPages<Record<string, unknown>>(
      client,
      "/repository/package:list",
      request,
      "repository_packages",
    )) {
      out(
        `${p.name}-${p.version}-${p.release}.${p.architecture}\t${p.id}\t${p.tag}\t${p.verified ? "verified" : "unverified"}`,
      );
    }
  },
  "package get": async ({ client, args, flags, out }) => {
    need(args, 2, "package get <repo> <id> | package get <repo> --tag <tag>");
    const byTag = flags.tag === true;
    out(
      json(
        await client.call("GET", byTag ? "/repository/package:bytag" : "/repository/package", {
          repository: fullRepositoryName(args[0]!),
          [byTag ? "tag" : "id"]: args[1],
        }),
      ),
    );
  },
  "package rm": async ({ client, args, flags, out }) => {
    need(args, 2, "package rm <repo> <id> | package rm <repo> --tag <tag>");
    const byTag = flags.tag === true;
    await client.call("DELETE", byTag ? "/repository/package:bytag" : "/repository/package", {
      repository: fullRepositoryName(args[0]!),
      [byTag ? "tag" : "id"]: args[1],
    });
    out(`removed ${args[1]}`);
  },
  sync: async ({ client, args, flags, out, progress }) => {
    need(args, 1, "sync <repo> [--url U] [--wait] [--force]");
    const repository = fullRepositoryName(args[0]!);
    const given = flags.url ?? flags["mirror-url"];
    const url = typeof given === "string" ? given : undefined;
    // `--url` (or `--mirror-url`): the upstream for this sync only (Beskar's sync:url), not stored.
    await client.call("GET", url ? "/repository/sync:url" : "/repository/sync", {
      repository,
      ...(url ? { mirror_url: url } : {}),
      // Accept an upstream older than what is served (a deliberate roll back).
      ...(flags.force === true ? { force: true } : {}),
    });
    if (flags.wait !== true) {
      out(`sync of ${repository} started; follow it with: beskar-yum status ${args[0]}`);
      return;
    }
    for (;;) {
      const { sync_status: s } = await client.call<{ sync_status: SyncStatus }>(
        "GET",
        "/repository/sync:status",
        { repository },
      );
      progress(
        `${s.phase || "starting"} ${progressBar(s.synced_packages, s.total_packages)} packages, ${(s.downloaded_bytes / 1e6).toFixed(1)} MB downloaded`,
      );
      if (!s.syncing) {
        if (s.sync_error) throw new SyncFailed(s.sync_error);
        out(
          `synced ${repository}: ${s.synced_packages}/${s.total_packages} packages, ${s.downloaded_packages} downloaded (${(s.downloaded_bytes / 1e6).toFixed(1)} MB)`,
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  },
  restore: async ({ client, args, flags, out, progress }) => {
    need(args, 1, "restore <repo> [--mirror --mirror-url U[,U]] [--gpg-key FILE] [--no-wait]");
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
      out(`restore of ${repository} started; follow it with: beskar-yum logs ${args[0]}`);
      return;
    }
    // The worker's summary line (packages, time, bytes read against package bytes), or its failure.
    for (;;) {
      let outcome = "";
      for await (const l of allPages<{ message: string }>(
        client,
        "/repository/logs",
        { repository },
        "logs",
      )) {
        if (l.message.startsWith("restored ") || l.message.startsWith("restore of ")) outcome = l.message;
      }
      if (outcome.startsWith("restore of ")) throw new RestoreFailed(outcome);
      if (outcome) return out(`${repository}: ${outcome}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  },
  status: async ({ client, args, out }) => {
    need(args, 1, "status <repo>");
    out(
      json(await client.call("GET", "/repository/sync:status", { repository: fullRepositoryName(args[0]!) })),
    );
  },
  logs: async ({ client, args, out }) => {
    need(args, 1, "logs <repo>");
    type Line = { level: string; date: string; message: string };
    const request = { repository: fullRepositoryName(args[0]!) };
    for await (const l of allPages<Line>(client, "/repository/logs", request, "logs"))
      out(`${l.date} ${l.level} ${l.message}`);
  },
};
