import { gunzipSync } from "node:zlib";
import { parseRepomd } from "@beskar-yum/repodata";
import { XMLParser } from "fast-xml-parser";

export interface PrimaryPackage {
  name: string;
  arch: string;
  pkgid: string;
  href: string;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  processEntities: false,
  isArray: (n) => n === "package",
});

/** Reads a repository's repomd.xml and primary.xml over HTTP, as dnf would. */
export async function fetchPrimary(
  repoUrl: string,
): Promise<{ revision: string | undefined; packages: PrimaryPackage[] }> {
  const repomdResponse = await fetch(`${repoUrl}repodata/repomd.xml`);
  if (repomdResponse.status !== 200) throw new Error(`repomd.xml: HTTP ${repomdResponse.status}`);
  const repomd = parseRepomd(await repomdResponse.text());
  const primary = repomd.records.find((r) => r.type === "primary");
  if (!primary) throw new Error("repomd.xml has no primary");
  const response = await fetch(`${repoUrl}${primary.location}`);
  if (response.status !== 200) throw new Error(`${primary.location}: HTTP ${response.status}`);
  const xml = gunzipSync(Buffer.from(await response.arrayBuffer())).toString("utf8");
  const doc = parser.parse(xml) as { metadata: { package?: any[]; packages: string } };
  const packages = (doc.metadata.package ?? []).map((p) => ({
    name: String(p.name),
    arch: String(p.arch),
    pkgid: String(p.checksum["#text"]),
    href: String(p.location.href),
  }));
  if (Number(doc.metadata.packages) !== packages.length) {
    throw new Error(`primary.xml says packages="${doc.metadata.packages}" but lists ${packages.length}`);
  }
  return { revision: repomd.revision, packages };
}

/** Fetches repomd.xml and then every file it lists; returns the paths that were not 200. */
export async function missingRepodataFiles(repoUrl: string): Promise<string[]> {
  const repomdResponse = await fetch(`${repoUrl}repodata/repomd.xml`);
  if (repomdResponse.status === 404) return [];
  const repomd = parseRepomd(await repomdResponse.text());
  const missing: string[] = [];
  for (const record of repomd.records) {
    const response = await fetch(`${repoUrl}${record.location}`);
    await response.arrayBuffer();
    if (response.status !== 200) missing.push(`${record.location} (HTTP ${response.status})`);
  }
  return missing;
}
