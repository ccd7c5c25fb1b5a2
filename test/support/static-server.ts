import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";

export interface StaticServerOptions {
  /** Require HTTP basic auth for paths starting with `prefix` (default `/`: everything). */
  basicAuth?: { user: string; pass: string; prefix?: string };
  /**
   * Called first for every request; return true when it has answered (fault injection: 500s, slow or
   * truncated bodies, ...). `pathname` is decoded.
   */
  intercept?: (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
  ) => boolean | Promise<boolean>;
}

export interface StaticRequest {
  method: string;
  /** The decoded path, without the query string. */
  path: string;
  status: number;
  headers: http.IncomingHttpHeaders;
}

export interface StaticServer {
  /** `http://127.0.0.1:<port>/` (with the trailing slash dnf and mirror URLs want). */
  url: string;
  port: number;
  /** Every request answered so far, in order (for asserting what a client fetched). */
  requests: StaticRequest[];
  close(): Promise<void>;
}

const contentTypes: Record<string, string> = {
  ".xml": "text/xml",
  ".gz": "application/gzip",
  ".xz": "application/x-xz",
  ".bz2": "application/x-bzip2",
  ".zck": "application/octet-stream",
  ".rpm": "application/x-rpm",
  ".asc": "text/plain",
  ".json": "application/json",
};

/**
 * A plain file server for `rootDir` on 127.0.0.1 (an OS-chosen port): GET and HEAD, Content-Length,
 * Last-Modified, single byte ranges; 404 for directories and anything outside `rootDir` (traversal,
 * symlinks pointing out).
 */
export async function startStaticServer(
  rootDir: string,
  opts: StaticServerOptions = {},
): Promise<StaticServer> {
  const root = fs.realpathSync(rootDir);
  const requests: StaticRequest[] = [];

  const server = http.createServer((req, res) => {
    let pathname = "";
    res.on("finish", () => {
      requests.push({
        method: req.method ?? "",
        path: pathname,
        status: res.statusCode,
        headers: req.headers,
      });
    });
    handle(req, res, (p) => {
      pathname = p;
    }).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `${err}\n`);
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, seen: (p: string) => void) {
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      return send(res, 400, "bad path\n");
    }
    seen(pathname);
    if (opts.intercept && (await opts.intercept(req, res, pathname))) return;
    if (opts.basicAuth && pathname.startsWith(opts.basicAuth.prefix ?? "/")) {
      const { user, pass } = opts.basicAuth;
      const expected = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
      if (req.headers.authorization !== expected) {
        res.setHeader("WWW-Authenticate", 'Basic realm="test"');
        return send(res, 401, "unauthorized\n");
      }
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      return send(res, 405, "method not allowed\n");
    }
    const file = await resolveInside(root, pathname);
    if (!file) return send(res, 404, "not found\n");

    const size = file.stat.size;
    res.setHeader("Content-Type", contentTypes[path.extname(file.path)] ?? "application/octet-stream");
    res.setHeader("Last-Modified", file.stat.mtime.toUTCString());
    res.setHeader("Accept-Ranges", "bytes");
    let start = 0;
    let end = size - 1;
    const range = req.headers.range;
    if (range !== undefined) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range);
      const from = m?.[1] ? Number(m[1]) : undefined;
      const to = m?.[2] ? Number(m[2]) : undefined;
      if (m && from !== undefined) {
        start = from;
        end = to === undefined ? size - 1 : Math.min(to, size - 1);
      } else if (m && to !== undefined) {
        start = Math.max(0, size - to);
      }
      if (!m || (from === undefined && to === undefined) || start > end || start >= size) {
        res.setHeader("Content-Range", `bytes */${size}`);
        return send(res, 416, "range not satisfiable\n");
      }
      res.statusCode = 206;
      res.setHeader("Content-Range", `bytes ${start}-${end}/${size}`);
    }
    res.setHeader("Content-Length", size === 0 ? 0 : end - start + 1);
    if (req.method === "HEAD" || size === 0) return void res.end();
    fs.createReadStream(file.path, { start, end })
      .on("error", () => res.destroy())
      .pipe(res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: http.ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(body);
}

/** The regular file for `pathname` if it lies inside `root` once every symlink is followed, else undefined. */
async function resolveInside(
  root: string,
  pathname: string,
): Promise<{ path: string; stat: fs.Stats } | undefined> {
  if (pathname.includes("\0")) return undefined;
  const candidate = path.resolve(root, `.${path.posix.normalize(`/${pathname}`)}`);
  try {
    const real = await fs.promises.realpath(candidate);
    const rel = path.relative(root, real);
    if (rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
    const stat = await fs.promises.stat(real);
    return stat.isFile() ? { path: real, stat } : undefined;
  } catch {
    return undefined;
  }
}
