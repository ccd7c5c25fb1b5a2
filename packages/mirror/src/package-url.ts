import { YumError } from "@beskar-yum/errors";
import { assertSafeHref, redact } from "./mirror-url.js";

/**
 * Where a file upstream lists under `<location xml:base>` is: `href` under `base`, resolved as a
 * URL. As librepo does, the base is a directory (a "/" is added when it lacks one). The base must be
 * http(s) and carry no credentials (upstream's metadata does not get to make us send any); `href`
 * follows the rules of every href (`assertSafeHref`: relative, plain segments), so the result stays
 * under the base. Throws UPSTREAM_BAD_HREF naming `what`.
 */
export function packageUrl(base: string, href: string, what: string): URL {
  assertSafeHref(href, what);
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw badBase(base, what, "is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw badBase(base, what, "is not http(s)");
  if (url.username || url.password) throw badBase(base, what, "carries credentials");
  url.search = "";
  url.hash = "";
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return new URL(href, url);
}

function badBase(base: string, what: string, why: string): YumError {
  return new YumError(
    "UPSTREAM_BAD_HREF",
    `${what}: refusing xml:base ${JSON.stringify(redact(base).slice(0, 200))}: it ${why}`,
  );
}
