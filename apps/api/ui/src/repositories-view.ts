import type { RepositoryOverview } from "./api.js";
import { el, replace, shortName } from "./dom.js";
import { syncState } from "./sync-state.js";

/** The repositories table: one row each, its name linking to its details. */
export function renderRepositories(
  body: HTMLElement,
  repositories: RepositoryOverview[],
  selected: string | undefined,
): void {
  if (repositories.length === 0) {
    replace(body, el("tr", {}, el("td", { class: "empty" }, "No repositories yet.")));
    body.querySelector("td")?.setAttribute("colspan", "5");
    return;
  }
  replace(
    body,
    ...repositories.map((repo) =>
      el(
        "tr",
        {
          data: { repository: repo.repository },
          ...(repo.repository === selected ? { class: "selected" } : {}),
        },
        el(
          "td",
          { class: "name" },
          el("a", { href: `#repo=${encodeURIComponent(repo.repository)}` }, shortName(repo.repository)),
        ),
        el(
          "td",
          { class: "type" },
          el(
            "span",
            { class: `badge ${repo.mirror ? "mirror" : "hosted"}` },
            repo.mirror ? "mirror" : "hosted",
          ),
        ),
        el("td", { class: "packages num" }, repo.packages),
        el("td", { class: "last-publish" }, repo.last_publish || "never"),
        el("td", { class: "sync" }, syncState(repo)),
      ),
    ),
  );
}
