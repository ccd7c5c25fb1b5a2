import { YumError } from "@beskar-yum/errors";
import type { PackageTransform, Repomd, RepomdRecord, RewriteSummary } from "@beskar-yum/repodata";
import type { FsBlobStore } from "@beskar-yum/storage";
import { openMetadata } from "./decompress.js";
import { assertSafeHref } from "./mirror-url.js";
import { packageUrl } from "./package-url.js";
import { rewrittenPrimary } from "./rewritten-primary.js";

/** Upstream's repodata once its primary.xml is rewritten: the records to serve and their blobs. */
export interface RewrittenRepomd {
  repomd: Repomd;
  /** The stored blob of each record of `repomd`. */
  digests: Map<RepomdRecord, string>;
  /** Types of upstream's records left out (sqlite databases, zchunk primary). */
  dropped: string[];
  summary: RewriteSummary;
}

export interface RewrittenRepomdOptions {
  /** Upstream's repomd.xml and the stored blob of each data file it lists. */
  repomd: Repomd;
  digests: Map<RepomdRecord, string>;
  blobs: FsBlobStore;
  transform: PackageTransform;
  signal?: AbortSignal | undefined;
}

/**
 * Records that say where packages are, besides primary.xml, in a form we do not rewrite: the
 * sqlite databases (`location_base` column; dnf does not read them, yum did) and zchunk's copy of
 * primary.xml (which dnf would prefer to ours). They are left out rather than served stale.
 */
function carriesLocations(type: string): boolean {
  return type.endsWith("_db") || type === "primary_zck";
}

/**
 * The reusable metadata rewriting step of a mirror: upstream's primary.xml goes through
 * `transform` (`rewrittenPrimary`, streamed and byte-faithful except for what the transform
 * changes), and the repomd.xml to serve lists it in place of upstream's, keeps filelists, other,
 * comps, updateinfo, modules, ... as they are (they carry no locations; their `xml:base`, if any,
 * is dropped as they are served from here too), and leaves out the records `carriesLocations`
 * names. Used for packages under `xml:base`; include/exclude filters are meant to reuse it with a
 * transform that drops packages (see `PackageTransform`).
 */
export async function rewrittenRepomd(options: RewrittenRepomdOptions): Promise<RewrittenRepomd> {
  const { repomd, digests, blobs } = options;
  const primary = repomd.records.find((r) => r.type === "primary");
  if (!primary) throw new YumError("REPODATA_INVALID", "repomd.xml lists no primary metadata");
  const rewritten = await rewrittenPrimary({
    open: () => openMetadata(blobs.pathOf(digests.get(primary)!), primary.location, primary),
    transform: options.transform,
    blobs,
    timestamp: primary.timestamp,
    signal: options.signal,
  });
  const records: RepomdRecord[] = [];
  const served = new Map<RepomdRecord, string>();
  const dropped: string[] = [];
  for (const record of repomd.records) {
    if (record === primary) {
      records.push(rewritten.record);
      served.set(rewritten.record, rewritten.digest);
    } else if (carriesLocations(record.type)) {
      dropped.push(record.type);
    } else {
      records.push(record);
      served.set(record, digests.get(record)!);
    }
  }
  return {
    repomd: { ...repomd, records },
    digests: served,
    dropped,
    summary: rewritten.summary,
  };
}

/**
 * The transform for packages under `xml:base`: the base goes (we serve them), the href stays. The
 * rules of every href and base apply (UPSTREAM_BAD_HREF), so this step refuses what the sync would.
 */
export const dropXmlBase: PackageTransform = (pkg) => {
  const what = `primary.xml (${pkg.name})`;
  if (pkg.base === undefined) {
    assertSafeHref(pkg.href, what);
    return "keep";
  }
  packageUrl(pkg.base, pkg.href, what);
  return { href: pkg.href };
};
