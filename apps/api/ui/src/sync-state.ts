import type { RepositoryOverview } from "./api.js";
import { el, formatBytes } from "./dom.js";

/** One line (and a progress bar while it runs) saying where a repository's sync stands. */
export function syncState(repo: RepositoryOverview): HTMLElement {
  if (repo.error !== undefined) return el("span", { class: "state failed", title: repo.error }, "unreadable");
  const sync = repo.sync;
  if (!repo.mirror || !sync) return el("span", { class: "state", title: "hosted: uploads, no sync" }, "—");
  if (sync.syncing) {
    const progress = el("progress");
    if (sync.total_packages > 0) {
      progress.max = sync.total_packages;
      progress.value = sync.synced_packages;
    }
    const counts = sync.total_packages > 0 ? ` ${sync.synced_packages}/${sync.total_packages} packages` : "";
    return el(
      "span",
      { class: "state syncing" },
      progress,
      ` syncing${sync.phase ? ` (${sync.phase})` : ""}${counts}, ${formatBytes(sync.downloaded_bytes)}`,
    );
  }
  if (sync.sync_error) return el("span", { class: "state failed", title: sync.sync_error }, "sync failed");
  if (sync.end_time) return el("span", { class: "state done" }, `synced ${sync.end_time}`);
  return el("span", { class: "state" }, "never synced");
}
