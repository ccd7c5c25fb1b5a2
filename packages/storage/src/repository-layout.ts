import { YumError } from "@beskar-yum/errors";

/**
 * Where repositories live on disk: `<storage>/<prefix>/repositories/<key>/`, one directory per
 * repository, never inside another one's. `<key>` is the whole repository name as one path segment:
 * `/` becomes `+` (a character Beskar's names cannot hold), so `artifacts/yum/hosted/repodata` is
 * `artifacts+yum+hosted+repodata`, a sibling of `artifacts+yum+hosted`, not a folder in its
 * `repodata/`. The key is reversible, so listing repositories needs no other record.
 *
 * Inside a repository directory: `index.db` (+ `-wal`, `-shm`), `blobs/` and `repodata/`. Nothing in
 * it is served as a directory: the API serves repomd.xml from the index and only the data files that
 * a published repomd.xml lists.
 */
export const REPOSITORIES_DIR = "repositories";

/** Uploads to a repository that does not exist yet wait here (outside every repository) until accepted. */
export const STAGING_DIR = "staging";

/** A name's characters: Beskar's RepositoryRegex alphabet (lowercase, digits, `/._-`). */
const nameAlphabet = /^[a-z0-9]+(?:[/._-][a-z0-9]+)*$/;
const keyAlphabet = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;

/** Longest directory entry name on the filesystems we run on (ext4, xfs, btrfs: 255 bytes). */
const maxKeyLength = 255;

/** The directory name of `repository` (a full name, `artifacts/yum/<name>`). */
export function repositoryKey(repository: string): string {
  if (!nameAlphabet.test(repository) || repository.length > maxKeyLength) {
    // Names are validated at the API; reaching this is a bug, never a path to follow.
    throw new YumError("INVALID_REPOSITORY_NAME", "invalid repository name for storage");
  }
  return repository.replaceAll("/", "+");
}

/** The repository name of a directory under `repositories/`, or undefined for anything else. */
export function repositoryOfKey(key: string): string | undefined {
  return keyAlphabet.test(key) ? key.replaceAll("+", "/") : undefined;
}
