import { getJson, type PackageRow } from "./api.js";
import { byId, el, formatBytes, replace } from "./dom.js";

interface PackagesPage {
  packages: PackageRow[];
  next_page_token?: string;
}

/** The package search of the selected repository: filters, a table, "More" while pages follow. */
export class PackagesView {
  private readonly rows = byId("package-rows");
  private readonly more = byId<HTMLButtonElement>("packages-more");
  private readonly status = byId("packages-status");
  private readonly search = byId<HTMLInputElement>("package-search-text");
  private readonly arch = byId<HTMLInputElement>("package-arch");
  private repository: string | undefined;
  private next: string | undefined;
  /** Answers of an earlier search or repository are dropped. */
  private generation = 0;

  constructor() {
    byId<HTMLFormElement>("package-search").addEventListener("submit", (event) => {
      event.preventDefault();
      void this.load(true);
    });
    this.more.addEventListener("click", () => void this.load(false));
  }

  show(repository: string): void {
    this.repository = repository;
    this.search.value = "";
    this.arch.value = "";
    void this.load(true);
  }

  /** Reads the list again with the filters as they are (the repository's packages changed). */
  reload(): void {
    void this.load(true);
  }

  private async load(fresh: boolean): Promise<void> {
    if (!this.repository) return;
    const generation = fresh ? ++this.generation : this.generation;
    if (fresh) {
      this.next = undefined;
      replace(this.rows);
    }
    this.more.hidden = true;
    replace(this.status, "Loading…");
    try {
      const page = await getJson<PackagesPage>("/ui/api/packages", {
        repository: this.repository,
        search: this.search.value.trim() || undefined,
        arch: this.arch.value.trim() || undefined,
        "page.token": this.next,
      });
      if (generation !== this.generation) return;
      for (const p of page.packages) this.rows.append(packageRow(p));
      this.next = page.next_page_token;
      this.more.hidden = this.next === undefined;
      const shown = this.rows.childElementCount;
      const filtered = this.search.value.trim() !== "" || this.arch.value.trim() !== "";
      replace(
        this.status,
        shown === 0 && !this.next
          ? filtered
            ? "No package matches."
            : "This repository has no packages."
          : `${shown} package${shown === 1 ? "" : "s"} shown${this.next ? "; more may follow" : ""}.`,
      );
    } catch (err) {
      if (generation === this.generation)
        replace(this.status, el("span", { class: "error" }, (err as Error).message));
    }
  }
}

function packageRow(p: PackageRow): HTMLElement {
  return el(
    "tr",
    { data: { id: p.id } },
    el("td", { class: "package-name" }, p.name),
    el("td", {}, `${p.version}-${p.release}`),
    el("td", {}, p.architecture),
    el("td", { class: "num" }, formatBytes(p.size)),
    el("td", {}, p.build_time),
    el("td", { class: "summary" }, p.summary),
  );
}
