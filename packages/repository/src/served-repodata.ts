import { basename, join } from "node:path";
import { parseRepomd } from "@beskar-yum/repodata";
import type { RepoIndex } from "@beskar-yum/storage";

/** The data file names a repomd.xml lists (basenames of `location href`, as they are stored in `repodata/`). */
function listedFiles(repomd: string): Set<string> {
  try {
    return new Set(parseRepomd(repomd).records.map((r) => basename(r.location)));
  } catch {
    return new Set();
  }
}

/**
 * Which repodata files may be served: only those the published repomd.xml lists, or a repomd.xml
 * superseded less than the grace period ago (clients that read it just before still fetch its
 * files). Never a file because it is in the folder: whatever else is there (a crashed writer's temp
 * file, anything put there by hand) is not served.
 */
export class ServedRepodata {
  /** The listed names of the latest repomd.xml seen per repository, parsed once per generation. */
  private readonly current = new Map<string, { repomd: string; files: Set<string> }>();

  constructor(
    private readonly graceSeconds: number,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /** The path of `file` in `repodataDir` when it may be served, else undefined. */
  async path(
    repository: string,
    index: RepoIndex,
    repodataDir: string,
    file: string,
  ): Promise<string | undefined> {
    if (file === "repomd.xml" || file.includes("/") || file.startsWith(".")) return undefined;
    const { repomd } = await index.getState();
    if (!repomd) return undefined;
    let cached = this.current.get(repository);
    if (cached?.repomd !== repomd) {
      cached = { repomd, files: listedFiles(repomd) };
      this.current.set(repository, cached);
      if (this.current.size > 1000) this.current.delete(this.current.keys().next().value!);
    }
    if (cached.files.has(file)) return join(repodataDir, file);
    const since = this.now() - this.graceSeconds;
    for (const retired of await index.retiredRepomdNaming(file, since)) {
      if (listedFiles(retired).has(file)) return join(repodataDir, file);
    }
    return undefined;
  }
}
