import { YumError } from "@beskar-yum/errors";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { Repomd, RepomdChecksum, RepomdRecord, RepomdTags } from "./repomd-record.js";
import { checkXmlText } from "./safe-xml.js";
import { unescapeXml } from "./xml-unescape.js";

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  textNodeName: "#text",
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name) => name === "data" || name === "content" || name === "repo" || name === "distro",
});

function invalid(message: string, details: Record<string, unknown> = {}): YumError {
  return new YumError("REPODATA_INVALID", `repomd.xml: ${message}`, details);
}

function isNode(v: unknown): v is Node {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Text content of an element (a bare string, or `#text` when it has attributes). */
function textOf(v: unknown, where: string): string {
  const raw = isNode(v) ? v["#text"] : v;
  if (raw === undefined || raw === "") return "";
  if (typeof raw !== "string") throw invalid(`${where}: expected text`);
  const value = unescapeXml(raw);
  if (value === undefined)
    throw invalid(`${where}: unknown entity or forbidden character reference in "${raw.slice(0, 80)}"`);
  return value;
}

function attrOf(v: unknown, name: string, where: string): string | undefined {
  if (!isNode(v)) return undefined;
  const raw = v[`@_${name}`];
  if (raw === undefined) return undefined;
  if (typeof raw !== "string") throw invalid(`${where}: attribute ${name}: expected text`);
  const value = unescapeXml(raw);
  if (value === undefined)
    throw invalid(`${where}: attribute ${name}: unknown entity in "${raw.slice(0, 80)}"`);
  return value;
}

function single(node: Node, name: string, where: string): unknown {
  const v = node[name];
  if (Array.isArray(v)) throw invalid(`${where}: more than one <${name}>`);
  return v;
}

function integer(node: Node, name: string, where: string, required: true): number;
function integer(node: Node, name: string, where: string, required: false): number | undefined;
function integer(node: Node, name: string, where: string, required: boolean): number | undefined {
  const v = single(node, name, where);
  if (v === undefined) {
    if (required) throw invalid(`${where}: missing <${name}>`);
    return undefined;
  }
  const s = textOf(v, `${where} <${name}>`);
  if (!/^[0-9]{1,15}$/.test(s))
    throw invalid(`${where} <${name}>: expected a non-negative integer, got "${s.slice(0, 40)}"`);
  return Number(s);
}

function checksum(node: Node, name: string, where: string, required: boolean): RepomdChecksum | undefined {
  const v = single(node, name, where);
  if (v === undefined) {
    if (required) throw invalid(`${where}: missing <${name}>`);
    return undefined;
  }
  const type = attrOf(v, "type", `${where} <${name}>`);
  if (!type) throw invalid(`${where} <${name}>: missing type attribute`);
  const value = textOf(v, `${where} <${name}>`).toLowerCase();
  if (!/^[0-9a-f]{8,128}$/.test(value))
    throw invalid(`${where} <${name}>: expected a hex digest, got "${value.slice(0, 80)}"`);
  return { type: type === "sha" ? "sha1" : type, value };
}

function record(v: unknown, index: number): RepomdRecord {
  if (!isNode(v)) throw invalid(`<data> #${index + 1}: expected an element with children`);
  const type = attrOf(v, "type", `<data> #${index + 1}`);
  if (!type) throw invalid(`<data> #${index + 1}: missing type attribute`);
  const where = `<data type="${type}">`;
  const location = single(v, "location", where);
  const href = attrOf(location, "href", `${where} <location>`);
  if (!href) throw invalid(`${where}: missing <location href>`);
  if (href.startsWith("/") || href.split("/").includes(".."))
    throw invalid(`${where}: unsafe location href "${href}"`);
  const rec: RepomdRecord = {
    type,
    checksum: checksum(v, "checksum", where, true)!,
    location: href,
    timestamp: integer(v, "timestamp", where, true),
    size: integer(v, "size", where, true),
  };
  const base = attrOf(location, "xml:base", `${where} <location>`);
  if (base !== undefined) rec.locationBase = base;
  const open = checksum(v, "open-checksum", where, false);
  if (open) rec.openChecksum = open;
  const header = checksum(v, "header-checksum", where, false);
  if (header) rec.headerChecksum = header;
  const openSize = integer(v, "open-size", where, false);
  if (openSize !== undefined) rec.openSize = openSize;
  const headerSize = integer(v, "header-size", where, false);
  if (headerSize !== undefined) rec.headerSize = headerSize;
  const dbVersion = integer(v, "database_version", where, false);
  if (dbVersion !== undefined) rec.databaseVersion = dbVersion;
  return rec;
}

function parseTags(v: unknown): RepomdTags | undefined {
  if (!isNode(v)) return undefined;
  const tags: RepomdTags = {};
  const list = (name: string) => (Array.isArray(v[name]) ? (v[name] as unknown[]) : []);
  const content = list("content").map((c) => textOf(c, "<tags> <content>"));
  const repo = list("repo").map((c) => textOf(c, "<tags> <repo>"));
  const distro = list("distro").map((d) => {
    const cpeid = attrOf(d, "cpeid", "<tags> <distro>");
    const name = textOf(d, "<tags> <distro>");
    return cpeid === undefined ? { name } : { cpeid, name };
  });
  if (content.length) tags.content = content;
  if (repo.length) tags.repo = repo;
  if (distro.length) tags.distro = distro;
  return tags;
}

/**
 * Parses repomd.xml with entity processing off (no DTD loaded, no entity declared) and validates
 * every record. Throws REPODATA_INVALID naming the element at fault.
 */
export function parseRepomd(xml: string): Repomd {
  // The shared DOCTYPE rule (and well-formedness) first: fast-xml-parser below never sees an entity declaration.
  checkXmlText(xml, "repomd.xml");
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw invalid(`not well-formed XML: ${msg} (line ${line}, column ${col})`, { line, column: col });
  }
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (err) {
    throw invalid(`cannot parse: ${(err as Error).message}`);
  }
  const root = isNode(doc) ? doc.repomd : undefined;
  if (!isNode(root)) throw invalid("root element is not <repomd>");
  const revisionNode = single(root, "revision", "<repomd>");
  const data = root.data;
  const records = (Array.isArray(data) ? data : []).map(record);
  const seen = new Set<string>();
  for (const r of records) {
    if (seen.has(r.type)) throw invalid(`duplicate <data type="${r.type}">`);
    seen.add(r.type);
  }
  const result: Repomd = { records };
  if (revisionNode !== undefined) result.revision = textOf(revisionNode, "<revision>");
  const tags = parseTags(root.tags);
  if (tags && Object.keys(tags).length) result.tags = tags;
  return result;
}
