import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { apiRuntimeFiles, runtimePath } from "./runtime-files.js";

export interface UiAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
};

/** The dashboard's browser modules, compiled by `tsc -b` from apps/api/ui/src. */
const moduleDir = runtimePath("apps/api/ui/dist");

/** A module name the dashboard may ask for: one plain file name, so no path leaves `moduleDir`. */
const moduleName = /^[a-z0-9-]+\.js$/;

/**
 * The dashboard's static files, read once on first request and kept in memory (a few KiB). Only
 * the page, its stylesheet and the compiled modules are served, never a source map or anything
 * else in the folders.
 */
export class UiAssets {
  private readonly cache = new Map<string, Promise<UiAsset | undefined>>();

  page(): Promise<UiAsset | undefined> {
    return this.load(runtimePath(apiRuntimeFiles.uiPage));
  }

  stylesheet(): Promise<UiAsset | undefined> {
    return this.load(runtimePath(apiRuntimeFiles.uiStylesheet));
  }

  module(name: string): Promise<UiAsset | undefined> {
    if (!moduleName.test(name)) return Promise.resolve(undefined);
    return this.load(join(moduleDir, name));
  }

  private load(path: string): Promise<UiAsset | undefined> {
    let asset = this.cache.get(path);
    if (!asset) {
      asset = readAsset(path);
      this.cache.set(path, asset);
      // A file missing now (not built yet) is looked for again next time.
      asset.then((a) => a ?? this.cache.delete(path));
    }
    return asset;
  }
}

async function readAsset(path: string): Promise<UiAsset | undefined> {
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return {
    body,
    contentType: contentTypes[extname(path)] ?? "application/octet-stream",
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
  };
}
