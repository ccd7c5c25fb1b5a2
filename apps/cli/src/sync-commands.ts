import { setTimeout as sleep } from "node:timers/promises";
import { fullRepositoryName } from "./admin-client.js";
import { allPages } from "./all-pages.js";
import { type Command, CommandFailed, jsonOption, optionalString, printJson } from "./command.js";
import { followLogs, formatLogLine, type LogLine } from "./follow-logs.js";
import { formatFields } from "./table.js";

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

function progressBar(done: number, total: number): string {
  const width = 30;
  const filled = total === 0 ? 0 : Math.min(width, Math.round((done / total) * width));
  const percent = total === 0 ? 0 : Math.min(100, Math.round((done / total) * 100));
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(percent).padStart(3)}% ${done}/${total}`;
}

const sync: Command = {
  synopsis: "sync <repo> [--url U] [--wait] [--force]",
  summary: "sync a mirror now; --wait shows its progress",
  help: `  --url U    the upstream for this sync only (not stored)
  --wait     show progress and return when the sync ends (exit code 1 if it failed)
  --force    accept an upstream older than what is served (a deliberate roll back)`,
  options: { url: { type: "string" }, wait: { type: "boolean" }, force: { type: "boolean" } },
  minArgs: 1,
  run: async ({ client, args, flags, out, progress }) => {
    const repository = fullRepositoryName(args[0]!);
    const url = optionalString(flags.url);
    // `--url`: the upstream for this sync only (Beskar's sync:url), not stored.
    await client.call("GET", url ? "/repository/sync:url" : "/repository/sync", {
      repository,
      ...(url ? { mirror_url: url } : {}),
      ...(flags.force === true ? { force: true } : {}),
    });
    if (flags.wait !== true) {
      out(
        `sync of ${repository} started; follow it with: beskar-yum logs ${args[0]} --follow --until-sync-end`,
      );
      return 0;
    }
    for (;;) {
      const { sync_status: s } = await client.call<{ sync_status: SyncStatus }>(
        "GET",
        "/repository/sync:status",
        { repository },
      );
      if (!s.syncing) {
        if (s.sync_error) throw new CommandFailed(`sync failed: ${s.sync_error}`);
        out(
          `synced ${repository}: ${s.synced_packages}/${s.total_packages} packages, ${s.downloaded_packages} downloaded (${(s.downloaded_bytes / 1e6).toFixed(1)} MB)`,
        );
        return 0;
      }
      progress(
        `${s.phase || "starting"} ${progressBar(s.synced_packages, s.total_packages)} packages, ${(s.downloaded_bytes / 1e6).toFixed(1)} MB downloaded`,
      );
      await sleep(500);
    }
  },
};

const status: Command = {
  synopsis: "status <repo> [--json]",
  summary: "sync status of a mirror",
  options: jsonOption,
  minArgs: 1,
  run: async ({ client, args, flags, out }) => {
    const response = await client.call<{ sync_status: Record<string, unknown> }>(
      "GET",
      "/repository/sync:status",
      { repository: fullRepositoryName(args[0]!) },
    );
    if (flags.json === true) printJson(out, response);
    else for (const line of formatFields(response.sync_status ?? {})) out(line);
    return 0;
  },
};

const logs: Command = {
  synopsis: "logs <repo> [--follow [--until-sync-end]] [--json]",
  summary: "a repository's log; --follow prints new lines as they come",
  help: `  --follow          keep printing new lines until interrupted (Ctrl-C); waits through a server restart
  --until-sync-end  with --follow: stop when a sync ends (the running one, else the next)
  --json            a JSON array; with --follow, one JSON object per line`,
  options: { ...jsonOption, follow: { type: "boolean", short: "f" }, "until-sync-end": { type: "boolean" } },
  minArgs: 1,
  run: async ({ client, args, flags, out }) => {
    const repository = fullRepositoryName(args[0]!);
    if (flags.follow === true) {
      const print = (line: LogLine) => out(flags.json === true ? JSON.stringify(line) : formatLogLine(line));
      await followLogs(client, repository, print, {
        untilSyncEnd: flags["until-sync-end"] === true,
        intervalMs: 500,
      });
      return 0;
    }
    const lines: LogLine[] = [];
    for await (const line of allPages<LogLine>(client, "/repository/logs", { repository }, "logs"))
      lines.push(line);
    if (flags.json === true) printJson(out, lines);
    else for (const line of lines) out(formatLogLine(line));
    return 0;
  },
};

export const syncCommands: Record<string, Command> = { sync, status, logs };
