import { randomBytes } from "node:crypto";
import {
  type Dirent,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseRepomd } from "@beskar-yum/repodata";
import { FsBlobStore, type RepoIndex, type RepositoryPaths } from "@beskar-yum/storage";
import { parseContentPath } from "./repository-name.js";

/**
 * `http.front_tree` (README "Behind nginx"): a directory that mirrors the public URL space of every
 * repository, `<root>/artifacts/yum/<name>/repo/<href>`, so that a front nginx sends what it finds
 * there itself (`try_files`) without asking the API, and asks the API for everything else. Packages
 * and checksum-named repodata files are symlinks to the stored blob or data file; repomd.xml and its
 * signature are copies.
 *
 * The one rule that keeps the front exact: **an entry is only ever a file the API would answer with
 * the same bytes for that URL.** A missing entry is always safe (the request goes to the API), so
 * entries are removed before the commit that may make them stale and added after it:
 * - `retract` runs under the repository lock right before a publish (or sync) commit: repomd.xml and
 *   its signature go, and every package entry whose href no longer holds that blob in the index, or
 *   that the commit is about to change (a mirror's staged rows are not in the index before it).
 * - `update` runs after the commit: the tree becomes the index: every package at its href, the data
 *   files the served repomd.xml lists (superseded ones are left to the API, which serves them for the
 *   grace period and then stops), repomd.xml and its signature.
 * - `remove` runs before a repository is deleted.
 *
 * An entry is written only when the URL the API parses back is that same repository and href (a
 * nested name such as `a/repo/b` wins `/artifacts/yum/a/repo/b/repo/...` in the API, so `a`'s href
 * `b/repo/x.rpm` is never written), and only in the plain URL alphabet that the nginx config lets
 * reach the tree (no `%`, no dot segments): whatever else a name or href holds is served by the API.
 * Entries of another repository met on the way (nested names share directories) are left alone.
 *
 * The file system calls are synchronous: one per entry, microseconds each, where a promise per entry
 * cost a publish of 20,000 packages seconds (measured); the worker's event loop waits that long.
 */
export class FrontTree {
  readonly root: string;

  constructor(
    root: string,
    private readonly log: (message: string) => void = () => {},
  ) {
    this.root = resolve(root);
  }

  of(repository: string): RepositoryFront {
    return new RepositoryFront(this.root, repository, this.log);
  }

  /**
   * Removes every entry of a repository that `exists` does not know (deleted by a process that ran
   * without the setting, or while a crash kept its entries). Removing is always safe: a repository
   * created meanwhile gets its entries back at its next publish.
   */
  prune(exists: (repository: string) => boolean): number {
    let removed = 0;
    for (const path of walk(join(this.root, "artifacts", "yum"))) {
      const repository = parseContentPath(path.slice(this.root.length))?.repository;
      if (repository !== undefined && exists(repository)) continue;
      rmSync(path, { force: true });
      removed++;
    }
    return removed;
  }
}

/** What the tree would hold for one URL of a repository: a symlink to a stored file, or a text copy. */
type Wanted = { link: string } | { text: string; mtime: number };

/**
 * One path segment of a URL the nginx config sends to the tree (its `map` uses the same alphabet):
 * no escapes, no dot segments, and (as the API's rule for repodata file names) a letter or digit first.
 */
const plainSegment = /^[A-Za-z0-9][A-Za-z0-9._+~^-]*$/;

export class RepositoryFront {
  constructor(
    private readonly root: string,
    readonly repository: string,
    private readonly log: (message: string) => void,
  ) {}

  /** The directory of this repository's URLs (`<root>/<repository>/repo`). */
  private get base(): string {
    return join(this.root, this.repository, "repo");
  }

  /**
   * Before a commit: drops repomd.xml, its signature, package entries that the index no longer holds
   * as they are, and those at `hrefs` (what the commit changes).
   */
  async retract(
    index: RepoIndex,
    paths: RepositoryPaths,
    options: { hrefs?: Iterable<string> } = {},
  ): Promise<void> {
    const packages = await packageTargets(this.repository, index, paths);
    for (const href of options.hrefs ?? []) packages.delete(`/${this.repository}/repo/${href}`);
    for (const entry of this.entries()) {
      const keep = entry.kind === "package" && packages.get(entry.url) === entry.target;
      if (!keep && entry.kind !== "repodata-file") rmSync(entry.path, { force: true });
    }
  }

  /**
   * After a commit: the tree becomes what the index serves. Read again until the index did not
   * change while it was written, so a writer that was overtaken still leaves the newest state.
   */
  async update(index: RepoIndex, paths: RepositoryPaths): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = await stateToken(index);
      const wanted = await this.wanted(index, paths);
      for (const entry of this.entries()) {
        const want = wanted.get(entry.url);
        if (want !== undefined && same(entry, want)) wanted.delete(entry.url);
        else if (want === undefined) rmSync(entry.path, { force: true });
      }
      const skipped: string[] = [];
      const made = new Set<string>();
      for (const [url, want] of wanted) {
        const problem = place(join(this.root, url), want, made);
        if (problem) skipped.push(`${url}: ${problem}`);
      }
      if (skipped.length > 0)
        this.log(`front tree of ${this.repository}: ${skipped.length} URLs left to the API (${skipped[0]})`);
      if ((await stateToken(index)) === before) return;
    }
  }

  /** Before the repository is deleted: every entry of it goes, then the directories left empty. */
  async remove(): Promise<void> {
    const dirs = new Set<string>();
    for (const entry of this.entries()) {
      rmSync(entry.path, { force: true });
      for (let dir = dirname(entry.path); dir.startsWith(this.base); dir = dirname(dir)) dirs.add(dir);
    }
    // Deepest first; a directory that still holds another repository's entries stays.
    const stop = join(this.root, "artifacts", "yum");
    for (let dir = this.base; dir !== stop && dir.startsWith(stop); dir = dirname(dir)) dirs.add(dir);
    for (const dir of [...dirs].sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(dir);
      } catch {
        // Not empty (another repository's entries) or already gone.
      }
    }
  }

  /** Every URL of this repository the tree should hold, with what it should hold. */
  private async wanted(index: RepoIndex, paths: RepositoryPaths): Promise<Map<string, Wanted>> {
    const wanted = new Map<string, Wanted>();
    if (!(await index.getRepository())) return wanted;
    for (const [url, link] of await packageTargets(this.repository, index, paths)) {
      if (this.servedAs(url, "package")) wanted.set(url, { link });
    }
    const { repomd, repomdAsc, revision } = await index.getState();
    if (repomd === undefined) return wanted;
    const repodata = `/${this.repository}/repo/repodata/`;
    for (const name of listedFiles(repomd)) {
      if (this.servedAs(repodata + name, "repodata"))
        wanted.set(repodata + name, { link: resolve(paths.repodata, name) });
    }
    wanted.set(`${repodata}repomd.xml`, { text: repomd, mtime: revision });
    if (repomdAsc !== undefined)
      wanted.set(`${repodata}repomd.xml.asc`, { text: repomdAsc, mtime: revision });
    return wanted;
  }

  /** True when `url` reaches the tree through nginx and the API reads it as this repository's `kind`. */
  private servedAs(url: string, kind: "package" | "repodata"): boolean {
    const segments = url.slice(1).split("/");
    if (!segments.every((segment) => plainSegment.test(segment))) return false;
    const parsed = parseContentPath(url);
    return parsed?.repository === this.repository && parsed.kind === kind;
  }

  /**
   * The entries under this repository's directory that are its own (the API reads their URL as this
   * repository): repomd.xml and its signature, other repodata files, packages.
   */
  private *entries(): Generator<{
    url: string;
    path: string;
    kind: "repomd" | "repodata-file" | "package";
    target?: string;
  }> {
    for (const path of walk(this.base)) {
      const url = path.slice(this.root.length);
      const parsed = parseContentPath(url);
      if (parsed?.repository !== this.repository || parsed.kind === "extra") continue;
      const repomd = parsed.kind === "repodata" && /^repomd\.xml(\.asc)?$/.test(parsed.file);
      const kind = repomd ? "repomd" : parsed.kind === "repodata" ? "repodata-file" : "package";
      const target = kind === "repomd" ? undefined : linkOf(path);
      yield { url, path, kind, ...(target !== undefined ? { target } : {}) };
    }
  }
}

/** URL → blob path of every package in the index. */
async function packageTargets(
  repository: string,
  index: RepoIndex,
  paths: RepositoryPaths,
): Promise<Map<string, string>> {
  const blobs = new FsBlobStore(resolve(paths.blobs));
  const targets = new Map<string, string>();
  for (const { href, id } of await index.listPackageBlobs())
    targets.set(`/${repository}/repo/${href}`, blobs.pathOf(id));
  return targets;
}

/** What changes when anything the tree mirrors changes: the published generation and the applied events. */
async function stateToken(index: RepoIndex): Promise<string> {
  const state = await index.getState();
  return `${state.revision}/${state.appliedSeq}/${state.repomdAsc ?? ""}`;
}

function listedFiles(repomd: string): string[] {
  try {
    return parseRepomd(repomd).records.map((r) => basename(r.location));
  } catch {
    return [];
  }
}

function linkOf(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function same(entry: { path: string; target?: string }, want: Wanted): boolean {
  if ("link" in want) return entry.target === want.link;
  if (entry.target !== undefined) return false;
  try {
    return readFileSync(entry.path, "utf8") === want.text;
  } catch {
    return false;
  }
}

/**
 * Writes one entry atomically (a temp name beside it, then rename); the reason when it cannot.
 * `made`: directories known to exist (one mkdir per directory, not per entry).
 */
function place(path: string, want: Wanted, made: Set<string>): string | undefined {
  const dir = dirname(path);
  const temp = join(dir, `.front-${process.pid}-${randomBytes(6).toString("hex")}`);
  try {
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    if ("link" in want) symlinkSync(want.link, temp);
    else {
      writeFileSync(temp, want.text, { mode: 0o644 });
      utimesSync(temp, want.mtime, want.mtime);
    }
    renameSync(temp, path);
    return undefined;
  } catch (err) {
    // Another repository's directory or file in the way (nested names): the API serves that URL.
    rmSync(temp, { force: true });
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

/** Every file and symlink under `dir` (depth first), nothing when it does not exist. */
function* walk(dir: string): Generator<string> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}
