import { adminApi, adminToken, getJson, type RepositoryOverview } from "./api.js";
import { byId, el, replace } from "./dom.js";
import { syncState } from "./sync-state.js";

/** The selected repository's sync: its state, its last error, and the button that starts one. */
export class SyncView {
  private readonly panel = byId("sync-panel");
  private readonly state = byId("sync-state");
  private readonly error = byId("sync-error");
  private readonly button = byId<HTMLButtonElement>("sync-start");
  private readonly message = byId("sync-message");
  private repo: RepositoryOverview | undefined;
  private starting = false;
  /** A sync was seen running since the message was written: once it ends, the message is stale. */
  private sawSyncing = false;

  constructor(private readonly started: () => void) {
    this.button.addEventListener("click", () => void this.start());
  }

  show(repo: RepositoryOverview | undefined, fresh: boolean): void {
    this.repo = repo;
    if (fresh) {
      replace(this.message);
      this.sawSyncing = false;
    }
    if (repo?.syncing) this.sawSyncing = true;
    else if (this.sawSyncing) {
      replace(this.message);
      this.sawSyncing = false;
    }
    this.panel.hidden = !repo?.mirror;
    if (!repo?.mirror) return;
    replace(this.state, syncState(repo));
    const error = repo.sync?.sync_error ?? "";
    this.error.hidden = error === "";
    replace(this.error, error && `Last sync failed: ${error}`);
    this.render();
  }

  /** The button needs the admin token and a mirror that is not syncing. */
  render(): void {
    const token = adminToken.get();
    const syncing = this.repo?.syncing === true;
    this.button.disabled = token === undefined || syncing || this.starting;
    this.button.title =
      token === undefined ? "Enter the admin token to start a sync" : syncing ? "A sync is running" : "";
  }

  private async start(): Promise<void> {
    const token = adminToken.get();
    const repo = this.repo;
    if (!repo || token === undefined) return;
    this.starting = true;
    this.render();
    replace(this.message, "Starting…");
    try {
      await getJson(`${adminApi}/repository/sync`, { repository: repo.repository }, token);
      replace(this.message, "Sync started.");
    } catch (err) {
      replace(this.message, el("span", { class: "error" }, `Sync refused: ${(err as Error).message}`));
    } finally {
      this.starting = false;
      this.render();
      this.started();
    }
  }
}
