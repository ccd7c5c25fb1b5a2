import type { RepositoryProperties } from "@beskar-yum/storage";
import type { ProxyOptions } from "./proxy.js";

/**
 * How a repository's upstream is reached: its own `proxy_url` when set (it wins), else the
 * HTTP(S)_PROXY / NO_PROXY settings the process read at startup (`config.proxy`).
 */
export function upstreamProxy(
  properties: RepositoryProperties,
  environment: Omit<ProxyOptions, "url"> | undefined,
): ProxyOptions | undefined {
  const own =
    typeof properties.proxy_url === "string" && properties.proxy_url !== ""
      ? properties.proxy_url
      : undefined;
  if (own) return { url: own };
  return environment && (environment.http || environment.https) ? { ...environment } : undefined;
}
