import { adminApi, adminToken, getJson } from "./api.js";
import { byId, el, replace } from "./dom.js";

/**
 * The admin token field. A token is kept (sessionStorage) only once the admin API accepted it;
 * a refused one shows the API's own message.
 */
export class TokenView {
  private readonly input = byId<HTMLInputElement>("token");
  private readonly status = byId("token-status");
  private readonly forget = byId<HTMLButtonElement>("token-forget");

  constructor(private readonly changed: () => void) {
    byId<HTMLFormElement>("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      void this.save();
    });
    this.forget.addEventListener("click", () => {
      adminToken.clear();
      this.input.value = "";
      this.render();
      this.changed();
    });
    this.render();
  }

  private render(): void {
    const set = adminToken.get() !== undefined;
    this.forget.hidden = !set;
    replace(
      this.status,
      set ? "Admin token set: syncs can be started." : "Read-only: enter the admin token to start syncs.",
    );
    this.status.className = set ? "ok" : "";
  }

  private async save(): Promise<void> {
    const token = this.input.value.trim();
    if (token === "") return;
    replace(this.status, "Checking…");
    try {
      await getJson(`${adminApi}/repository:list`, { "page.size": "1" }, token);
    } catch (err) {
      replace(this.status, el("span", { class: "error" }, `Token refused: ${(err as Error).message}`));
      this.status.className = "";
      return;
    }
    adminToken.set(token);
    this.input.value = "";
    this.render();
    this.changed();
  }
}
