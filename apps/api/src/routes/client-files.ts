import { YumError } from "@beskar-yum/errors";
import { assertRepositoryName, repoFileText, repositoryKeys } from "@beskar-yum/repository";
import type { RepoIndex } from "@beskar-yum/storage";
import type { FastifyRequest } from "fastify";
import type { AppDeps } from "../app-deps.js";
import { type Content, cacheControl, etagOfText } from "../send-content.js";

const namePattern = "[a-z0-9]+(?:[/._-][a-z0-9]+)*";
/** `/artifacts/yum/<name>/<id>.repo` and `/artifacts/yum/<name>/RPM-GPG-KEY`, outside dnf's `repo/` tree. */
const clientFilePath = new RegExp(`^/(artifacts/yum/${namePattern})/([^/]+\\.repo|RPM-GPG-KEY)$`);

export type ClientFile = { repository: string; file: "repo" | "gpg-key"; fileName: string };

/** The client-facing file a URL names, if any (query left out). */
export function clientFileOf(url: string): ClientFile | undefined {
  const match = clientFilePath.exec(url.split("?")[0]!);
  if (!match) return undefined;
  const repository = assertRepositoryName(match[1]);
  const fileName = match[2]!;
  return { repository, file: fileName === "RPM-GPG-KEY" ? "gpg-key" : "repo", fileName };
}

const hostPattern = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The URL clients reach us at: `http.public_url` when configured, else what the request says: the
 * first `X-Forwarded-Proto`/`X-Forwarded-Host` (a proxy in front), else `Host` over this
 * connection's scheme. A host that is not a host is 400: it would be written into a .repo file.
 */
export function publicBaseUrl(request: FastifyRequest, configured: string | undefined): string {
  if (configured !== undefined) return configured;
  const first = (value: string | string[] | undefined) =>
    (Array.isArray(value) ? value[0] : value)?.split(",")[0]?.trim() || undefined;
  const host = first(request.headers["x-forwarded-host"]) ?? first(request.headers.host);
  if (host === undefined || !hostPattern.test(host))
    throw new YumError("INVALID_ARGUMENT", "the request's Host (or X-Forwarded-Host) is not a host[:port]");
  const proto = first(request.headers["x-forwarded-proto"])?.toLowerCase();
  const scheme = proto === "https" || proto === "http" ? proto : request.protocol;
  return `${scheme}://${host}`;
}

/** A `.repo` file for the repository, or its `gpg_key` (upstream's, or the packages' signers). */
export async function clientFileContent(
  request: FastifyRequest,
  deps: AppDeps,
  target: ClientFile,
  index: RepoIndex,
): Promise<Content> {
  const { properties } = (await index.getRepository())!;
  if (target.file === "gpg-key") {
    if (!properties.gpg_key) throw new YumError("NOT_FOUND", `${target.repository} has no gpg_key`);
    return textContent(properties.gpg_key, "application/pgp-keys");
  }
  const keys = await repositoryKeys(target.repository, index, deps.signer);
  const expected = `${keys.id}.repo`;
  if (target.fileName !== expected)
    throw new YumError("NOT_FOUND", `the .repo file of ${target.repository} is ${expected}`);
  const text = repoFileText(target.repository, publicBaseUrl(request, deps.publicUrl), keys);
  return textContent(text, "text/plain; charset=utf-8");
}

/**
 * A small text answered from memory (repomd.xml, its signature and key, .repo files), revalidated by
 * caches on every use (README "Cache-Control"). Without an `mtime` of its own it is dated now: the
 * ETag is its validator, and an older If-Modified-Since never matches a newer answer.
 */
export function textContent(text: string, contentType: string, mtime = new Date()): Content {
  const body = Buffer.from(text, "utf8");
  return {
    size: body.length,
    mtime,
    etag: etagOfText(text),
    contentType,
    cacheControl: cacheControl.revalidate,
    body,
    open: (range) => (range ? body.subarray(range.start, range.end + 1) : body),
  };
}
