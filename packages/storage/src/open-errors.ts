import { closeSync, openSync } from "node:fs";
import { isYumError, YumError } from "@beskar-yum/errors";

/**
 * What an error met opening (or first reading) a repository index is, for the client: only a
 * missing index is REPO_NOT_FOUND; a file that is not an index (or is damaged) is STORAGE_CORRUPT
 * (500, with its path: someone has to look at it); running out of file descriptors, or a database
 * held by another process beyond the busy timeout, is UNAVAILABLE (503: try again).
 */
export function indexOpenError(err: unknown, path: string): YumError {
  if (isYumError(err)) return err;
  const code = (err as { code?: string }).code ?? "";
  const message = (err as Error).message ?? String(err);
  if (code === "ENOENT") return new YumError("REPO_NOT_FOUND", `repository index ${path} does not exist`);
  if (code === "EMFILE" || code === "ENFILE") return tooManyFiles(path, code, err);
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")) {
    return new YumError(
      "STORAGE_CORRUPT",
      `repository index ${path} is corrupt: ${message}`,
      { path },
      { cause: err },
    );
  }
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new YumError(
      "UNAVAILABLE",
      `repository index ${path} is busy (locked by another process): ${message}`,
      { path },
      { cause: err },
    );
  }
  if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_IOERR")) {
    // SQLite does not say why: ask the system, with a plain open of the same file.
    const errno = probe(path);
    if (errno === "ENOENT") return new YumError("REPO_NOT_FOUND", `repository index ${path} does not exist`);
    if (errno === "EMFILE" || errno === "ENFILE") return tooManyFiles(path, errno, err);
    return new YumError(
      "UNAVAILABLE",
      `repository index ${path} cannot be opened${errno ? ` (${errno})` : ""}: ${message}`,
      { path },
      { cause: err },
    );
  }
  return new YumError("INTERNAL", `repository index ${path}: ${message}`, { path }, { cause: err });
}

function tooManyFiles(path: string, code: string, cause: unknown): YumError {
  return new YumError(
    "UNAVAILABLE",
    `repository index ${path} cannot be opened: too many open files (${code}); try again later`,
    { path },
    { cause },
  );
}

/** The errno of opening `path` for reading and writing, or undefined when that works. */
function probe(path: string): string | undefined {
  try {
    closeSync(openSync(path, "r+"));
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
}
