import { redactText } from "@beskar-yum/errors";
import {
  formatTime,
  type PageRequest,
  type RepositoryPackageView,
  type RepositoryService,
  type RepositorySummary,
} from "@beskar-yum/repository";
import type { RepositoryStorage } from "@beskar-yum/storage";
import type { PackageRow, RepositoryOverview, SyncView } from "../ui/src/wire.js";

/**
 * What the dashboard reads without the admin token. Every field is picked here by name, never
 * passed through, so nothing a repository's properties hold (mirror_urls, proxy_url, tls_key,
 * gpg_key) can reach an anonymous reader: names, counts, times, sync progress, package headers
 * (anyone reads them in primary.xml already) and log lines (stored redacted, redacted again here).
 */
export interface UiReadModel {
  service: RepositoryService;
  storage: RepositoryStorage;
}

// The JSON the page reads: one definition, the page's own (ui/src/wire.ts).
export type { PackageRow, RepositoryOverview, SyncView };

export interface PackageFilter {
  /** Exact name. */
  name?: string;
  /** Exact architecture. */
  arch?: string;
  /** Case-insensitive substring of name-version-release.arch. */
  search?: string;
}

export interface LogLineView {
  level: string;
  date: string;
  message: string;
}

const num = (value: unknown) => (typeof value === "number" ? value : 0);
const str = (value: unknown) => (typeof value === "string" ? value : "");

function syncView(status: Record<string, unknown>): SyncView {
  return {
    syncing: status.syncing === true,
    phase: str(status.phase),
    start_time: str(status.start_time),
    end_time: str(status.end_time),
    total_packages: num(status.total_packages),
    synced_packages: num(status.synced_packages),
    downloaded_packages: num(status.downloaded_packages),
    downloaded_bytes: num(status.downloaded_bytes),
    bytes_per_second: num(status.bytes_per_second),
    sync_error: redactText(str(status.sync_error)),
  };
}

/** One repository of `service.list` with its publish time and, for a mirror, its sync state. */
export async function repositoryOverview(
  model: UiReadModel,
  summary: RepositorySummary,
): Promise<RepositoryOverview> {
  const { repository, mirror, packages, syncing } = summary;
  const base = { repository, mirror, packages, syncing, last_publish: "" };
  if (summary.error !== undefined) return { ...base, error: redactText(summary.error) };
  try {
    const state = await (await model.storage.openIndex(repository))?.getState();
    const lastPublish = state?.repomd !== undefined ? formatTime(state.revision) : "";
    return {
      ...base,
      last_publish: lastPublish,
      ...(mirror ? { sync: syncView(await model.service.syncStatus(repository)) } : {}),
    };
  } catch (err) {
    // Deleted or broken since it was listed: shown with what is wrong, the others still shown.
    return { ...base, error: redactText((err as Error).message) };
  }
}

/** Which repositories to list: a substring of the name (case-insensitive), or one name exactly. */
export interface RepositoryFilter {
  search?: string;
  repository?: string;
}

export async function repositoryOverviews(
  model: UiReadModel,
  page: PageRequest,
  filter: RepositoryFilter = {},
): Promise<{ repositories: RepositoryOverview[]; nextPageToken?: string }> {
  const search = filter.search?.toLowerCase();
  const listed = await model.service.list(
    page,
    (name) =>
      (filter.repository === undefined || name === filter.repository) &&
      (search === undefined || name.replace(/^artifacts\/yum\//, "").includes(search)),
  );
  return {
    repositories: await Promise.all(listed.items.map((s) => repositoryOverview(model, s))),
    ...(listed.nextPageToken !== undefined ? { nextPageToken: listed.nextPageToken } : {}),
  };
}

function matches(p: RepositoryPackageView, filter: PackageFilter): boolean {
  if (filter.name !== undefined && p.name !== filter.name) return false;
  if (filter.arch !== undefined && p.architecture !== filter.arch) return false;
  const nevra = `${p.name}-${p.version}-${p.release}.${p.architecture}`;
  return filter.search === undefined || nevra.toLowerCase().includes(filter.search.toLowerCase());
}

const packageRow = (p: RepositoryPackageView): PackageRow => ({
  id: p.id,
  name: p.name,
  version: p.version,
  release: p.release,
  architecture: p.architecture,
  size: p.size,
  build_time: p.build_time,
  summary: p.summary,
});

/** Packages read per step of a search, and at most per request (a search of a large repository goes on with the token). */
const searchStep = 200;
const searchScanLimit = 20_000;

/**
 * Packages passing `filter`, in location order, from `token` on. The package list pages by
 * location, not by match, so a search reads whole steps of the list until it has `wanted` matches
 * or has read `scanLimit` rows (20,000); the token returned goes on after the last step read.
 */
export async function searchPackages(
  service: RepositoryService,
  repository: string,
  filter: PackageFilter,
  options: { wanted: number; token?: string; scanLimit?: number },
): Promise<{ packages: PackageRow[]; nextPageToken?: string }> {
  const found: PackageRow[] = [];
  let token = options.token;
  let scanned = 0;
  do {
    const page = await service.listPackages(repository, { size: searchStep, ...(token ? { token } : {}) });
    for (const p of page.items) if (matches(p, filter)) found.push(packageRow(p));
    scanned += page.items.length;
    token = page.nextPageToken;
  } while (
    token !== undefined &&
    found.length < options.wanted &&
    scanned < (options.scanLimit ?? searchScanLimit)
  );
  return { packages: found, ...(token !== undefined ? { nextPageToken: token } : {}) };
}

/**
 * A page of the log, oldest first, as the admin API pages it, from `page.token` on; or, `before`,
 * the page before `page.token`'s (the last page without a token), with the token that reads it
 * again (a reader polls the last page to see new lines, and goes back from any page).
 */
export async function logPage(
  service: RepositoryService,
  repository: string,
  page: PageRequest,
  before: boolean,
): Promise<{ logs: LogLineView[]; pageToken?: string; nextPageToken?: string }> {
  const current = before ? await service.logsBefore(repository, page) : await service.logs(repository, page);
  const token = before ? (current as { pageToken?: string }).pageToken : page.token;
  return {
    logs: current.items.map((l) => ({
      level: l.level,
      date: formatTime(l.date),
      message: redactText(l.message),
    })),
    ...(token !== undefined ? { pageToken: token } : {}),
    ...(current.nextPageToken !== undefined ? { nextPageToken: current.nextPageToken } : {}),
  };
}
