import { describe, expect, it } from "vitest";
import { indexOpenError } from "./open-errors.js";

const sqlite = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("indexOpenError", () => {
  const path = "/data/artifacts/yum/r/index.db";
  it.each([
    [sqlite("SQLITE_NOTADB", "file is not a database"), "STORAGE_CORRUPT", 500],
    [sqlite("SQLITE_CORRUPT", "database disk image is malformed"), "STORAGE_CORRUPT", 500],
    [sqlite("SQLITE_BUSY", "database is locked"), "UNAVAILABLE", 503],
    [sqlite("EMFILE", "too many open files"), "UNAVAILABLE", 503],
    [sqlite("ENOENT", "no such file"), "REPO_NOT_FOUND", 404],
    [sqlite("SQLITE_CANTOPEN", "unable to open database file"), "REPO_NOT_FOUND", 404],
    [sqlite("SQLITE_FULL", "database or disk is full"), "INTERNAL", 500],
  ])("%s → %s", (err, code, status) => {
    const classified = indexOpenError(err, path);
    expect(classified.code).toBe(code);
    expect(classified.httpStatus).toBe(status);
    if (code !== "REPO_NOT_FOUND") expect(classified.message).toContain(path);
  });
});
