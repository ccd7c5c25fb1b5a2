import type { IncomingHttpHeaders } from "node:http";

/**
 * `http.accel_redirect` (README "Behind nginx"): a front nginx sends the bytes of stored files with
 * `sendfile`, we only decide what is served. The front declares, on each request it proxies, that it
 * can do this and where our datadir is in its internal locations (the convention of Rack::Sendfile):
 *
 *   proxy_set_header X-Sendfile-Type X-Accel-Redirect;
 *   proxy_set_header X-Accel-Mapping /var/lib/beskar-yum/=/_beskar_yum_files/;
 *
 * A request without these headers (a client talking to us directly, a health check) gets the body as
 * always, so turning the setting on can never leave a client with an empty response. The answer to a
 * request with them carries `X-Accel-Redirect: /_beskar_yum_files/<path in the datadir>` and no body;
 * nginx serves that internal location itself, ranges and all.
 *
 * Only files of `http.accel_redirect_min_bytes` (1 MiB) or more: nginx 1.22 closes its connection to
 * us after every X-Accel-Redirect answer, and for a small file a new connection per request costs
 * more than the bytes it saves (measured in the serving benchmark); smaller ones go through the proxy
 * from our memory, on kept-alive connections.
 */
/** `http.accel_redirect` on: files of at least `minBytes` are left to the front (`http.accel_redirect_min_bytes`). */
export interface AccelRedirect {
  minBytes: number;
}

/**
 * The X-Accel-Redirect target for a stored `file` of `size` bytes, when the setting is on, the file
 * is large enough and the front asked for it; else undefined (the body is ours to send).
 */
export function accelRedirectFor(
  policy: AccelRedirect | undefined,
  headers: IncomingHttpHeaders,
  file: string | undefined,
  size: number,
): string | undefined {
  if (policy === undefined || file === undefined || size < policy.minBytes) return undefined;
  return accelRedirectTarget(headers, file);
}

export function accelRedirectTarget(headers: IncomingHttpHeaders, file: string): string | undefined {
  if (headers["x-sendfile-type"] !== "X-Accel-Redirect") return undefined;
  const mapping = headers["x-accel-mapping"];
  if (typeof mapping !== "string") return undefined;
  for (const pair of mapping.split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    const root = pair.slice(0, at).trim();
    const location = pair.slice(at + 1).trim();
    // Only a file under the mapped directory, with a separator after it (`/data` must not map `/data2`).
    if (!location.startsWith("/") || !root.endsWith("/") || !file.startsWith(root)) continue;
    const rest = file.slice(root.length);
    if (rest.split("/").some((segment) => segment === ".." || segment === "")) continue;
    return `${location.endsWith("/") ? location : `${location}/`}${rest.split("/").map(encodeURIComponent).join("/")}`;
  }
  return undefined;
}
