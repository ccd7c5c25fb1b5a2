import { getText } from "./api.js";
import { byId, replace, shortName } from "./dom.js";

/** The repository's `.repo` file for /etc/yum.repos.d, with a copy button, when the server has one. */
export class RepoFileView {
  private readonly text = byId("repo-file");
  private readonly copy = byId<HTMLButtonElement>("repo-file-copy");
  private readonly status = byId("repo-file-status");
  private generation = 0;

  constructor() {
    this.copy.addEventListener("click", () => void this.copyText());
  }

  async show(repository: string): Promise<void> {
    const generation = ++this.generation;
    const name = shortName(repository);
    // The file is named by the repository's dnf id: its name with `/` as `-` (repo-file.ts).
    const path = `/artifacts/yum/${name}/${name.replaceAll("/", "-")}.repo`;
    const file = path.split("/").pop();
    this.text.hidden = true;
    this.copy.hidden = true;
    replace(this.status, "Loading…");
    let answer: { text?: string; status: number };
    try {
      answer = await getText(path);
    } catch (err) {
      answer = { status: 0 };
      replace(this.status, `Not available: ${(err as Error).message}`);
    }
    if (generation !== this.generation) return;
    if (answer.text === undefined) {
      if (answer.status !== 0)
        replace(
          this.status,
          `Not available: the server has no .repo file for this repository (HTTP ${answer.status} from ${path}).`,
        );
      return;
    }
    replace(this.text, answer.text);
    this.text.hidden = false;
    this.copy.hidden = false;
    replace(this.status, `Save as /etc/yum.repos.d/${file}`);
  }

  private async copyText(): Promise<void> {
    const text = this.text.textContent ?? "";
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard API (a plain-http page on another host): select it for Ctrl-C instead.
      const range = document.createRange();
      range.selectNodeContents(this.text);
      const selection = getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      replace(this.status, "Selected: press Ctrl-C to copy.");
      return;
    }
    replace(this.status, "Copied.");
  }
}
