import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from "node:http";
import { parseContentPath } from "@beskar-yum/repository";
import { IndexChangeWatch, type PostgresChangeTokens, type RepositoryStorage } from "@beskar-yum/storage";
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

/**
 * Where the change token of a repository's index is read: an SQLite index's own read-only connection
 * (`IndexChangeWatch`, synchronous), or PostgreSQL's change counter (`PostgresChangeTokens`, a query
 * shared by the requests that arrive together).
 */
interface TokenSource {
  /** The token now; undefined when it cannot be read or the repository is not servable. */
  version(): Token | undefined | Promise<Token | undefined>;
  /** False while the repository is being deleted. */
  servable(): boolean;
}

type Token = number | string;

/** A repository's token in PostgreSQL, which is undefined (not servable) while it is being deleted. */
class PostgresTokenSource implements TokenSource {
  constructor(
    private readonly tokens: PostgresChangeTokens,
    private readonly repository: string,
  ) {}

  version(): Promise<Token | undefined> {
    return this.tokens.read(this.repository);
  }

  servable(): boolean {
    return true;
  }
}

interface Entry {
  source: TokenSource;
  /** `source.version()` before the route read the index for this answer. */
  token: Token;
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
  source: TokenSource;
  token: Token;
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
 * `data_version` on a read-only connection, `IndexChangeWatch`; with PostgreSQL the repository row's
 * change counter, read by a query that starts after the request arrived, `PostgresChangeTokens`) is
 * the one read *before* the route read the index. Any commit (a publish, a sync's switch, an applied
 * event, by any process) changes it, and the next request goes through the route again. So once any process served a new repomd.xml
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
  private readonly tokens: PostgresChangeTokens | undefined;
  private readonly postgresSources = new Map<string, PostgresTokenSource>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private readonly maxEntryBytes: number;

  constructor(private readonly options: ContentCacheOptions) {
    this.maxEntryBytes = Math.min(16 * 1024 * 1024, Math.floor(options.maxBytes / 4));
    this.tokens = options.storage.changeTokens();
  }

  /**
   * Answers `req` from the cache and returns true, or returns false (after noting a cacheable miss)
   * for the caller to hand it to fastify; a promise of either when the token is PostgreSQL's.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean> {
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
    if (entry === undefined || performance.now() > entry.expires) return this.miss(req, url);
    const { source } = entry;
    const token = source.version();
    if (token instanceof Promise)
      return token.then(
        (now) => this.answer(req, res, url, source, now),
        () => this.miss(req, url),
      );
    return this.answer(req, res, url, source, token);
  }

  /**
   * Serves the URL's entry when `token`, read after the request arrived, is the entry's. The entry
   * is looked up again: while a PostgreSQL token was read, another request's miss may have replaced
   * it (with an answer as fresh), and serving only the entry seen before the wait would turn every
   * hit that overlaps a fill into a miss, and that miss into the next fill (measured: no hit at all
   * under 100 concurrent connections).
   */
  private answer(
    req: IncomingMessage,
    res: ServerResponse,
    url: string,
    source: TokenSource,
    token: Token | undefined,
  ): boolean | Promise<boolean> {
    if (token === undefined) return this.miss(req, url);
    const entry = this.entries.get(url);
    if (
      entry === undefined ||
      entry.source !== source ||
      entry.token !== token ||
      performance.now() > entry.expires
    ) {
      // A stale entry is never served; the route's answer replaces it (keeping its body when unchanged).
      // The token just read is as good as one read on a miss: the route reads the index after it.
      this.misses++;
      pending.set(req, { cache: this, url, source, token });
      return false;
    }
    this.serve(req, res, url, entry);
    return true;
  }

  private serve(req: IncomingMessage, res: ServerResponse, url: string, entry: Entry): void {
    const started = performance.now();
    const method = req.method!;
    this.hits++;
    if (this.options.sendTimeoutMs) req.socket.setTimeout(this.options.sendTimeoutMs);
    if (notModified(req, entry)) {
      res.writeHead(304, entry.notModifiedHeaders);
      res.end();
      this.options.observe?.(url, method, 304, (performance.now() - started) / 1000);
      return;
    }
    const accel = accelRedirectFor(this.options.accelRedirect, req.headers, entry.file, entry.size);
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

  /**
   * A GET of content without a query string: remember what the route will answer, with the token
   * read now (before the route reads the index: with PostgreSQL, the route waits for it).
   */
  private miss(req: IncomingMessage, url: string): boolean | Promise<boolean> {
    this.misses++;
    if (!url.startsWith("/artifacts/yum/") || url.startsWith("/artifacts/yum/api/") || url.includes("?"))
      return false;
    let path: ReturnType<typeof parseContentPath>;
    try {
      path = parseContentPath(url);
    } catch {
      return false;
    }
    if (!path || path.kind === "extra") return false;
    const source = this.sourceOf(path.repository);
    const token = source?.version();
    if (!source || token === undefined) return false;
    const note = (read: Token | undefined) => {
      if (read !== undefined) pending.set(req, { cache: this, url, source, token: read });
      return false;
    };
    return token instanceof Promise ? token.then(note, () => false) : note(token);
  }

  private sourceOf(repository: string): TokenSource | undefined {
    if (!this.tokens) return this.watchOf(repository);
    let source = this.postgresSources.get(repository);
    if (!source) {
      if (this.postgresSources.size >= MAX_WATCHES) this.postgresSources.clear();
      source = new PostgresTokenSource(this.tokens, repository);
      this.postgresSources.set(repository, source);
    }
    return source;
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
    if (!miss.source.servable()) return;
    const lastModified = content.mtime.toUTCString();
    const previous = this.entries.get(miss.url);
    const kept =
      previous?.body !== undefined && previous.etag === content.etag && previous.size === content.size
        ? previous.body
        : undefined;
    if (previous) this.drop(miss.url, previous);
    const entry: Entry = {
      source: miss.source,
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
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    for (const handler of handlers) handler(req, res);
  };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const answered = cache.handle(req, res);
    if (answered === true) return;
    if (answered === false) forward(req, res);
    else
      answered.then(
        (done) => done || forward(req, res),
        () => res.destroy(),
      );
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
