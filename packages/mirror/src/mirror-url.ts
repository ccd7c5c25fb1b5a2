import { redactUrl, YumError } from "@beskar-yum/errors";

/** One upstream base URL, with its credentials split off so that they are sent but never shown. */
export interface MirrorEndpoint {
  /** The base URL without userinfo; its path ends with "/". */
  base: URL;
  /** `Basic ...` when the configured URL carried `user:password@`. */
  authorization?: string;
  /** The URL as logs and errors show it: credentials replaced by `***`. */
  display: string;
}

export function parseMirrorUrl(raw: string): MirrorEndpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new YumError("INVALID_ARGUMENT", `mirror URL ${JSON.stringify(redact(raw))} is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new YumError("INVALID_ARGUMENT", `mirror URL ${redact(raw)}: only http and https are supported`);
  }
  const authorization =
    url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}`
      : undefined;
  url.username = "";
  url.password = "";
  url.search = "";
  url.hash = "";
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return {
    base: url,
    ...(authorization ? { authorization } : {}),
    display: authorization ? redact(raw) : url.href,
  };
}

/** Hides the password (or a user alone) of a URL, with or without its scheme: the project's one rule. */
export function redact(raw: string): string {
  return redactUrl(raw);
}

const safeSegment = /^[A-Za-z0-9][A-Za-z0-9._+~@,=%-]*$/;

/**
 * An upstream `location href` we are willing to fetch and serve: a relative path of plain
 * segments. Absolute paths, URLs, `..`, backslashes, queries and control characters are refused,
 * so a hostile repomd.xml or primary.xml cannot make us fetch elsewhere or write outside our tree.
 */
export function assertSafeHref(href: string, what: string): string {
  const segments = href.split("/");
  const bad =
    href.length === 0 ||
    href.length > 1024 ||
    segments.some((s) => !safeSegment.test(s) || s === "." || s === "..") ||
    /%(2f|5c|2e)/i.test(href);
  if (bad) {
    throw new YumError(
      "UPSTREAM_BAD_HREF",
      `${what}: refusing location href ${JSON.stringify(href.slice(0, 200))}`,
    );
  }
  return href;
}

export function hrefUrl(endpoint: MirrorEndpoint, href: string): URL {
  return new URL(href, endpoint.base);
}
