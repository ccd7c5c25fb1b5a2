import { YumError } from "@beskar-yum/errors";
import type { HttpTransport, TransportResponse } from "./http-transport.js";

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

export interface FollowOptions {
  /** `Authorization` for the origin of `url` only: a redirect elsewhere goes without it. */
  authorization?: string | undefined;
  /** Origins that get the client certificate (the configured upstreams). */
  trustedOrigins: ReadonlySet<string>;
  maxRedirects: number;
  signal?: AbortSignal | undefined;
  /** How errors name the request (credentials already redacted). */
  what: string;
}

/** A response and (`url`) the URL that finally gave it. */
export type FollowedResponse = TransportResponse;

/**
 * GETs `url`, following 301/302/303/307/308 (relative `Location` resolved against the URL that
 * answered) for at most `maxRedirects` hops, across hosts as CDNs do. Credentials stay with the
 * origin they were configured for: a hop to another origin gets no `Authorization` and no client
 * certificate. Every other status is returned as it is.
 */
export async function followRedirects(
  transport: HttpTransport,
  url: URL,
  options: FollowOptions,
): Promise<FollowedResponse> {
  const origin = url.origin;
  let current = url;
  let currentOrigin = origin;
  for (let hop = 0; ; hop++) {
    const sameOrigin = currentOrigin === origin;
    const response = await transport.get(current, {
      headers: sameOrigin && options.authorization ? { authorization: options.authorization } : undefined,
      trusted: options.trustedOrigins.has(currentOrigin),
      signal: options.signal,
    });
    const location = response.headers.location;
    if (!redirectStatuses.has(response.status) || !location) return response;
    discard(response);
    if (hop >= options.maxRedirects) {
      throw new YumError(
        "UPSTREAM_TOO_MANY_REDIRECTS",
        `${options.what}: more than ${options.maxRedirects} redirects (the last from ${current.host} to ${hostOf(location, current)})`,
      );
    }
    current = nextUrl(location, current, options.what);
    currentOrigin = current.origin;
  }
}

function nextUrl(location: string, base: URL, what: string): URL {
  let next: URL;
  try {
    next = new URL(location, base);
  } catch {
    throw new YumError("UPSTREAM_UNAVAILABLE", `${what}: ${base.host} redirects to an invalid URL`);
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    throw new YumError("UPSTREAM_UNAVAILABLE", `${what}: ${base.host} redirects to a ${next.protocol} URL`);
  }
  // Credentials in a Location would be sent to whoever the redirect names: never.
  next.username = "";
  next.password = "";
  next.hash = "";
  return next;
}

function hostOf(location: string, base: URL): string {
  try {
    return new URL(location, base).host;
  } catch {
    return "an invalid URL";
  }
}

/**
 * Lets go of a body we do not want: a small one is read to its end so that the connection stays
 * alive, a big or unknown one closes the connection rather than download it.
 */
export function discard(response: TransportResponse): void {
  const length = Number(response.headers["content-length"] ?? Number.NaN);
  if (length <= 64 * 1024) response.body.resume();
  else response.body.destroy();
}
