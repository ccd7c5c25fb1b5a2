import { keepStoredSecret, redactText, YumError } from "@beskar-yum/errors";

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
  return keepStoredSecret(value, typeof stored === "string" ? [stored] : [], "properties.proxy_url");
}

/** The proxy URL with its password replaced by `***` (the user stays, to tell accounts apart). */
export function redactProxyUrl(raw: string): string {
  try {
    return redactText(new URL(raw).href);
  } catch {
    return redactText(raw);
  }
}
