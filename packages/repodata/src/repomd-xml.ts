import { REPO_NS, RPM_NS, XML_DECLARATION } from "./metadata-kinds.js";
import type { RepomdChecksum, RepomdRecord, RepomdTags } from "./repomd-record.js";
import { escapeDocumentAttr as attr, escapeText as text } from "./xml-escape.js";

export interface RenderRepomdOptions {
  /** `<revision>`; createrepo_c uses the current unix time by default. */
  revision: number | string;
  records: RepomdRecord[];
  tags?: RepomdTags;
}

function checksum(name: string, c: RepomdChecksum): string {
  return `    <${name} type="${attr(c.type)}">${text(c.value)}</${name}>\n`;
}

function record(r: RepomdRecord): string {
  let s = `  <data type="${attr(r.type)}">\n`;
  s += checksum("checksum", r.checksum);
  if (r.openChecksum) s += checksum("open-checksum", r.openChecksum);
  if (r.headerChecksum) s += checksum("header-checksum", r.headerChecksum);
  const base = r.locationBase !== undefined ? ` xml:base="${attr(r.locationBase)}"` : "";
  s += `    <location href="${attr(r.location)}"${base}/>\n`;
  s += `    <timestamp>${r.timestamp}</timestamp>\n`;
  s += `    <size>${r.size}</size>\n`;
  if (r.openSize !== undefined) s += `    <open-size>${r.openSize}</open-size>\n`;
  if (r.headerChecksum && r.headerSize !== undefined) s += `    <header-size>${r.headerSize}</header-size>\n`;
  if (r.type.endsWith("_db")) s += `    <database_version>${r.databaseVersion ?? 10}</database_version>\n`;
  return `${s}  </data>\n`;
}

function tags(t: RepomdTags | undefined): string {
  const content = t?.content ?? [];
  const repo = t?.repo ?? [];
  const distro = t?.distro ?? [];
  if (content.length + repo.length + distro.length === 0) return "";
  let s = "  <tags>\n";
  for (const c of content) s += `    <content>${text(c)}</content>\n`;
  for (const r of repo) s += `    <repo>${text(r)}</repo>\n`;
  for (const d of distro) {
    const cpeid = d.cpeid !== undefined ? ` cpeid="${attr(d.cpeid)}"` : "";
    s += `    <distro${cpeid}>${text(d.name)}</distro>\n`;
  }
  return `${s}  </tags>\n`;
}

/** repomd.xml laid out as createrepo_c writes it (records in the given order). */
export function renderRepomd(opts: RenderRepomdOptions): string {
  let s = `${XML_DECLARATION}<repomd xmlns="${REPO_NS}" xmlns:rpm="${RPM_NS}">\n`;
  s += `  <revision>${text(String(opts.revision))}</revision>\n`;
  s += tags(opts.tags);
  for (const r of opts.records) s += record(r);
  return `${s}</repomd>\n`;
}
