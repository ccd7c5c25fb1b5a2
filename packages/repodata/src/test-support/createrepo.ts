import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { XMLParser } from "fast-xml-parser";
import { runTool } from "../../../rpm/src/test-support/run-tool.js";
import type { MetadataKind } from "../metadata-kinds.js";
import type { PackageLocation } from "../package-location.js";

export type OpenMetadata = Record<MetadataKind, string> & { repomd: string };

/** Reads `<dir>/repodata`: repomd.xml and the uncompressed primary/filelists/other documents. */
export function readRepodata(dir: string): OpenMetadata {
  const files = readdirSync(join(dir, "repodata"));
  const load = (kind: string) => {
    const file = files.find((f) => f.endsWith(`-${kind}.xml.gz`));
    if (!file) throw new Error(`no ${kind}.xml.gz in ${dir}/repodata`);
    return gunzipSync(readFileSync(join(dir, "repodata", file))).toString("utf8");
  };
  return {
    primary: load("primary"),
    filelists: load("filelists"),
    other: load("other"),
    repomd: readFileSync(join(dir, "repodata", "repomd.xml"), "utf8"),
  };
}

/** Runs `createrepo_c --no-database` on `dir` and returns what it wrote. */
export function createrepo(dir: string, extraArgs: string[] = []): OpenMetadata {
  runTool("createrepo_c", ["--no-database", "--quiet", ...extraArgs, dir]);
  return readRepodata(dir);
}

/** The `<package ...>...</package>\n` fragments of a metadata document, in document order. */
export function packageFragments(xml: string): string[] {
  return xml.match(/<package [^>]*>[\s\S]*?\n<\/package>\n/g) ?? [];
}

/** pkgid of a fragment (primary: the checksum text; filelists/other: the attribute). */
export function fragmentPkgid(fragment: string): string {
  const m =
    fragment.match(/pkgid="([0-9a-f]+)"/) ??
    fragment.match(/<checksum type="[^"]+" pkgid="YES">([0-9a-f]+)</);
  if (!m) throw new Error(`no pkgid in ${fragment.slice(0, 200)}`);
  return m[1]!;
}

/** The location createrepo_c computes for a file: sha256 of the file, its size and mtime. */
export function locationOf(path: string, href: string): PackageLocation {
  const bytes = readFileSync(path);
  const st = statSync(path);
  return {
    href,
    pkgid: createHash("sha256").update(bytes).digest("hex"),
    checksumType: "sha256",
    fileSize: st.size,
    fileTime: Math.floor(st.mtimeMs / 1000),
  };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  isArray: (name) => ["package", "rpm:entry", "file", "changelog"].includes(name),
});

/** A metadata document parsed into plain objects: root attributes plus packages keyed by pkgid. */
export function parseMetadata(xml: string): {
  root: Record<string, unknown>;
  packages: Map<string, Record<string, unknown>>;
} {
  const doc = parser.parse(xml) as Record<string, Record<string, unknown>>;
  const rootName = Object.keys(doc).find((k) => k !== "?xml")!;
  const root = doc[rootName]!;
  const packages = new Map<string, Record<string, unknown>>();
  for (const p of (root.package as Record<string, unknown>[] | undefined) ?? []) {
    const checksum = p.checksum as Record<string, string> | undefined;
    const id = (p["@pkgid"] as string | undefined) ?? checksum?.["#text"];
    packages.set(id!, p);
  }
  const { package: _packages, ...attrs } = root;
  return { root: attrs, packages };
}
