import { YumError } from "@beskar-yum/errors";

/** What `GET /repository` shows instead of a proxy password. */
const hidden = "***";

/**
 * Validates a repository's `proxy_url` (an http or https proxy, credentials allowed). A value whose
 * password is the `***` that `GET /repository` shows keeps the stored password when the rest is
 * unchanged, so that reading the properties and writing them back does not lose it.
 * @throws YumError `INVALID_ARGUMENT`, whose message never contains the password.
 */
export function proxyUrlProperty(value: unknown, stored: unknown): string {
  const example = "expected an http(s) proxy URL such as http://user:password@proxy.example:3128";
  if (typeof value !== "string") throw new YumError("INVALID_ARGUMENT", `properties.proxy_url: ${example}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new YumError("INVALID_ARGUMENT", `properties.proxy_url: not a URL; ${example}`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    throw new YumError(
      "INVALID_ARGUMENT",
      `properties.proxy_url: ${url.protocol} is not a proxy scheme; ${example}`,
    );
  }
  if (url.search || url.hash) {
    throw new YumError("INVALID_ARGUMENT", "properties.proxy_url: a proxy URL has no query or fragment");
  }
  if (decodeURIComponent(url.password) !== hidden) return value;
  if (typeof stored === "string" && stored !== "" && redactProxyUrl(stored) === redactProxyUrl(value))
    return stored;
  throw new YumError(
    "INVALID_ARGUMENT",
    "properties.proxy_url: the password is the redacted *** of GET /repository; send the real one",
  );
}

/**
 * The proxy URL with its password replaced by `***` (the user stays, to tell accounts apart). Our
 * own copy: packages/mirror's `redact` cannot be imported here (mirror depends on this package).
 */
export function redactProxyUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password === "") return raw;
    url.password = hidden;
    return url.href.replace(/%2A%2A%2A@/i, `${hidden}@`);
  } catch {
    return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, `$1${hidden}@`);
  }
}
