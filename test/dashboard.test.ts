import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rewriteMetadata } from "./harness/craft-repo.js";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata, startUpstream, type Upstream } from "./harness/upstream.js";
import { launchBrowser } from "./support/browser.js";
import { eventually } from "./support/eventually.js";
import { buildRpms } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const hosted = "artifacts/yum/dash-hosted";
const mirror = "artifacts/yum/dash-mirror";
const hostile = "artifacts/yum/dash-hostile";
/** Markup that would run if the page ever parsed data as HTML. */
const summaryMarkup = `<img src=x onerror="window.__xss='summary'"> <b>bold</b>`;
const hrefMarkup = `<img src=x onerror=window.__xss=1>`;
const rockyFiles = readFileSync(join(rockyTestdata, "SHA256SUMS"), "utf8")
  .split("\n")
  .filter((l) => l.endsWith(".rpm"))
  .map((l) => l.split("  ")[1]!);
const rockyPackages = rockyFiles.length;
/** The upstream holds this package while `heldPackage` is set: the sync stays at all but one. */
const slowPackage = `/rocky/${rockyFiles[0]}`;

describe("dashboard at /ui", () => {
  let stack: Stack;
  let upstream: Upstream;
  let browser: BrowserContext;
  let page: Page;
  /** While set, the upstream holds repomd.xml of the rocky tree: the sync stays running. */
  let release: (() => void) | undefined;
  let held: Promise<void> | undefined;
  let releasePackage: (() => void) | undefined;
  let heldPackage: Promise<void> | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // An upstream whose primary.xml names a package by an href carrying markup: its sync fails,
    // and the error (with the href) lands in sync_error and the log.
    const hostileTree = makeTempDir("dashboard-hostile");
    cpSync(rockyTestdata, hostileTree, { recursive: true });
    rewriteMetadata(hostileTree, "primary", (xml) =>
      xml.replace(
        /href="Packages\/[^"]+"/,
        `href="Packages/${hrefMarkup.replace(/</g, "&lt;").replace(/>/g, "&gt;")}.rpm"`,
      ),
    );
    upstream = await startUpstream(
      { rocky: rockyTestdata, hostile: hostileTree },
      {
        intercept: async (_req, _res, path) => {
          if (path === "/rocky/repodata/repomd.xml" && held) await held;
          if (path === slowPackage && heldPackage) await heldPackage;
          return false;
        },
      },
    );
    stack = await startStack({ name: "dashboard" });

    const rpms = await buildRpms(
      [{ name: "dashmarkup", summary: summaryMarkup }],
      makeTempDir("dashboard-rpms"),
    );
    const files = [
      ...rpms,
      ...["kronosnet-debugsource-1.16-1.el8.i686.rpm", "kronosnet-debugsource-1.16-1.el8.x86_64.rpm"].map(
        (f) => join(rockyTestdata, "Packages", f),
      ),
    ];
    for (const [i, file] of files.entries()) {
      const { status, json } = await stack.upload(hosted, file, { wait: i === files.length - 1 });
      expect(status, JSON.stringify(json)).toBeLessThan(300);
    }
    for (const [repository, tree] of [
      [mirror, "rocky"],
      [hostile, "hostile"],
    ] as const) {
      const properties = { mirror: true, mirror_urls: [upstream.url(tree)] };
      const { status, json } = await stack.call("POST", "/repository", { repository, properties });
      expect(status, JSON.stringify(json)).toBe(200);
    }
    const failed = await stack.call("GET", "/repository/sync", { repository: hostile, wait: true });
    expect(failed.json.error.message).toContain(hrefMarkup);

    browser = await launchBrowser();
    page = await browser.newPage();
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    page.on("console", (m) => {
      // Answers other than 2xx are expected (a .repo file not there, a token refused); anything
      // else logged as an error (a CSP violation, a script error) is not.
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) pageErrors.push(m.text());
    });
  });

  afterAll(async () => {
    release?.();
    releasePackage?.();
    await browser?.close();
    await stack?.stop();
    await upstream?.server.close();
    await cleanupTempDirs();
  });

  const row = (repository: string) => page.locator(`tr[data-repository="${repository}"]`);
  /** The repositories the table lists, read at once (rows are replaced at every poll). */
  const repositoryRows = () =>
    page.evaluate(
      "Array.from(document.querySelectorAll('#repository-rows tr'), (tr) => tr.dataset.repository ?? null)",
    ) as Promise<(string | null)[]>;
  const waitText = (selector: string, text: string | RegExp) =>
    page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout: 60_000 });

  it("serves the page and its files with their types, validators and a strict CSP", async () => {
    const pageResponse = await fetch(`${stack.url}/ui/`);
    expect(pageResponse.status).toBe(200);
    expect(pageResponse.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = pageResponse.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(pageResponse.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await pageResponse.text();
    // No inline script: the only script is a module file.
    expect(html.match(/<script[^>]*>/g)).toEqual(['<script type="module" src="/ui/js/main.js">']);

    const js = await fetch(`${stack.url}/ui/js/main.js`);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toBe("no-cache");
    const etag = js.headers.get("etag")!;
    expect(etag).toMatch(/^".+"$/);
    const again = await fetch(`${stack.url}/ui/js/main.js`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect((await fetch(`${stack.url}/ui/style.css`)).headers.get("content-type")).toBe(
      "text/css; charset=utf-8",
    );
    // Only the compiled modules: no source map, no declaration file, no path out of the folder.
    for (const path of ["/ui/js/main.d.ts", "/ui/js/..%2f..%2findex.html", "/ui/js/.tsbuildinfo"]) {
      expect((await fetch(`${stack.url}${path}`)).status, path).toBe(404);
    }
  });

  it("reads without the token and shows no property of a repository", async () => {
    const list = (await (await fetch(`${stack.url}/ui/api/repositories`)).json()) as any;
    const text = JSON.stringify(list);
    expect(text).not.toContain("mirror_urls");
    expect(text).not.toContain(upstream.url("rocky"));
    expect(list.repositories.map((r: { repository: string }) => r.repository)).toEqual([
      hosted,
      hostile,
      mirror,
    ]);
    // Starting a sync still needs the token.
    const refused = await fetch(`${stack.url}/artifacts/yum/api/v1/repository/sync?repository=${mirror}`);
    expect(refused.status).toBe(401);
  });

  it("lists the repositories with their type, package count, last publish and sync state", async () => {
    await page.goto(`${stack.url}/ui/`);
    await row(hosted).waitFor({ timeout: 60_000 });
    expect(await row(hosted).locator(".type").textContent()).toBe("hosted");
    expect(await row(hosted).locator(".packages").textContent()).toBe("3");
    expect(await row(hosted).locator(".last-publish").textContent()).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
    );
    expect(await row(mirror).locator(".type").textContent()).toBe("mirror");
    expect(await row(mirror).locator(".packages").textContent()).toBe("0");
    expect(await row(mirror).locator(".sync").textContent()).toBe("never synced");
    // A new mirror publishes empty repodata until its first sync.
    expect(await row(mirror).locator(".last-publish").textContent()).toMatch(/ UTC$/);
    expect(await row(hostile).locator(".sync").textContent()).toBe("sync failed");
  });

  it("searches packages, and shows a summary holding markup as text", async () => {
    await row(hosted).locator("a").click();
    await waitText("#packages-status", "3 packages shown");
    const markupRow = page.locator("#package-rows tr").filter({ hasText: "dashmarkup" });
    expect(await markupRow.locator(".summary").textContent()).toBe(summaryMarkup);

    await page.fill("#package-search-text", "KRONOSNET");
    await page.click("#package-search button");
    await waitText("#packages-status", "2 packages shown");
    expect(await page.locator("#package-rows .package-name").allTextContents()).toEqual([
      "kronosnet-debugsource",
      "kronosnet-debugsource",
    ]);
    await page.fill("#package-arch", "i686");
    await page.click("#package-search button");
    await waitText("#packages-status", "1 package shown");
    expect(await page.locator("#package-rows td").nth(2).textContent()).toBe("i686");
    await page.fill("#package-search-text", "nothing-like-this");
    await page.click("#package-search button");
    await waitText("#packages-status", "No package matches.");
  });

  it("shows a repository's log and sync error holding markup as text", async () => {
    await page.goto(`${stack.url}/ui/#repo=${encodeURIComponent(hostile)}`);
    await waitText("#log-rows .log-message", hrefMarkup);
    await waitText("#sync-error", hrefMarkup);
    expect(await page.locator("#sync-error").textContent()).toContain(`Packages/${hrefMarkup}.rpm`);
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.evaluate("typeof window.__xss")).toBe("undefined");
    expect(await page.locator("#log-rows b, #package-rows b").count()).toBe(0);
  });

  it("shows the repository's .repo file, the one the server serves, with a copy button", async () => {
    await page.goto(`${stack.url}/ui/#repo=${encodeURIComponent(hosted)}`);
    const served = await fetch(`${stack.url}/artifacts/yum/dash-hosted/dash-hosted.repo`);
    expect(served.status).toBe(200);
    const body = await served.text();
    expect(body).toMatch(/^\[dash-hosted\]$/m);
    await page.locator("#repo-file").waitFor({ state: "visible", timeout: 60_000 });
    expect(await page.locator("#repo-file").textContent()).toBe(body);
    expect(await page.locator("#repo-file-copy").isVisible()).toBe(true);
    expect(await page.locator("#repo-file-status").textContent()).toContain(
      "/etc/yum.repos.d/dash-hosted.repo",
    );
    // The copy button puts exactly the served file on the clipboard.
    await browser.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.url });
    await page.evaluate("navigator.clipboard.writeText('something else')");
    await page.click("#repo-file-copy");
    await waitText("#repo-file-status", "Copied.");
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(body);
  });

  it("pages and searches the repositories, and shows a repository that is not on the page", async () => {
    await page.goto(`${stack.url}/ui/`);
    await row(hosted).waitFor({ timeout: 60_000 });
    await page.fill("#repository-search-text", "MIRROR");
    await page.click("#repository-search button");
    await eventually("only the matching repository listed", async () => {
      const listed = await repositoryRows();
      return JSON.stringify(listed) === JSON.stringify([mirror]) ? true : undefined;
    });
    // A link to a repository the search left out still shows it.
    await page.goto(`${stack.url}/ui/#repo=${encodeURIComponent(hosted)}`);
    await waitText("#repository-facts", "3 packages");
    await page.fill("#repository-search-text", "no-such-repository-name");
    await page.click("#repository-search button");
    await waitText("#repositories-status", "No repository name matches.");
    expect(await page.locator("#repository-facts").textContent()).toContain("3 packages");
    await page.fill("#repository-search-text", "");
    await page.click("#repository-search button");
    await row(hosted).waitFor({ timeout: 60_000 });

    // Two to a page: forward and back.
    const showing = (names: string[]) =>
      eventually(names.join(", "), async () =>
        JSON.stringify(await repositoryRows()) === JSON.stringify(names) ? true : undefined,
      );
    await page.goto(`${stack.url}/ui/?per_page=2`);
    await showing([hosted, hostile]);
    expect(await page.locator("#repositories-previous").isDisabled()).toBe(true);
    await page.click("#repositories-next");
    await showing([mirror]);
    expect(await page.locator("#repositories-next").isDisabled()).toBe(true);
    await page.click("#repositories-previous");
    await showing([hosted, hostile]);
  });

  it("goes back through a repository's log a page at a time", async () => {
    // The hosted repository's log: more than a page (100 lines) of uploads and publishes.
    const logged = async () =>
      (
        (await stack.call("GET", "/repository/logs", { repository: hosted })).json.logs as {
          message: string;
        }[]
      ).map((l) => l.message);
    for (let i = 0; (await logged()).length <= 100; i++) {
      const { status } = await stack.upload(
        hosted,
        join(rockyTestdata, "Packages", rockyFiles[0]!.split("/")[1]!),
        {
          wait: true,
        },
      );
      expect(status).toBeLessThan(300);
      if (i > 200) throw new Error("the log does not grow");
    }
    // Once nothing more is written (a publish may log after the last upload's answer).
    const all = await eventually("the log to settle", async () => {
      const before = JSON.stringify(await logged());
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const after = await logged();
      return JSON.stringify(after) === before ? after : undefined;
    });
    // Opened afresh (the same hash again would not reload the log).
    await page.goto(`${stack.url}/ui/`);
    await page.goto(`${stack.url}/ui/#repo=${encodeURIComponent(hosted)}`);
    const showing = (lines: string[]) =>
      eventually("the log page", async () =>
        JSON.stringify(await page.locator("#log-rows .log-message").allTextContents()) ===
        JSON.stringify(lines)
          ? true
          : undefined,
      );
    await showing(all.slice(-100));
    expect(await page.locator("#logs-previous").isDisabled()).toBe(false);
    await page.click("#logs-previous");
    await showing(all.slice(0, all.length - 100));
    expect(await page.locator("#logs-previous").isDisabled()).toBe(true);
    await page.click("#logs-next");
    await showing(all.slice(-100));
  });

  it("refuses to start a sync without the token, shows the API's error for a wrong one", async () => {
    await page.goto(`${stack.url}/ui/#repo=${encodeURIComponent(mirror)}`);
    await page.locator("#sync-panel").waitFor({ state: "visible", timeout: 60_000 });
    expect(await page.locator("#sync-start").isDisabled()).toBe(true);
    expect(await page.locator("#sync-start").getAttribute("title")).toBe(
      "Enter the admin token to start a sync",
    );

    await page.fill("#token", "x".repeat(32));
    await page.click("#token-save");
    await waitText("#token-status", "Token refused: invalid bearer token");
    expect(await page.locator("#sync-start").isDisabled()).toBe(true);
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
  });

  it("with the token, starts a sync and follows it until it is done", async () => {
    await page.fill("#token", stack.token);
    await page.click("#token-save");
    await waitText("#token-status", "Admin token set");
    await page.locator("#sync-start:not([disabled])").waitFor({ timeout: 60_000 });

    held = new Promise<void>((resolve) => {
      release = resolve;
    });
    heldPackage = new Promise<void>((resolve) => {
      releasePackage = resolve;
    });
    await page.click("#sync-start");
    await waitText("#sync-message", "Sync started.");
    // The upstream holds repomd.xml: the page shows the sync running, in the table and the panel.
    await waitText(`tr[data-repository="${mirror}"] .sync`, "syncing");
    await waitText("#sync-state", "syncing");
    expect(await page.locator("#sync-start").isDisabled()).toBe(true);

    release!();
    held = undefined;
    // Live progress: every package but the held one, on the page while the sync still runs.
    await waitText(`tr[data-repository="${mirror}"] .sync`, `${rockyPackages - 1}/${rockyPackages} packages`);
    await waitText("#sync-state", `${rockyPackages - 1}/${rockyPackages} packages`);
    releasePackage!();
    heldPackage = undefined;
    await waitText(`tr[data-repository="${mirror}"] .sync`, /^synced \d{4}-/);
    await waitText(`tr[data-repository="${mirror}"] .packages`, String(rockyPackages));
    expect(await row(mirror).locator(".last-publish").textContent()).toMatch(/UTC$/);
    expect(await page.locator("#sync-error").isVisible()).toBe(false);
    // The package list follows the new count, and the finished sync's message is gone.
    await waitText("#packages-status", `${rockyPackages} packages shown`);
    await eventually("the sync's message cleared", async () =>
      (await page.locator("#sync-message").textContent()) === "" ? true : undefined,
    );
    // The log shows what the API has (its newest page is read again at every poll).
    await eventually(
      "the page's log lines to be the API's",
      async () => {
        const api = (await stack.call("GET", "/repository/logs", { repository: mirror })).json.logs as {
          message: string;
        }[];
        const shown = await page.locator("#log-rows .log-message").allTextContents();
        return JSON.stringify(shown) === JSON.stringify(api.map((l) => l.message)) ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(pageErrors).toEqual([]);
  });
});
