import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from "node:http";
import { parseContentPath } from "@beskar-yum/repository";
import { IndexChangeWatch, type RepositoryStorage } from "@beskar-yum/storage";
import { type AccelRedirect, accelRedirectFor } from "./accel-redirect.js";

/** What the content route decided to send for a URL: validators and where the bytes are. */
export interface CacheableContent {
  size: number;
  mtime: Date;
  etag: string;
  contentType: string;
  cacheControl: string;
  /** The whole body, when the route holds it (repomd.xml). */
  body?: Buffer;
  /** Else the immutable (content-addressed) file it is read from. */
  file?: string;
}

interface Entry {
  watch: IndexChangeWatch;
  /** `watch.version()` before the route read the index for this answer. */
  token: number;
  /** performance.now() after which the route is asked again whatever the token says. */
  expires: number;
  etag: string;
  /** Last-Modified in whole seconds, for If-Modified-Since. */
  mtimeSeconds: number;
  headers: OutgoingHttpHeaders;
  notModifiedHeaders: OutgoingHttpHeaders;
  size: number;
  body?: Buffer;
  file?: string;
  /** Bytes of `body` counted in the cache's budget. */
  charged: number;
}

export interface ContentCacheStats {
  entries: number;
  /** Bytes of bodies held in memory. */
  bytes: number;
  /** Requests answered from the cache. */
  hits: number;
  /** Requests for cacheable content that went to the route (first request, or the index changed). */
  misses: number;
}

/** A miss on its way through the route: where its answer is to be remembered. */
interface Pending {
  cache: ContentCache;
  url: string;
  watch: IndexChangeWatch;
  token: number;
}

const pending = new WeakMap<IncomingMessage, Pending>();

/**
 * Called by `sendContent` with what the content route answered: remembered when the request was a
 * cacheable miss (its cache captured the index's change token before the route read the index).
 */
export function rememberContent(req: IncomingMessage, content: CacheableContent): void {
  const miss = pending.get(req);
  if (!miss) return;
  pending.delete(req);
  miss.cache.fill(miss, content);
}

export interface ContentCacheOptions {
  storage: RepositoryStorage;
  /** Bytes of bodies held in memory (repodata, packages); 0 keeps none (validators and paths only). */
  maxBytes: number;
  /** `http.send_timeout_ms`: a client that reads nothing for this long is dropped. */
  sendTimeoutMs?: number;
  /** `http.accel_redirect`: stored files are left to a front nginx that asks for it (accel-redirect.ts). */
  accelRedirect?: AccelRedirect;
  /** Called once per answered request (metrics). */
  observe?: (url: string, method: string, status: number, seconds: number) => void;
}

/** How long an entry is trusted without asking the route again (grace periods ending, files removed by hand). */
const ENTRY_TTL_MS = 1000;
const MAX_ENTRIES = 20_000;
const MAX_WATCHES = 256;
const STREAM_CHUNK = 256 * 1024;

/**
 * The hot path of anonymous content (`GET|HEAD /artifacts/yum/<name>/repo/...`): what the content
 * route answered for a URL (validators, headers, the body or its immutable file) is remembered and
 * served straight from Node's `http` request event, without fastify, SQLite reads or a `stat`.
 *
 * Freshness is exact: an entry is valid only while its repository index's change token (SQLite
 * `data_version` on a read-only connection, `IndexChangeWatch`) is the one read *before* the route
 * read the index. Any commit (a publish, a sync's switch, an upload's event, by any process) changes
 * it, and the next request goes through the route again. So once any process served a new repomd.xml
 * (its commit is visible), no request that starts afterwards, in any process, gets the old one.
 * Entries also expire after a second, so what time alone changes (a superseded generation's grace
 * period ending) is honoured within that.
 *
 * Everything else (ranges, requests with a body or a query string, misses, errors, uploads, the
 * admin API) goes to fastify as before.
 */
export class ContentCache {
  private readonly entries = new Map<string, Entry>();
  private readonly watches = new Map<string, IndexChangeWatch>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private readonly maxEntryBytes: number;

  constructor(private readonly options: ContentCacheOptions) {
    this.maxEntryBytes = Math.min(16 * 1024 * 1024, Math.floor(options.maxBytes / 4));
  }

  /**
   * Answers `req` from the cache and returns true, or returns false (after noting a cacheable miss)
   * for the caller to hand it to fastify.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const method = req.method;
    if (method !== "GET" && method !== "HEAD") return false;
    const url = req.url!;
    const headers = req.headers;
    if (
      headers.range !== undefined ||
      headers["content-length"] !== undefined ||
      headers["transfer-encoding"] !== undefined
    ) {
      return false;
    }
    const entry = this.entries.get(url);
    if (entry === undefined || performance.now() > entry.expires || entry.watch.version() !== entry.token) {
      // A stale entry is never served; the route's answer replaces it (keeping its body when unchanged).
      this.misses++;
      this.noteMiss(req, url);
      return false;
    }
    const started = performance.now();
    this.hits++;
    if (this.options.sendTimeoutMs) req.socket.setTimeout(this.options.sendTimeoutMs);
    if (notModified(req, entry)) {
      res.writeHead(304, entry.notModifiedHeaders);
      res.end();
      this.options.observe?.(url, method, 304, (performance.now() - started) / 1000);
      return true;
    }
    const accel = accelRedirectFor(this.options.accelRedirect, headers, entry.file, entry.size);
    if (accel !== undefined) {
      res.writeHead(200, {
        "content-type": entry.headers["content-type"],
        "cache-control": entry.headers["cache-control"],
        "x-accel-redirect": accel,
      });
      res.end();
    } else {
      this.sendBody(req, res, entry);
    }
    this.options.observe?.(url, method, 200, (performance.now() - started) / 1000);
    return true;
  }

  private sendBody(req: IncomingMessage, res: ServerResponse, entry: Entry): void {
    res.writeHead(200, entry.headers);
    if (req.method === "HEAD") {
      res.end();
    } else if (entry.body !== undefined) {
      res.end(entry.body);
    } else {
      const stream = createReadStream(entry.file!, { highWaterMark: STREAM_CHUNK });
      stream.on("error", () => res.destroy());
      res.on("close", () => stream.destroy());
      stream.pipe(res);
    }
  }

  /** A GET of content without a query string: remember what the route will answer, with the token read now. */
  private noteMiss(req: IncomingMessage, url: string): void {
    if (!url.startsWith("/artifacts/yum/") || url.startsWith("/artifacts/yum/api/") || url.includes("?"))
      return;
    let path: ReturnType<typeof parseContentPath>;
    try {
      path = parseContentPath(url);
    } catch {
      return;
    }
    if (!path || path.kind === "extra") return;
    const watch = this.watchOf(path.repository);
    const token = watch?.version();
    if (!watch || token === undefined) return;
    pending.set(req, { cache: this, url, watch, token });
  }

  /** The change watch of a repository's index, reopened when the index file was replaced (deleted and created again). */
  private watchOf(repository: string): IndexChangeWatch | undefined {
    let watch = this.watches.get(repository);
    if (watch && !watch.current()) {
      watch.close();
      this.watches.delete(repository);
      watch = undefined;
    }
    if (!watch) {
      let indexPath: string;
      try {
        indexPath = this.options.storage.paths(repository).index;
      } catch {
        return undefined;
      }
      watch = IndexChangeWatch.open(indexPath);
      if (!watch) return undefined;
      if (this.watches.size >= MAX_WATCHES) {
        const [oldest, old] = this.watches.entries().next().value!;
        this.watches.delete(oldest);
        old.close();
      }
      this.watches.set(repository, watch);
    }
    return watch;
  }

  fill(miss: Pending, content: CacheableContent): void {
    if (content.body === undefined && content.file === undefined) return;
    // A repository being deleted is answered by the route until it is gone.
    if (!miss.watch.servable()) return;
    const lastModified = content.mtime.toUTCString();
    const previous = this.entries.get(miss.url);
    const kept =
      previous?.body !== undefined && previous.etag === content.etag && previous.size === content.size
        ? previous.body
        : undefined;
    if (previous) this.drop(miss.url, previous);
    const entry: Entry = {
      watch: miss.watch,
      token: miss.token,
      expires: performance.now() + ENTRY_TTL_MS,
      etag: content.etag,
      mtimeSeconds: Math.floor(content.mtime.getTime() / 1000),
      headers: {
        "content-type": content.contentType,
        etag: content.etag,
        "last-modified": lastModified,
        "cache-control": content.cacheControl,
        "accept-ranges": "bytes",
        "content-length": content.size,
      },
      notModifiedHeaders: {
        etag: content.etag,
        "last-modified": lastModified,
        "cache-control": content.cacheControl,
      },
      size: content.size,
      charged: 0,
      ...(content.file !== undefined ? { file: content.file } : {}),
    };
    const body = content.body ?? kept;
    if (body !== undefined && body.length === content.size) this.charge(entry, body);
    this.entries.set(miss.url, entry);
    while (this.entries.size > MAX_ENTRIES) {
      const [url, oldest] = this.entries.entries().next().value!;
      this.drop(url, oldest);
    }
    if (entry.body === undefined && entry.file !== undefined && this.fits(entry.size)) {
      // The file is content-addressed (immutable): read it once, then serve it from memory.
      const file = entry.file;
      readFile(file).then(
        (bytes) => {
          if (this.entries.get(miss.url) === entry && bytes.length === entry.size) this.charge(entry, bytes);
        },
        () => {},
      );
    }
  }

  private fits(size: number): boolean {
    return size <= this.maxEntryBytes && this.options.maxBytes > 0;
  }

  /** Holds `body` in memory for `entry`, evicting the oldest bodies to stay within the budget. */
  private charge(entry: Entry, body: Buffer): void {
    if (!this.fits(body.length)) return;
    for (const [url, old] of this.entries) {
      if (this.bytes + body.length <= this.options.maxBytes) break;
      if (old.charged > 0 && old !== entry) this.drop(url, old);
    }
    if (this.bytes + body.length > this.options.maxBytes) return;
    entry.body = body;
    entry.charged = body.length;
    this.bytes += body.length;
  }

  private drop(url: string, entry: Entry): void {
    if (this.entries.get(url) === entry) this.entries.delete(url);
    this.bytes -= entry.charged;
    entry.charged = 0;
  }

  /** Entries and bytes held (tests, metrics). */
  stats(): ContentCacheStats {
    return { entries: this.entries.size, bytes: this.bytes, hits: this.hits, misses: this.misses };
  }

  close(): void {
    for (const watch of this.watches.values()) watch.close();
    this.watches.clear();
    this.entries.clear();
    this.bytes = 0;
  }
}

/**
 * Puts `cache` in front of the server's request handler (fastify's): a request it answers never
 * reaches fastify (no hooks, no per-request logger, no routing); every other one goes on as before.
 */
export function installContentCache(server: Server, cache: ContentCache): void {
  const handlers = server.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (cache.handle(req, res)) return;
    for (const handler of handlers) handler(req, res);
  });
}

/** RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since. */
function notModified(req: IncomingMessage, entry: Entry): boolean {
  const ifNoneMatch = req.headers["if-none-match"];
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch === entry.etag) return true;
    return ifNoneMatch.split(",").some((t) => {
      const tag = t.trim();
      return tag === entry.etag || tag === "*";
    });
  }
  const ifModifiedSince = req.headers["if-modified-since"];
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && entry.mtimeSeconds <= Math.floor(since / 1000);
  }
  return false;
}
