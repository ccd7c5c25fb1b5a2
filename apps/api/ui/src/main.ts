import { getJson, type RepositoryOverview } from "./api.js";
import { byId, el, replace, shortName } from "./dom.js";
import { LogsView } from "./logs-view.js";
import { PackagesView } from "./packages-view.js";
import { RepoFileView } from "./repo-file-view.js";
import { renderRepositories } from "./repositories-view.js";
import { SyncView } from "./sync-view.js";
import { TokenView } from "./token-view.js";

interface RepositoriesPage {
  repositories: RepositoryOverview[];
  next_page_token?: string;
}

/**
 * Polling: fast while a sync runs (live progress), slow otherwise (to notice syncs started
 * elsewhere) and while the tab is hidden.
 */
const busyPollMs = 1500;
const idlePollMs = 10_000;

const rows = byId("repository-rows");
const listStatus = byId("repositories-status");
const detail = byId("repository");
const title = byId("repository-title");
const facts = byId("repository-facts");
const packages = new PackagesView();
const logs = new LogsView();
const repoFile = new RepoFileView();
const sync = new SyncView(() => void refresh());
new TokenView(() => sync.render());

let repositories: RepositoryOverview[] = [];
let selected: string | undefined;
/** The selected repository's package count when its package list was read. */
let listedPackages: number | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;

function selectedFromHash(): string | undefined {
  const match = /^#repo=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

function renderDetail(fresh: boolean): void {
  const repo = repositories.find((r) => r.repository === selected);
  detail.hidden = selected === undefined;
  if (selected === undefined) return;
  replace(title, shortName(selected));
  if (!repo) {
    replace(facts, "This repository does not exist (or no longer).");
    sync.show(undefined, fresh);
    return;
  }
  replace(
    facts,
    el("span", { class: `badge ${repo.mirror ? "mirror" : "hosted"}` }, repo.mirror ? "mirror" : "hosted"),
    ` ${repo.packages} package${repo.packages === 1 ? "" : "s"}, last published ${repo.last_publish || "never"}`,
    repo.error !== undefined && el("span", { class: "error" }, ` (cannot be read: ${repo.error})`),
  );
  sync.show(repo, fresh);
}

let polling: Promise<void> | undefined;
/** Asked for while a poll was under way: its answer may predate what asked (a sync just started). */
let pollAgain = false;

/** Reads the repositories now; one poll at a time, so there is only ever one timer. */
function refresh(): Promise<void> {
  if (polling) {
    pollAgain = true;
    return polling;
  }
  clearTimeout(timer);
  polling = poll().finally(() => {
    polling = undefined;
    if (pollAgain) {
      pollAgain = false;
      void refresh();
    }
  });
  return polling;
}

async function poll(): Promise<void> {
  try {
    const page = await getJson<RepositoriesPage>("/ui/api/repositories");
    repositories = page.repositories;
    replace(
      listStatus,
      page.next_page_token ? `The first ${repositories.length} repositories are shown.` : "",
    );
  } catch (err) {
    replace(
      listStatus,
      el("span", { class: "error" }, `Cannot list repositories: ${(err as Error).message}`),
    );
  }
  renderRepositories(rows, repositories, selected);
  renderDetail(false);
  // New lines land on the log's last page: read it again at every poll (the worker may write a
  // sync's last lines just after the sync is marked ended).
  logs.refreshTail();
  const selectedRepo = repositories.find((r) => r.repository === selected);
  if (selectedRepo && listedPackages !== undefined && selectedRepo.packages !== listedPackages) {
    listedPackages = selectedRepo.packages;
    packages.reload();
  }
  const busy = !document.hidden && repositories.some((r) => r.syncing);
  if (!pollAgain) timer = setTimeout(() => void refresh(), busy ? busyPollMs : idlePollMs);
}

function select(): void {
  selected = selectedFromHash();
  renderRepositories(rows, repositories, selected);
  renderDetail(true);
  if (selected === undefined) return;
  listedPackages = repositories.find((r) => r.repository === selected)?.packages;
  packages.show(selected);
  logs.show(selected);
  void repoFile.show(selected);
}

addEventListener("hashchange", select);
// A tab shown again catches up at once rather than at the end of a slow poll.
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) void refresh();
});
void refresh().then(select);
