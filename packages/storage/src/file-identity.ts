import { statSync } from "node:fs";

/**
 * What tells one file from another at the same path: device, inode and birth time. The inode alone
 * does not: a repository deleted and created again often gets its index the freed inode number.
 * Throws as `statSync` does (ENOENT when there is no file).
 */
export function fileIdentity(path: string): string {
  const info = statSync(path, { bigint: true });
  return `${info.dev}:${info.ino}:${info.birthtimeNs}`;
}
