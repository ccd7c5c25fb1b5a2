import { spawn } from "node:child_process";
import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../test/support/processes.js";
import { startStaticServer } from "../test/support/static-server.js";
import { makeTempDir } from "../test/support/tmp.js";

/** The HTTP server a mirror benchmark downloads from. */
export interface Upstream {
  url: string;
  /** What serves it, for the report. */
  description: string;
  /** The server's process id when it runs apart from the bench (nginx), for its CPU time. */
  pid?: number;
  close(): Promise<void>;
}

const nginxBin = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));

async function waitForHttp(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}repodata/repomd.xml`);
      await response.arrayBuffer();
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/**
 * nginx (Debian `nginx-light` or `nginx`) serving `rootDir` on 127.0.0.1, one worker process, as a
 * real mirror would (sendfile, keep-alive); undefined when nginx is not installed or fails to start.
 */
async function startNginx(rootDir: string): Promise<Upstream | undefined> {
  if (!nginxBin) return undefined;
  const prefix = makeTempDir("bench-nginx-");
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const conf = join(prefix, "nginx.conf");
    writeFileSync(
      conf,
      [
        "daemon off;",
        "worker_processes 1;",
        // Root's temp directories are 0700: the worker must be able to read them.
        ...(process.getuid?.() === 0 ? ["user root root;"] : []),
        `pid ${join(prefix, "nginx.pid")};`,
        `error_log ${join(prefix, "error.log")} warn;`,
        "events { worker_connections 1024; }",
        "http {",
        "  access_log off;",
        "  sendfile on; tcp_nopush on; tcp_nodelay on;",
        "  keepalive_requests 1000000; keepalive_timeout 60s;",
        "  types { application/x-rpm rpm; text/xml xml; application/gzip gz; application/x-xz xz; }",
        "  default_type application/octet-stream;",
        ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
          (t) => `  ${t}_temp_path ${join(prefix, `${t}_temp`)};`,
        ),
        `  server { listen 127.0.0.1:${port}; root ${realpathSync(rootDir)}; }`,
        "}",
        "",
      ].join("\n"),
    );
    const child = spawn(nginxBin, ["-e", join(prefix, "error.log"), "-p", prefix, "-c", conf], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const url = `http://127.0.0.1:${port}/`;
    if (await waitForHttp(url, 5000)) {
      return {
        url,
        description: `nginx (${nginxBin}, 1 worker process, sendfile, keep-alive)`,
        ...(child.pid !== undefined ? { pid: child.pid } : {}),
        close: async () => {
          child.kill("SIGQUIT");
          await exited;
        },
      };
    }
    child.kill("SIGKILL");
    await exited;
    const log = existsSync(join(prefix, "error.log")) ? readFileSync(join(prefix, "error.log"), "utf8") : "";
    console.log(`nginx did not start on port ${port}: ${stderr}${log}`.trim());
  }
  return undefined;
}

/**
 * Serves `rootDir` with nginx when it is installed (a C server in its own process, as real mirrors
 * are), else with the tests' Node static server in this process, which then competes for the CPU
 * with both contenders. `BENCH_MIRROR_UPSTREAM=node` forces the latter.
 */
export async function startUpstream(rootDir: string): Promise<Upstream> {
  if (process.env.BENCH_MIRROR_UPSTREAM !== "node") {
    const nginx = await startNginx(rootDir);
    if (nginx) return nginx;
    console.log(
      "nginx not found (Debian: apt-get install -y nginx-light): falling back to the Node static server",
    );
  }
  const server = await startStaticServer(rootDir);
  return {
    url: server.url,
    description: "the tests' Node static server, in the bench process (nginx-light not installed)",
    close: () => server.close(),
  };
}
