import { keepStoredSecret, redactText, YumError } from "@beskar-yum/errors";
import type { RepositoryProperties } from "@beskar-yum/storage";
import { proxyUrlProperty, redactProxyUrl } from "./proxy-url.js";

/** Keys Beskar defines plus our own; anything else is a typo the user wants to hear about. */
const knownKeys = new Set([
  "mirror",
  "mirror_urls",
  "gpg_key",
  "sync_schedule",
  "sync_policy",
  "tls_ca",
  "tls_cert",
  "tls_key",
  "proxy_url",
  "metalink",
  "mirrorlist",
]);

/** PEM blocks the TLS properties must hold (upstream CA, client certificate, client key). */
const pemKinds: Record<string, RegExp> = {
  tls_ca: /-----BEGIN CERTIFICATE-----/,
  tls_cert: /-----BEGIN CERTIFICATE-----/,
  tls_key: /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/,
};

export const defaultProperties: RepositoryProperties = { mirror: false, mirror_urls: [], gpg_key: "" };

/**
 * Validates `properties` from a create/update request and merges it over `base`: only the fields
 * present change (Beskar's UpdateRepository). `gpg_key` arrives base64-encoded (Go's []byte in JSON).
 */
export function mergeProperties(base: RepositoryProperties, input: unknown): RepositoryProperties {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new YumError("INVALID_ARGUMENT", "properties: expected an object");
  }
  const merged: RepositoryProperties = { ...base };
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (!knownKeys.has(key)) throw new YumError("INVALID_ARGUMENT", `properties.${key}: unknown property`);
    if (value === null || value === undefined) continue;
    switch (key) {
      case "mirror":
        if (typeof value !== "boolean")
          throw new YumError("INVALID_ARGUMENT", "properties.mirror: expected a boolean");
        merged.mirror = value;
        break;
      case "mirror_urls":
        if (!Array.isArray(value) || value.some((u) => typeof u !== "string" || !isHttpUrl(u))) {
          throw new YumError("INVALID_ARGUMENT", "properties.mirror_urls: expected a list of http(s) URLs");
        }
        // A URL shown redacted by GET /repository and written back keeps its stored password.
        merged.mirror_urls = (value as string[]).map((u) =>
          keepStoredSecret(u, base.mirror_urls, "properties.mirror_urls"),
        );
        break;
      case "gpg_key":
        merged.gpg_key = decodeGpgKey(value);
        break;
      case "sync_policy":
        if (value !== "immediate" && value !== "on_demand") {
          throw new YumError(
            "INVALID_ARGUMENT",
            'properties.sync_policy: expected "immediate" or "on_demand"',
          );
        }
        merged.sync_policy = value;
        break;
      case "tls_ca":
      case "tls_cert":
      case "tls_key":
        if (typeof value !== "string" || (value !== "" && !pemKinds[key]!.test(value))) {
          throw new YumError("INVALID_ARGUMENT", `properties.${key}: expected PEM text`);
        }
        merged[key] = value;
        break;
      case "metalink":
      case "mirrorlist":
        // "" removes it.
        merged[key] =
          value === ""
            ? ""
            : keepStoredSecret(mirrorListUrl(key, value), [String(base[key] ?? "")], `properties.${key}`);
        break;
      case "proxy_url":
        // "" removes it (the HTTP(S)_PROXY of the processes applies again).
        merged.proxy_url = value === "" ? "" : proxyUrlProperty(value, base.proxy_url);
        break;
      case "sync_schedule":
        if (typeof value !== "string")
          throw new YumError("INVALID_ARGUMENT", "properties.sync_schedule: expected a cron string");
        merged.sync_schedule = value;
        break;
    }
  }
  if (merged.metalink && merged.mirrorlist) {
    throw new YumError(
      "INVALID_ARGUMENT",
      "properties: metalink and mirrorlist are both set; a repository syncs from one list of mirrors",
    );
  }
  // on_demand packages are fetched by the API when first asked for, from mirror_urls: the lists are
  // read by syncs only (a request should not wait for a metalink), so they are not enough alone.
  if (
    merged.sync_policy === "on_demand" &&
    merged.mirror_urls.length === 0 &&
    (merged.metalink || merged.mirrorlist)
  ) {
    throw new YumError(
      "INVALID_ARGUMENT",
      "properties.sync_policy: on_demand fetches packages from mirror_urls on their first request; set mirror_urls too (metalink and mirrorlist are read by syncs only)",
    );
  }
  return merged;
}

/**
 * A `metalink` or `mirrorlist` URL as users copy it from a .repo file: http(s), and with dnf's
 * variables substituted, since we sync one release and architecture and do not guess them.
 */
function mirrorListUrl(key: string, value: unknown): string {
  if (typeof value !== "string" || !isHttpUrl(value)) {
    throw new YumError("INVALID_ARGUMENT", `properties.${key}: expected an http(s) URL`);
  }
  const variable = /\$(\{?)([A-Za-z_][A-Za-z0-9_]*)/.exec(value);
  if (variable) {
    throw new YumError(
      "INVALID_ARGUMENT",
      `properties.${key}: the URL still contains the dnf variable $${variable[2]}: substitute it (e.g. $releasever → 9, $basearch → x86_64) before setting it`,
    );
  }
  return value;
}

/** Whether `value` is an http(s) URL, as mirror URLs must be. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** Accepts base64 of an armored key (what Beskar's clients send) or the armored text itself. */
function decodeGpgKey(value: unknown): string {
  if (typeof value !== "string")
    throw new YumError("REPO_BAD_GPG_KEY", "bad gpg key: expected a base64 string");
  if (value === "") return "";
  const text = value.includes("-----BEGIN PGP") ? value : Buffer.from(value, "base64").toString("utf8");
  if (!text.includes("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
    throw new YumError("REPO_BAD_GPG_KEY", "bad gpg key: not an armored OpenPGP public key");
  }
  return text;
}

/** The properties as the API returns them: `gpg_key` base64-encoded again, like Go's []byte. */
export function propertiesView(properties: RepositoryProperties): Record<string, unknown> {
  return {
    ...properties,
    gpg_key: properties.gpg_key ? Buffer.from(properties.gpg_key, "utf8").toString("base64") : "",
    // A private key is written, never read back.
    ...(properties.tls_key ? { tls_key: "(set)" } : {}),
    // Passwords in URLs are written, never read back: `***` instead (written back, it keeps them).
    mirror_urls: properties.mirror_urls.map(redactText),
    ...(typeof properties.proxy_url === "string" && properties.proxy_url
      ? { proxy_url: redactProxyUrl(properties.proxy_url) }
      : {}),
    ...(typeof properties.metalink === "string" ? { metalink: redactText(properties.metalink) } : {}),
    ...(typeof properties.mirrorlist === "string" ? { mirrorlist: redactText(properties.mirrorlist) } : {}),
  };
}
