import { type BrowserContext, chromium } from "playwright-core";
import { makeTempDir } from "./tmp.js";

/** Debian's chromium (apt-get install chromium; scripts/check-tools.mjs installs it). */
export const chromiumPath = "/usr/bin/chromium";

/**
 * A headless Chromium with a fresh profile of its own, driven by playwright-core (which downloads
 * nothing: the browser is the system's). Close the context to stop it.
 */
export function launchBrowser(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(makeTempDir("chromium-profile"), {
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
}
