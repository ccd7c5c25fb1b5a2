import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startProcess } from "./processes.js";
import { makeTempDir } from "./tmp.js";
import { waitForPort } from "./wait-for-port.js";

export interface NginxOptions {
  /** The directory served at `/`. */
  root?: string;
  /** Extra directives inside the `server` block (`keepalive_requests 2;`, `location /x { return 302 ...; }`). */
  config?: string;
  /**
   * A site of its own instead of the `server` serving `root` (e.g. deploy/nginx/beskar-yum.conf), given
   * the port to listen on; `root` and `config` are then unused.
   */
  site?: (port: number) => string;
  /** `worker_processes` (default 1; `auto` is one per core, as a production nginx runs). */
  workers?: number | "auto";
}

export interface Nginx {
  /** `http://127.0.0.1:<port>/` (with the trailing slash mirror URLs want). */
  url: string;
  port: number;
  stop(): Promise<void>;
  /**
   * The access log so far, one line per request: `<method> <uri> <status> <bytes sent> auth=<Authorization header or ->`
   * (the header is logged so that tests can assert where credentials went).
   */
  log(): string;
}

/**
 * Debian's nginx (`/usr/sbin/nginx`, nginx-light) serving `root` on 127.0.0.1 at an OS-chosen port,
 * as a foreground child without a master process (one worker, no daemon), everything it writes
 * (pid, logs, temp bodies) in a temp dir. Works as root: `user` is set to the current user so that
 * nginx never switches to `www-data` (which could not read a root-owned temp dir).
 */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const dir = makeTempDir("nginx-");
  const port = await freePort();
  const accessLog = join(dir, "access.log");
  const user = process.getuid?.() === 0 ? "user root root;" : "";
  const conf = [
    user,
    "daemon off;",
    // Without a master process nginx runs one worker whatever worker_processes says.
    `master_process ${(options.workers ?? 1) === 1 ? "off" : "on"};`,
    `worker_processes ${options.workers ?? 1};`,
    `pid ${join(dir, "nginx.pid")};`,
    `error_log ${join(dir, "error.log")} info;`,
    "events { worker_connections 1024; }",
    "http {",
    "  include /etc/nginx/mime.types;",
    "  default_type application/octet-stream;",
    "  sendfile on;",
    `  client_body_temp_path ${join(dir, "client_body")};`,
    `  proxy_temp_path ${join(dir, "proxy")};`,
    `  fastcgi_temp_path ${join(dir, "fastcgi")};`,
    `  uwsgi_temp_path ${join(dir, "uwsgi")};`,
    `  scgi_temp_path ${join(dir, "scgi")};`,
    "  log_format beskar '$request_method $request_uri $status $body_bytes_sent auth=$http_authorization';",
    `  access_log ${accessLog} beskar;`,
    ...(options.site
      ? [options.site(port)]
      : [
          "  server {",
          `    listen 127.0.0.1:${port};`,
          `    root ${options.root};`,
          options.config ?? "",
          "  }",
        ]),
    "}",
    "",
  ].join("\n");
  const file = join(dir, "nginx.conf");
  writeFileSync(file, conf);
  writeFileSync(accessLog, "");
  // -e: nginx 1.19.5+ opens its default error log before reading the config unless told otherwise.
  const child = await startProcess("/usr/sbin/nginx", ["-p", dir, "-e", join(dir, "error.log"), "-c", file]);
  await waitForPort(port, child);
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    log: () => readFileSync(accessLog, "utf8"),
    async stop() {
      // SIGQUIT: graceful shutdown (finish the requests in flight); startProcess escalates to SIGKILL.
      await child.stop("SIGQUIT", 5_000);
    },
  };
}

/**
 * deploy/nginx/beskar-yum.conf as shipped, with only what a test must change: the API's address, the
 * data directory (`/data/`), the front tree's root (`/front`) and the listening port. For `startNginx`'s `site`.
 */
export function shippedSite(options: {
  apiHost: string;
  dataDir: string;
  frontTree: string;
}): (port: number) => string {
  const shipped = readFileSync(
    fileURLToPath(new URL("../../deploy/nginx/beskar-yum.conf", import.meta.url)),
    "utf8",
  );
  const conf = shipped
    .replace("server api:5200;", `server ${options.apiHost};`)
    .replaceAll("/data/", `${options.dataDir}/`)
    .replace("root /front;", `root ${options.frontTree};`);
  if (conf.includes("/front;"))
    throw new Error("the shipped nginx config names /front where the test cannot replace it");
  return (port) => conf.replace("listen 80;", `listen 127.0.0.1:${port};`);
}
