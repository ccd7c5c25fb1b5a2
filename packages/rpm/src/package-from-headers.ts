import { collectChangelogs, DEFAULT_CHANGELOG_LIMIT } from "./changelogs.js";
import { collectDependencies, dependencyKinds, type RawDependency } from "./dependencies.js";
import { collectFiles, fileNameLists } from "./files.js";
import type { RpmHeader } from "./header-reader.js";
import { decodeHeaderText, forbiddenControlChar } from "./header-text.js";
import { type ParseContext, rpmError } from "./parse-context.js";
import { describePgpSignature, parsePgpSignature } from "./pgp-signature-info.js";
import type { RpmDependency, RpmPackage, RpmSignatureSummary } from "./rpm-package.js";
import { headerSignatures, payloadSignatures } from "./signature-header.js";
import { SigTag, Tag } from "./tags.js";

export interface PackageOptions {
  /** Changelog entries to keep, newest first (createrepo_c's `--changelog-limit`); -1 keeps all. Default 10. */
  changelogLimit?: number;
}

/**
 * Builds the package description createrepo_c would compute from these headers. Packages
 * createrepo_c refuses (control characters other than TAB/LF/CR in any written field) are
 * rejected with RPM_BAD_HEADER.
 */
export function packageFromHeaders(
  main: RpmHeader,
  sig: RpmHeader,
  ctx: ParseContext,
  opts: PackageOptions = {},
): RpmPackage {
  const text = (binary: string | undefined, what: string, tag?: number): string => {
    if (binary === undefined) return "";
    const at = forbiddenControlChar(binary);
    if (at >= 0) {
      const code = binary.charCodeAt(at).toString(16).padStart(2, "0");
      throw rpmError(
        "RPM_BAD_HEADER",
        ctx,
        `${what} contains control character 0x${code} at position ${at}; createrepo_c refuses such packages`,
        { tag, offset: tag === undefined ? undefined : main.dataOffset(tag) },
      );
    }
    return decodeHeaderText(binary);
  };
  const field = (tag: number) => text(main.string(tag), `tag ${main.tagName(tag)}`, tag);
  const required = (tag: number): string => {
    const value = main.string(tag);
    if (value === undefined) {
      throw rpmError(
        "RPM_MISSING_TAG",
        ctx,
        `main header at offset ${main.start} has no tag ${main.tagName(tag)}`,
        {
          tag,
          offset: main.start,
        },
      );
    }
    return field(tag);
  };

  const name = required(Tag.NAME);
  const version = required(Tag.VERSION);
  const release = required(Tag.RELEASE);

  const rawFiles = collectFiles(main);
  // rpm's applyRetrofits: a header with neither SOURCERPM nor SOURCEPACKAGE is a source
  // package when all its files sit in one unnamed directory.
  let isSource = (main.number(Tag.SOURCEPACKAGE) ?? 0) !== 0;
  let sourceRpm = main.string(Tag.SOURCERPM);
  if (sourceRpm === undefined && !main.has(Tag.SOURCEPACKAGE)) {
    const dirs = main.strings(Tag.DIRNAMES) ?? fileNameLists(main)?.dirs;
    if (dirs?.length === 1 && dirs[0] === "") isSource = true;
    else sourceRpm = "(none)";
  }
  const arch = isSource ? "src" : required(Tag.ARCH);

  const paths = new Set(rawFiles.map((f) => f.path));
  const rawDeps = collectDependencies(main, paths);
  const deps = {} as Record<(typeof dependencyKinds)[number], RpmDependency[]>;
  for (const kind of dependencyKinds) {
    deps[kind] = rawDeps[kind].map((d) => decodeDependency(d, `${kind} entry`, text));
  }

  const changelogs = collectChangelogs(main, opts.changelogLimit ?? DEFAULT_CHANGELOG_LIMIT).map((c) => ({
    author: text(c.author, "changelog author", Tag.CHANGELOGNAME),
    date: c.date,
    text: text(c.text, "changelog text", Tag.CHANGELOGTEXT),
  }));

  const longArchive = main.number(Tag.LONGARCHIVESIZE) ?? sig.number(SigTag.LONGARCHIVESIZE);
  const archiveSize = longArchive ?? main.number(Tag.ARCHIVESIZE) ?? sig.number(SigTag.PAYLOADSIZE) ?? 0;

  return {
    name,
    epoch: main.number(Tag.EPOCH) ?? 0,
    version,
    release,
    arch,
    isSource,
    summary: field(Tag.SUMMARY),
    description: field(Tag.DESCRIPTION),
    url: field(Tag.URL),
    license: field(Tag.LICENSE),
    vendor: field(Tag.VENDOR),
    group: field(Tag.GROUP),
    buildhost: field(Tag.BUILDHOST),
    sourceRpm: text(sourceRpm, `tag ${main.tagName(Tag.SOURCERPM)}`, Tag.SOURCERPM),
    packager: field(Tag.PACKAGER),
    buildTime: main.number(Tag.BUILDTIME) ?? 0,
    installedSize: main.number(Tag.LONGSIZE) ?? main.number(Tag.SIZE) ?? 0,
    archiveSize,
    headerStart: main.start,
    headerEnd: main.end,
    ...deps,
    files: rawFiles.map((f) => ({ path: text(f.path, "file name", Tag.BASENAMES), type: f.type })),
    changelogs,
    signature: signatureSummary(sig),
  };
}

function decodeDependency(
  d: RawDependency,
  what: string,
  text: (binary: string | undefined, what: string) => string,
): RpmDependency {
  const out: RpmDependency = { name: text(d.name, what) };
  if (d.flags) out.flags = d.flags;
  if (d.epoch !== undefined) out.epoch = text(d.epoch, `${what} epoch`);
  if (d.version !== undefined) out.version = text(d.version, `${what} version`);
  if (d.release !== undefined) out.release = text(d.release, `${what} release`);
  if (d.pre) out.pre = true;
  return out;
}

/** The signature `rpm -qi` would show (OpenPGP v6, DSA/RSA header, then GPG/PGP header+payload). */
function signatureSummary(sig: RpmHeader): RpmSignatureSummary {
  for (const { packet } of [...headerSignatures(sig), ...payloadSignatures(sig)]) {
    const info = parsePgpSignature(packet);
    if (!info) continue;
    const summary: RpmSignatureSummary = { description: describePgpSignature(info) };
    if (info.keyId) summary.keyId = info.keyId;
    return summary;
  }
  return {};
}
