import { readFileSync } from "node:fs";

/** The CLI package's version (its package.json sits next to dist/ and src/). */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}
