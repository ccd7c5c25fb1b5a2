import { cpSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type MetadataKind, parseRepomd, type RepomdRecord } from "@beskar-yum/repodata";
import { type RunResult, run } from "../../../../../test/support/run.js";
import { decompressMetadata } from "../metadata-codecs.js";

/** The built command, run as users run it (tests run after `npm run build`). */
export const BIN = fileURLToPath(new URL("../../../bin/beskar-yum.js", import.meta.url));

/** `beskar-yum createrepo <args>`; never throws for a non-zero exit. */
export function createrepoCli(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<RunResult> {
  return run(process.execPath, [BIN, "createrepo", ...args], { env, timeoutMs: 60_000 });
}

/** The `--json` summary line. */
export interface JsonSummary {
  packages: number;
  parsed: number;
  reused: number;
  removed: number;
  segments: Record<"primary" | "filelists" | "other", { segments: number; reused: number }>;
  files: Record<string, string>;
  removedFiles: string[];
  skipped: { path: string; code: string; message: string }[];
  fullIndexReason?: string;
  [key: string]: unknown;
}

/** Like `createrepoCli` with `--json`: the parsed summary line; throws with both outputs on failure. */
export async function createrepoJson(args: string[]): Promise<JsonSummary> {
  const r = await createrepoCli([...args, "--json"]);
  if (r.code !== 0) throw new Error(`createrepo ${args.join(" ")} exited ${r.code}\n${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** `createrepo_c --no-database <args> <dir>`. */
export async function createrepoC(dir: string, args: string[] = []): Promise<void> {
  const r = await run("createrepo_c", ["--no-database", "--quiet", ...args, dir], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`createrepo_c ${args.join(" ")} ${dir} exited ${r.code}\n${r.stderr}`);
}

export interface Repodata {
  repomd: string;
  records: RepomdRecord[];
  revision: string | undefined;
  /** The three documents, uncompressed. */
  docs: Record<MetadataKind, string>;
  /** Their files as stored. */
  stored: Record<MetadataKind, Buffer>;
}

/** `<dir>/repodata` as a client reads it: repomd.xml, then each document it names (gz, xz, zst). */
export async function readRepodata(dir: string): Promise<Repodata> {
  const repomd = readFileSync(join(dir, "repodata", "repomd.xml"), "utf8");
  const parsed = parseRepomd(repomd);
  const docs = {} as Record<MetadataKind, string>;
  const stored = {} as Record<MetadataKind, Buffer>;
  for (const kind of ["primary", "filelists", "other"] as const) {
    const record = parsed.records.find((r) => r.type === kind)!;
    const path = join(dir, record.location);
    stored[kind] = readFileSync(path);
    docs[kind] = (await decompressMetadata(path, stored[kind])).toString("utf8");
  }
  return { repomd, records: parsed.records, revision: parsed.revision, docs, stored };
}

/** Copies a repository directory keeping mtimes (`time file` depends on them). */
export function copyRepository(from: string, to: string): void {
  cpSync(from, to, { recursive: true, preserveTimestamps: true });
}

/** Names and mtimes of everything in `<dir>/repodata`, to show it was not touched. */
export function snapshot(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of readdirSync(join(dir, "repodata")).sort()) {
    out[name] = statSync(join(dir, "repodata", name)).mtimeMs;
  }
  return out;
}
