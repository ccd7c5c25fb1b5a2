import { YumError } from "@beskar-yum/errors";

/**
 * Where repositories live on disk: `<storage>/<prefix>/artifacts/yum/<key>/`, one directory per
 * repository, side by side, never one inside another. `<key>` is the name after `artifacts/yum/` as
 * one path segment: `/` becomes `+` (a character Beskar's names cannot hold), so
 * `artifacts/yum/hosted/repodata` lives in `artifacts/yum/hosted+repodata/`, beside `hosted/`, not in
 * its `repodata/` folder. A name of one segment keeps Beskar's own path (`artifacts/yum/<name>/`).
 * The key is reversible, so listing repositories needs no other record.
 *
 * Inside a repository directory: `index.db` (+ `-wal`, `-shm`), `blobs/` and `repodata/`. Nothing in
 * it is served as a directory: the API serves repomd.xml from the index and only the data files that
 * a published repomd.xml lists.
 */
export const REPOSITORIES_DIR = "artifacts/yum";

/** Uploads to a repository that does not exist yet wait here (outside every repository) until accepted. */
export const STAGING_DIR = "staging";

const prefix = `${REPOSITORIES_DIR}/`;
/** Beskar's RepositoryRegex for `<name>` (lowercase, digits, `/._-`), and the same with `+` for `/`. */
const nameAlphabet = /^[a-z0-9]+(?:[/._-][a-z0-9]+)*$/;
const keyAlphabet = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;

/** Longest directory entry name on the filesystems we run on (ext4, xfs, btrfs: 255 bytes). */
const maxKeyLength = 255;

/** The directory name (under `artifacts/yum/`) of `repository`, a full name `artifacts/yum/<name>`. */
export function repositoryKey(repository: string): string {
  const name = repository.startsWith(prefix) ? repository.slice(prefix.length) : "";
  if (!nameAlphabet.test(name) || name.length > maxKeyLength) {
    // Names are validated at the API; reaching this is a bug, never a path to follow.
    throw new YumError("INVALID_REPOSITORY_NAME", "invalid repository name for storage");
  }
  return name.replaceAll("/", "+");
}

/** The repository name of a directory under `artifacts/yum/`, or undefined for anything else. */
export function repositoryOfKey(key: string): string | undefined {
  return keyAlphabet.test(key) ? `${prefix}${key.replaceAll("+", "/")}` : undefined;
}
