import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { YumError } from "@beskar-yum/errors";
import type { FastifyReply, FastifyRequest } from "fastify";
import { type AccelRedirect, accelRedirectFor } from "./accel-redirect.js";
import { rememberContent } from "./content-cache.js";

/** What is being served: its size and validators, and how to read all of it or a byte range. */
export interface Content {
  size: number;
  mtime: Date;
  etag: string;
  contentType: string;
  /** One of `cacheControl`'s values: how long caches between us and dnf may keep it. */
  cacheControl: string;
  open(range?: { start: number; end: number }): Readable | Buffer;
  /** The whole body, when held in memory: the content cache may keep it. */
  body?: Buffer;
  /** The immutable (content-addressed) file it is read from: the content cache may serve it. */
  file?: string;
}

/**
 * Cache-Control by kind of file (README "Cache-Control"). repomd.xml, its signature and key, and
 * .repo files name no version: `no-cache` makes every cache ask again each time (a 304 by ETag when
 * nothing changed), so a proxy never pairs a new repomd.xml with an old signature and a publish is
 * seen at once. Checksum-named repodata never changes under its name. A package is named by NEVRA,
 * and a hosted repository takes a different file of the same NEVRA in its place: a year of
 * `immutable` could pair a cached old RPM with new repodata, so packages are kept an hour, then
 * revalidated (their ETag is their sha256).
 */
export const cacheControl = {
  revalidate: "no-cache",
  immutable: "public, max-age=31536000, immutable",
  package: "public, max-age=3600",
} as const;

const contentTypes: [RegExp, string][] = [
  [/\.rpm$/, "application/x-rpm"],
  [/\.xml$/, "application/xml"],
  [/\.gz$/, "application/gzip"],
  [/\.xz$/, "application/x-xz"],
  [/\.zst$/, "application/zstd"],
  [/\.bz2$/, "application/x-bzip2"],
  [/\.asc$/, "application/pgp-signature"],
  [/\.key$/, "application/pgp-keys"],
];

export function contentTypeOf(fileName: string): string {
  return contentTypes.find(([pattern]) => pattern.test(fileName))?.[1] ?? "application/octet-stream";
}

/** A strong ETag from a content digest we already have (package sha256, checksum-named repodata). */
export function etagOf(digest: string): string {
  return `"${digest}"`;
}

export function etagOfText(text: string): string {
  return etagOf(createHash("sha256").update(text).digest("hex"));
}

/** Parses a single `bytes=` range; multiple ranges are served whole (allowed by RFC 9110). */
function parseRange(
  header: string,
  size: number,
): { start: number; end: number } | "unsatisfiable" | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first, last] = match;
  if (first === "" && last === "") return undefined;
  let start: number;
  let end: number;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) return "unsatisfiable";
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (start >= size || start > end) return "unsatisfiable";
  return { start, end };
}

export interface SendOptions {
  /** `http.accel_redirect`: a stored file is left to the front nginx that asked for it (accel-redirect.ts). */
  accelRedirect?: AccelRedirect;
}

/** Sends `content` with validators, conditional requests (304) and byte ranges (206/416). */
export function sendContent(
  request: FastifyRequest,
  reply: FastifyReply,
  content: Content,
  options: SendOptions = {},
): FastifyReply {
  // The next requests for this URL are answered from memory until the repository's index changes.
  rememberContent(request.raw, content);
  // The front sends the file itself, with its own validators, conditional answers and ranges: only
  // the headers nginx keeps from ours (Content-Type among them) are set.
  const accel = accelRedirectFor(options.accelRedirect, request.headers, content.file, content.size);
  if (accel)
    return reply
      .header("content-type", content.contentType)
      .header("cache-control", content.cacheControl)
      .header("x-accel-redirect", accel)
      .send();
  reply
    .header("content-type", content.contentType)
    .header("etag", content.etag)
    .header("last-modified", content.mtime.toUTCString())
    .header("cache-control", content.cacheControl)
    .header("accept-ranges", "bytes");

  const ifNoneMatch = request.headers["if-none-match"];
  if (ifNoneMatch?.split(",").some((t) => t.trim() === content.etag || t.trim() === "*")) {
    return reply.code(304).send();
  }
  const ifModifiedSince = request.headers["if-modified-since"];
  if (!ifNoneMatch && ifModifiedSince) {
    const since = Date.parse(ifModifiedSince);
    if (!Number.isNaN(since) && Math.floor(content.mtime.getTime() / 1000) <= Math.floor(since / 1000)) {
      return reply.code(304).send();
    }
  }

  const rangeHeader = request.headers.range;
  const ifRange = request.headers["if-range"];
  const rangeApplies = rangeHeader !== undefined && (ifRange === undefined || ifRange === content.etag);
  const range = rangeApplies ? parseRange(rangeHeader, content.size) : undefined;
  if (range === "unsatisfiable") {
    reply.header("content-range", `bytes */${content.size}`);
    throw new YumError(
      "RANGE_NOT_SATISFIABLE",
      `range ${rangeHeader} is outside the ${content.size} bytes of the file`,
    );
  }
  if (range) {
    reply
      .code(206)
      .header("content-range", `bytes ${range.start}-${range.end}/${content.size}`)
      .header("content-length", range.end - range.start + 1);
    return reply.send(content.open(range));
  }
  reply.header("content-length", content.size);
  return reply.send(content.open());
}
