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
 * elsewhere) and while the tab is hidden. The worker records a sync's progress at most every
 * 500 ms, so what the page shows is at most ~1.5 s old while a sync runs (README "Dashboard").
 */
const busyPollMs = 1000;
const idlePollMs = 10_000;
/** Repositories per page of the table: 100, or `?per_page=N` (1 to 1000) in the page's URL. */
const perPage = new URLSearchParams(location.search).get("per_page") ?? "";
const pageSize = /^\d{1,4}$/.test(perPage) && +perPage >= 1 && +perPage <= 1000 ? perPage : "100";

const rows = byId("repository-rows");
const listStatus = byId("repositories-status");
const previousPage = byId<HTMLButtonElement>("repositories-previous");
const nextPage = byId<HTMLButtonElement>("repositories-next");
const searchText = byId<HTMLInputElement>("repository-search-text");
const detail = byId("repository");
const title = byId("repository-title");
const facts = byId("repository-facts");
const packages = new PackagesView();
const logs = new LogsView();
const repoFile = new RepoFileView();
const sync = new SyncView(() => void refresh());
new TokenView(() => sync.render());

let repositories: RepositoryOverview[] = [];
/** The page tokens of the pages shown so far (undefined: the first), the current one last. */
let pageTokens: (string | undefined)[] = [undefined];
let nextToken: string | undefined;
let search: string | undefined;
let selected: string | undefined;
/** The selected repository, read by its name when it is not on the page shown. */
let selectedOverview: RepositoryOverview | undefined;
/** The selected repository's package count when its package list was read. */
let listedPackages: number | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;

function selectedFromHash(): string | undefined {
  const match = /^#repo=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

function renderDetail(fresh: boolean): void {
  const repo = selectedOverview;
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
    const page = await getJson<RepositoriesPage>("/ui/api/repositories", {
      "page.size": pageSize,
      "page.token": pageTokens.at(-1),
      search,
    });
    repositories = page.repositories;
    nextToken = page.next_page_token;
    nextPage.hidden = nextToken === undefined && pageTokens.length === 1;
    previousPage.hidden = nextPage.hidden;
    nextPage.disabled = nextToken === undefined;
    previousPage.disabled = pageTokens.length === 1;
    replace(
      listStatus,
      repositories.length === 0 && search !== undefined ? "No repository name matches." : "",
    );
    selectedOverview = repositories.find((r) => r.repository === selected);
    if (selected !== undefined && !selectedOverview) {
      const one = await getJson<RepositoriesPage>("/ui/api/repositories", { repository: selected });
      selectedOverview = one.repositories[0];
    }
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
  if (selectedOverview && listedPackages !== undefined && selectedOverview.packages !== listedPackages) {
    listedPackages = selectedOverview.packages;
    packages.reload();
  }
  const busy =
    !document.hidden && (repositories.some((r) => r.syncing) || selectedOverview?.syncing === true);
  if (!pollAgain) timer = setTimeout(() => void refresh(), busy ? busyPollMs : idlePollMs);
}

async function select(): Promise<void> {
  selected = selectedFromHash();
  selectedOverview = repositories.find((r) => r.repository === selected);
  // One not on this page (a link, a search since): read by its name.
  if (selected !== undefined && !selectedOverview) await refresh();
  renderRepositories(rows, repositories, selected);
  renderDetail(true);
  if (selected === undefined) return;
  listedPackages = selectedOverview?.packages;
  packages.show(selected);
  logs.show(selected);
  void repoFile.show(selected);
}

/** Shows another page of the table (or the first of a new search) at once. */
function showPage(tokens: (string | undefined)[]): void {
  pageTokens = tokens;
  void refresh();
}
previousPage.addEventListener("click", () => showPage(pageTokens.slice(0, -1)));
nextPage.addEventListener("click", () => showPage([...pageTokens, nextToken]));
byId("repository-search").addEventListener("submit", (event) => {
  event.preventDefault();
  search = searchText.value.trim() || undefined;
  showPage([undefined]);
});

addEventListener("hashchange", () => void select());
// A tab shown again catches up at once rather than at the end of a slow poll.
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) void refresh();
});
void refresh().then(select);
