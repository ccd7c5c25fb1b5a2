import { createHash } from "node:crypto";
import { YumError } from "@beskar-yum/errors";
import { walkXml } from "@beskar-yum/repodata";

/** A file's size and hashes as a metalink gives them (of repomd.xml). */
export interface MetalinkFile {
  size?: number;
  /** Hash type (`sha512`, `sha256`, `sha1`, `md5`) → lowercase hex. */
  hashes: Record<string, string>;
}

export interface Metalink {
  /** Mirror base URLs (the URL without `/repodata/repomd.xml`), best first. */
  mirrors: string[];
  /** What repomd.xml must be, when the metalink says. */
  repomd?: MetalinkFile;
  /**
   * Older repomd.xml versions MirrorManager still accepts (`<mm0:alternates>`): a mirror a little
   * behind is good enough for dnf (librepo accepts them too), as long as it is not older than what we serve.
   */
  alternates: MetalinkFile[];
}

/** Hash types we can check, strongest first; metalink 4 writes `sha-256`. */
const knownHashes = ["sha512", "sha256", "sha1", "md5"];
const maxMirrors = 1000;
const repomdSuffix = /\/repodata\/repomd\.xml$/;

interface Candidate {
  url: string;
  /** Higher is better. */
  rank: number;
  order: number;
}

/**
 * Parses a metalink (3.0, as Fedora's MirrorManager serves, or RFC 5854's 4.0) through the safe
 * streaming parser. Mirrors are the http(s) `<url>`s of `<file name="repomd.xml">`, ranked by
 * `preference` (3.0: higher first) or `priority` (4.0: lower first), document order breaking ties.
 */
export async function parseMetalink(text: string, name = "metalink"): Promise<Metalink> {
  const candidates: Candidate[] = [];
  const repomd: MetalinkFile = { hashes: {} };
  const alternates: MetalinkFile[] = [];
  let inRepomd = false;
  let sawRepomd = false;
  let alternate: MetalinkFile | undefined;
  let hashType: string | undefined;
  let url: { rank: number; protocol?: string } | undefined;
  const local = (element: string) => element.slice(element.indexOf(":") + 1);
  await walkXml([text], name, {
    open: (path, attrs) => {
      const element = local(path.at(-1)!);
      if (element === "file") {
        inRepomd = attrs.name === "repomd.xml";
        sawRepomd ||= inRepomd;
      } else if (!inRepomd) return;
      else if (element === "alternate") alternate = { hashes: {} };
      else if (element === "hash") hashType = attrs.type?.toLowerCase().replace("-", "");
      else if (element === "url") {
        const preference = Number(attrs.preference);
        const priority = Number(attrs.priority);
        url = {
          rank: Number.isFinite(preference) ? preference : Number.isFinite(priority) ? -priority : 0,
          ...(attrs.protocol !== undefined ? { protocol: attrs.protocol.toLowerCase() } : {}),
        };
      }
    },
    close: (path, text) => {
      if (!inRepomd) return;
      const element = local(path.at(-1)!);
      const target = alternate ?? repomd;
      if (element === "file") inRepomd = false;
      else if (element === "alternate") {
        if (alternate) alternates.push(alternate);
        alternate = undefined;
      } else if (element === "size") {
        const size = Number(text.trim());
        if (!Number.isSafeInteger(size) || size < 0)
          throw new Error(`<size>: integer expected, got ${text.trim()}`);
        target.size = size;
      } else if (element === "hash" && hashType && knownHashes.includes(hashType)) {
        const value = text.trim().toLowerCase();
        if (!/^[0-9a-f]+$/.test(value)) throw new Error(`<hash type="${hashType}">: hex digest expected`);
        target.hashes[hashType] = value;
      } else if (element === "url" && url) {
        const href = text.trim();
        if (url.protocol === undefined || url.protocol === "http" || url.protocol === "https") {
          if (/^https?:\/\//i.test(href) && candidates.length < maxMirrors)
            candidates.push({ url: href, rank: url.rank, order: candidates.length });
        }
        url = undefined;
      }
    },
  });
  if (!sawRepomd) throw new YumError("METALINK_INVALID", `${name}: no <file name="repomd.xml">`);
  const mirrors = candidates
    .sort((a, b) => b.rank - a.rank || a.order - b.order)
    .map((c) => c.url.replace(repomdSuffix, "/"));
  if (mirrors.length === 0) throw new YumError("METALINK_INVALID", `${name}: lists no http(s) mirror`);
  const described = repomd.size !== undefined || Object.keys(repomd.hashes).length > 0;
  return { mirrors: [...new Set(mirrors)], ...(described ? { repomd } : {}), alternates };
}

/**
 * Whether `data` is the file `expected` describes: its size (when given) and every hash we know
 * how to compute. A file described by nothing we can check matches (there is nothing to refuse it on).
 */
export function matchesMetalinkFile(data: Buffer, expected: MetalinkFile): boolean {
  if (expected.size !== undefined && data.length !== expected.size) return false;
  return Object.entries(expected.hashes).every(
    ([type, value]) => createHash(type).update(data).digest("hex") === value,
  );
}

/** Why `data` matches neither the metalink's repomd.xml nor one of its alternates, or undefined. */
export function metalinkMismatch(data: Buffer, metalink: Metalink): string | undefined {
  if (!metalink.repomd) return undefined;
  if (matchesMetalinkFile(data, metalink.repomd)) return undefined;
  if (metalink.alternates.some((a) => matchesMetalinkFile(data, a))) return undefined;
  const strongest = knownHashes.find((t) => metalink.repomd!.hashes[t] !== undefined);
  const got = strongest ? `${strongest} ${createHash(strongest).update(data).digest("hex")}` : "";
  return `repomd.xml (${data.length} bytes${got ? `, ${got}` : ""}) does not match the metalink (${
    metalink.repomd.size ?? "?"
  } bytes${strongest ? `, ${strongest} ${metalink.repomd.hashes[strongest]}` : ""})`;
}
