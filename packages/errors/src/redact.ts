import { YumError } from "./yum-error.js";

/**
 * The one place secrets are hidden before anything is shown: API responses (`errorBody`, repository
 * properties), repository logs and sync errors (the index stores them redacted), process logs (pino
 * `streamWrite` hook and `url` serializer of the API and the worker) and configuration errors.
 *
 * - a URL's password becomes `***` (`https://user:***@host/`); a user alone, which may be a token,
 *   becomes `***` (`https://***@host/`);
 * - the value of a credential-like query parameter (`access_token`, `token`, `password`, ...) becomes
 *   `***`, and the value of any other parameter is redacted as text (a `mirror_url=` in a query);
 * - `Bearer <token>` becomes `Bearer ***`.
 */
export const REDACTED = "***";

const urlUserinfo = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#"'<>\\]*)@/gi;
const queryParameter = /([?&])([^=&#\s"'<>]+)=([^&#\s"'<>]*)/g;
const bearer = /\b(Bearer\s+)[A-Za-z0-9._~+/-]{8,}=*/g;
const secretParameter = /token|passw|secret|key|auth|credential|signature|^sig$/i;

function redactUserinfo(_match: string, scheme: string, userinfo: string): string {
  const colon = userinfo.indexOf(":");
  return colon >= 0 ? `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@` : `${scheme}${REDACTED}@`;
}

function redactParameter(_match: string, separator: string, name: string, value: string): string {
  if (secretParameter.test(name)) return `${separator}${name}=${value === "" ? "" : REDACTED}`;
  if (!value.includes("%")) return `${separator}${name}=${value}`;
  let decoded: string;
  try {
    decoded = decodeURIComponent(value.replaceAll("+", " "));
  } catch {
    return `${separator}${name}=${value}`;
  }
  const redacted = redactText(decoded);
  return `${separator}${name}=${redacted === decoded ? value : encodeURIComponent(redacted)}`;
}

/** `text` (a message, a log line, a URL) with every secret it shows replaced by `***`. */
export function redactText(text: string): string {
  if (!text) return text;
  return text
    .replace(urlUserinfo, redactUserinfo)
    .replace(queryParameter, redactParameter)
    .replace(bearer, `$1${REDACTED}`);
}

/** One URL (possibly without its scheme, as `HTTP_PROXY=user:pass@proxy:3128` often is), redacted. */
export function redactUrl(raw: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return redactText(raw);
  return redactText(`x://${raw}`).slice("x://".length);
}

/** A request URL (path and query) as logs show it: credential-like parameters hidden. */
export function redactRequestUrl(url: unknown): unknown {
  return typeof url === "string" ? redactText(url) : url;
}

/** Whether `url` is one that `redactText` produced: its password (or its user alone) is `***`. */
export function isRedactedUrl(url: string): boolean {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(url);
  if (!match) return false;
  const userinfo = match[1]!;
  const colon = userinfo.indexOf(":");
  const secret = colon >= 0 ? userinfo.slice(colon + 1) : userinfo;
  return secret === REDACTED || secret === "%2A%2A%2A";
}

/** The same URL once both are normalised (`http://h:1` and `http://h:1/`), else the same text. */
function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}

/**
 * A URL property as written by a client that read it back redacted: a URL whose secret is the `***`
 * shown by `GET /repository` stands for the stored URL it was shown for (same everything else), so
 * that reading properties and writing them back keeps the password. Any other URL is taken as it is.
 * @param stored the URLs stored for this property now
 * @throws YumError `INVALID_ARGUMENT` naming `what` (never the URL) when no stored URL matches.
 */
export function keepStoredSecret(url: string, stored: Iterable<string>, what: string): string {
  if (!isRedactedUrl(url)) return url;
  for (const candidate of stored) {
    const shown = redactText(candidate);
    if (isRedactedUrl(shown) && sameUrl(shown, url)) return candidate;
  }
  throw new YumError(
    "INVALID_ARGUMENT",
    `${what}: the password is the redacted ${REDACTED} of GET /repository and no stored URL matches the rest of it; send the real one`,
  );
}
