import { YumError } from "@beskar-yum/errors";
import { redact } from "./mirror-url.js";

/**
 * How upstreams are reached through an HTTP proxy. `url` is a repository's own `proxy_url` and wins;
 * otherwise `https` (HTTPS_PROXY) serves https:// targets and `http` (HTTP_PROXY) http:// targets,
 * unless `noProxy` (NO_PROXY) matches the target. The environment is read once, by packages/config.
 */
export interface ProxyOptions {
  url?: string | undefined;
  http?: string | undefined;
  https?: string | undefined;
  noProxy?: string | undefined;
}

/** A proxy to send a request through: where it is, its credentials as a header, and how logs show it. */
export interface ProxyServer {
  /** `http(s)://host:port/` without userinfo. */
  url: URL;
  /** `Basic ...` for `Proxy-Authorization`, when the proxy URL carried `user:pass@`. */
  authorization?: string;
  /** The proxy URL with its credentials replaced by `***`. */
  display: string;
}

/** Parses a proxy URL (`http://user:pass@proxy:3128`); the error never shows the password. */
export function parseProxy(raw: string): ProxyServer {
  let url: URL;
  try {
    // `proxy:3128` without a scheme is what many HTTP_PROXY values look like: it means http.
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new YumError("INVALID_ARGUMENT", `proxy URL ${JSON.stringify(redact(raw))} is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new YumError(
      "INVALID_ARGUMENT",
      `proxy URL ${redact(raw)}: only http and https proxies are supported`,
    );
  }
  const authorization =
    url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}`
      : undefined;
  const display = redact(url.href);
  url.username = "";
  url.password = "";
  return { url, ...(authorization ? { authorization } : {}), display };
}

/** The proxy for `target`, or undefined to connect directly. */
export function selectProxy(target: URL, options: ProxyOptions | undefined): string | undefined {
  if (!options) return undefined;
  if (options.url) return options.url;
  const fromEnv = target.protocol === "https:" ? options.https : options.http;
  if (!fromEnv) return undefined;
  return options.noProxy && noProxyMatches(target, options.noProxy) ? undefined : fromEnv;
}

/**
 * Whether NO_PROXY excludes `target`, as curl reads it: a comma (or space) separated list of `*`,
 * hosts (`example.com` also covers its subdomains), `.example.com` (subdomains and the domain),
 * and `host:port` (that port only). IP addresses match exactly; case does not matter.
 */
export function noProxyMatches(target: URL, noProxy: string): boolean {
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const port = target.port || (target.protocol === "https:" ? "443" : "80");
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    let entryPort: string | undefined;
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (withPort) {
      entry = withPort[1]!;
      entryPort = withPort[2];
    }
    entry = entry.replace(/^\[|\]$/g, "");
    if (entryPort !== undefined && entryPort !== port) continue;
    const domain = entry.replace(/^\*?\./, "");
    if (host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}
