import { YumError } from "@beskar-yum/errors";

/** Beskar's RepositoryRegex for the part after `artifacts/yum/`. */
const namePattern = "[a-z0-9]+(?:[/._-][a-z0-9]+)*";
const fullName = new RegExp(`^artifacts/yum/${namePattern}$`);

/**
 * The longest full name (`artifacts/yum/<name>`): the distribution spec's 255 characters for an OCI
 * repository name, less `/packages` and `/repodata`, the registry repositories (Beskar's layout) of a
 * YUM repository. It also keeps the storage directory name (the whole name as one segment) within
 * the filesystems' 255 bytes.
 */
export const maxRepositoryNameLength = 255 - "/packages".length;

/**
 * Validates a full repository name (`artifacts/yum/<name>`), as the admin API and uploads receive it:
 * Beskar's name rule, and at most `maxRepositoryNameLength` characters (checked first, so that a huge
 * name costs nothing and creates nothing).
 */
export function assertRepositoryName(repository: unknown): string {
  if (typeof repository === "string" && repository.length > maxRepositoryNameLength) {
    throw new YumError(
      "INVALID_REPOSITORY_NAME",
      `invalid repository name ${JSON.stringify(`${repository.slice(0, 64)}...`)}: ${repository.length} characters, at most ${maxRepositoryNameLength} allowed`,
    );
  }
  if (typeof repository !== "string" || !fullName.test(repository)) {
    throw new YumError(
      "INVALID_REPOSITORY_NAME",
      `invalid repository name ${JSON.stringify(repository)}: expected artifacts/yum/<name> with <name> matching ${namePattern}`,
    );
  }
  return repository;
}

/**
 * Content paths: `/artifacts/yum/<name>/repo/repodata/<file>`, `/artifacts/yum/<name>/repo/<path>/<file>.rpm`
 * and, for uploads of extra metadata, `/artifacts/yum/<name>/repo/repodata/extra/<type>`.
 */
const repodataPath = new RegExp(`^/(artifacts/yum/${namePattern})/repo/repodata/([^/]+)$`);
const extraPath = new RegExp(`^/(artifacts/yum/${namePattern})/repo/repodata/extra/([^/]+)$`);
const packagePath = new RegExp(`^/(artifacts/yum/${namePattern})/repo/(?:.*/)?([^/]+\\.rpm)$`);

export type ContentPath =
  | { kind: "repodata"; repository: string; file: string }
  | { kind: "package"; repository: string; file: string }
  | { kind: "extra"; repository: string; dataType: string };

export function parseContentPath(urlPath: string): ContentPath | undefined {
  const repodata = repodataPath.exec(urlPath);
  if (repodata) return { kind: "repodata", repository: repodata[1]!, file: repodata[2]! };
  const extra = extraPath.exec(urlPath);
  if (extra) return { kind: "extra", repository: extra[1]!, dataType: extra[2]! };
  const pkg = packagePath.exec(urlPath);
  if (pkg) return { kind: "package", repository: pkg[1]!, file: pkg[2]! };
  return undefined;
}
