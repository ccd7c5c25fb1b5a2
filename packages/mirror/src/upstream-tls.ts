import type { RepositoryProperties } from "@beskar-yum/storage";

/** A repository's upstream TLS settings (`tls_ca`, `tls_cert`, `tls_key` properties), when any is set. */
export function upstreamTls(
  properties: RepositoryProperties,
): { ca?: string; cert?: string; key?: string } | undefined {
  const pick = (key: string) =>
    typeof properties[key] === "string" && properties[key] !== "" ? (properties[key] as string) : undefined;
  const tls = { ca: pick("tls_ca"), cert: pick("tls_cert"), key: pick("tls_key") };
  if (!tls.ca && !tls.cert && !tls.key) return undefined;
  return Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined));
}
