import { cpSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { type StaticServer, type StaticServerOptions, startStaticServer } from "../support/static-server.js";
import { makeTempDir } from "../support/tmp.js";

export const rockyTestdata = new URL("../fixtures/rocky-8.3-ha-debug/", import.meta.url).pathname;

export interface Upstream {
  server: StaticServer;
  /** The served tree: `<root>/<name>/` and, behind basic auth test:test-password, `<root>/auth/<name>/`. */
  root: string;
  url(name: string): string;
  authUrl(name: string): string;
}

/**
 * A local upstream laid out as Beskar's integration tests serve theirs: each directory under
 * `/<name>/` and again behind basic auth (test / test-password) under `/auth/<name>/`.
 */
export async function startUpstream(
  dirs: Record<string, string>,
  options: StaticServerOptions = {},
): Promise<Upstream> {
  const root = makeTempDir("upstream");
  mkdirSync(join(root, "auth"));
  for (const [name, source] of Object.entries(dirs)) {
    cpSync(source, join(root, name), { recursive: true });
    symlinkSync(join(root, name), join(root, "auth", name));
  }
  const server = await startStaticServer(root, {
    basicAuth: { user: "test", pass: "test-password", prefix: "/auth/" },
    ...options,
  });
  const base = server.url.replace(/\/$/, "");
  return {
    server,
    root,
    url: (name) => `${base}/${name}`,
    authUrl: (name) => `${base.replace("http://", "http://test:test-password@")}/auth/${name}`,
  };
}
