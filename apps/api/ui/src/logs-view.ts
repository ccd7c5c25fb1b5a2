import { getJson, type LogLine } from "./api.js";
import { byId, el, replace } from "./dom.js";

interface LogsPage {
  logs: LogLine[];
  page_token?: string;
  next_page_token?: string;
}

const pageSize = "100";

/**
 * The selected repository's log, a page at a time, oldest first (as the API pages it). It opens
 * on the newest page, which is read again at every poll, so new lines appear; it goes back a page
 * at a time (`before=true`), or to the oldest and the newest.
 */
export class LogsView {
  private readonly rows = byId("log-rows");
  private readonly status = byId("logs-status");
  private readonly nextButton = byId<HTMLButtonElement>("logs-next");
  private readonly previousButton = byId<HTMLButtonElement>("logs-previous");
  private repository: string | undefined;
  /** The token of the page shown (none: the first page), and of the one after it. */
  private current: string | undefined;
  private next: string | undefined;
  private generation = 0;
  /** A page asked for (a button, another repository) is on its way: a poll must not replace it. */
  private navigating = false;

  constructor() {
    byId("logs-first").addEventListener("click", () => void this.load({}));
    byId("logs-newest").addEventListener("click", () => void this.load({ last: true }));
    this.nextButton.addEventListener("click", () => void this.load({ token: this.next }));
    this.previousButton.addEventListener(
      "click",
      () => void this.load({ token: this.current, before: true }),
    );
  }

  show(repository: string): void {
    this.repository = repository;
    replace(this.rows);
    void this.load({ last: true });
  }

  /** Reads the page shown again when it is the last one (new lines land there). */
  refreshTail(): void {
    if (this.repository && this.next === undefined && !this.navigating)
      void this.load({ token: this.current }, true);
  }

  private async load(
    at: { token?: string | undefined; last?: boolean; before?: boolean },
    tail = false,
  ): Promise<void> {
    if (!this.repository) return;
    const generation = ++this.generation;
    if (!tail) this.navigating = true;
    try {
      const page = await getJson<LogsPage>("/ui/api/logs", {
        repository: this.repository,
        "page.size": pageSize,
        "page.token": at.token,
        last: at.last ? "true" : undefined,
        before: at.before ? "true" : undefined,
      });
      if (generation !== this.generation) return;
      // The newest page and a page before another start where the server says.
      this.current = at.last || at.before ? page.page_token : at.token;
      this.next = page.next_page_token;
      this.nextButton.disabled = this.next === undefined;
      this.previousButton.disabled = this.current === undefined;
      replace(this.rows, ...page.logs.map(logRow));
      replace(this.status, page.logs.length === 0 ? "The log is empty." : "");
    } catch (err) {
      if (generation === this.generation)
        replace(this.status, el("span", { class: "error" }, (err as Error).message));
    } finally {
      if (generation === this.generation) this.navigating = false;
    }
  }
}

function logRow(line: LogLine): HTMLElement {
  return el(
    "tr",
    { class: line.level === "ERROR" ? "log-error" : "" },
    el("td", { class: "log-date" }, line.date),
    el("td", { class: "log-level" }, line.level),
    el("td", { class: "log-message" }, line.message),
  );
}
