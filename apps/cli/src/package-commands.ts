import { fullRepositoryName } from "./admin-client.js";
import { allPages } from "./all-pages.js";
import { type Command, jsonOption, optionalString, printJson, UsageError } from "./command.js";
import { matchesPackage, nevra, type PackageListItem } from "./package-filter.js";
import { type PushReport, pushFiles } from "./push.js";
import { formatFields, formatTable } from "./table.js";

interface PackageView extends PackageListItem {
  id: string;
  tag: string;
  verified: boolean;
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** "26 of 27 pushed; failed: bad.rpm: <reason>" */
export function pushSummary(report: PushReport, files: number): string {
  const failed = report.failed.map((f) => `${f.file}: ${f.reason}`).join("; ");
  return `${report.pushed.length} of ${files} pushed${failed ? `; failed: ${failed}` : ""}`;
}

const push: Command = {
  synopsis: "push <repo> <file.rpm>... [--no-wait] [--jobs N]",
  summary: "upload RPMs (4 at a time), then wait once until they are all published",
  help: `  --no-wait   return once the server has stored the files, before they are published
  --jobs N    uploads at once (default 4)
A file that fails does not stop the others. Prints one line per file pushed, then a summary;
the exit code is 1 when any file failed.`,
  options: { "no-wait": { type: "boolean" }, jobs: { type: "string" } },
  minArgs: 2,
  run: async ({ client, args, flags, out, err, progress }) => {
    const jobs = Number(optionalString(flags.jobs) ?? 4);
    if (!Number.isSafeInteger(jobs) || jobs < 1) throw new UsageError("--jobs: expected a positive integer");
    const files = args.slice(1);
    const report = await pushFiles(client, fullRepositoryName(args[0]!), files, {
      wait: flags["no-wait"] !== true,
      jobs,
      onPushed: ({ file, result: r }) =>
        out(`${file}: ${r.name}-${r.version}-${r.release}.${r.architecture} id=${r.id} tag=${r.tag}`),
      onFailed: ({ file, reason }) => err(`beskar-yum: ${file}: ${reason}`),
      onProgress: (sent, total, done, count) =>
        progress(`pushing: ${done}/${count} files, ${megabytes(sent)} of ${megabytes(total)}`),
    });
    const summary = pushSummary(report, files.length);
    if (report.failed.length > 0) {
      err(summary);
      return 1;
    }
    out(summary);
    return 0;
  },
};

const packages: Command = {
  synopsis: "packages <repo> [--name N] [--arch A] [--search TEXT] [--json]",
  summary: "list packages, filtered by name, architecture or a search",
  help: `  --name N       packages named exactly N
  --arch A       of architecture A (x86_64, noarch, src...)
  --search TEXT  whose name-version-release.arch contains TEXT (any case)
  --json         the list as JSON (the API's package objects)`,
  options: { ...jsonOption, name: { type: "string" }, arch: { type: "string" }, search: { type: "string" } },
  minArgs: 1,
  run: async ({ client, args, flags, out }) => {
    const filter = {
      name: optionalString(flags.name),
      arch: optionalString(flags.arch),
      search: optionalString(flags.search),
    };
    const request = { repository: fullRepositoryName(args[0]!) };
    const found: PackageView[] = [];
    for await (const p of allPages<PackageView>(
      client,
      "/repository/package:list",
      request,
      "repository_packages",
    ))
      if (matchesPackage(p, filter)) found.push(p);
    if (flags.json === true) {
      printJson(out, found);
      return 0;
    }
    const rows = found.map((p) => [nevra(p), p.id, p.tag, p.verified ? "verified" : "unverified"]);
    for (const line of formatTable(["PACKAGE", "ID", "TAG", "SIGNATURE"], rows)) out(line);
    return 0;
  },
};

const byIdOrTag = (flags: Record<string, string | boolean | undefined>, key: string) =>
  flags.tag === true
    ? { path: "/repository/package:bytag", field: { tag: key } }
    : { path: "/repository/package", field: { id: key } };

const packageGet: Command = {
  synopsis: "package get <repo> <id> [--tag] [--json]",
  summary: "one package, by id (sha256) or, with --tag, by tag",
  options: { ...jsonOption, tag: { type: "boolean" } },
  minArgs: 2,
  run: async ({ client, args, flags, out }) => {
    const { path, field } = byIdOrTag(flags, args[1]!);
    const response = await client.call<{ repository_packages: Record<string, unknown> }>("GET", path, {
      repository: fullRepositoryName(args[0]!),
      ...field,
    });
    if (flags.json === true) printJson(out, response);
    else for (const line of formatFields(response.repository_packages ?? {})) out(line);
    return 0;
  },
};

const packageRm: Command = {
  synopsis: "package rm <repo> <id> [--tag] [--no-wait]",
  summary: "remove a package, waiting until the published repodata no longer lists it",
  help: "  --no-wait   return once the package is removed from the index, before the publish",
  options: { tag: { type: "boolean" }, "no-wait": { type: "boolean" } },
  minArgs: 2,
  run: async ({ client, args, flags, out }) => {
    const { path, field } = byIdOrTag(flags, args[1]!);
    await client.call("DELETE", path, {
      repository: fullRepositoryName(args[0]!),
      ...field,
      ...(flags["no-wait"] === true ? {} : { wait: true }),
    });
    out(`removed ${args[1]}`);
    return 0;
  },
};

export const packageCommands: Record<string, Command> = {
  push,
  packages,
  "package get": packageGet,
  "package rm": packageRm,
};
