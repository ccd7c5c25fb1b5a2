import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { isYumError, YumError } from "@beskar-yum/errors";
import type { FsBlobStore, IngestedBlob } from "@beskar-yum/storage";
import { Agent, request } from "undici";
import { hrefUrl, type MirrorEndpoint, parseMirrorUrl } from "./mirror-url.js";
import { type Expected, Verification } from "./verifier.js";

export interface UpstreamClientOptions {
  /** Mirror base URLs, tried in order (failover). Credentials in a URL become basic auth. */
  urls: string[];
  /** Where failovers and retries are reported (credentials already redacted). */
  log: (message: string) => void;
  /** Time to wait for response headers, and between two body chunks (a stalled server). Default 30 s. */
  timeoutMs?: number;
  /** Attempts per mirror for transient failures (resets, timeouts, 5xx). Default 3. */
  attempts?: number;
  /** First retry delay, doubled each time. Default 500 ms. */
  backoffMs?: number;
  /** Keep-alive connections per upstream host. Default 16. */
  connections?: number;
  /** PEM: the CA that signs upstream's certificate (instead of the system's), and a client certificate + key. */
  tls?: { ca?: string; cert?: string; key?: string };
  signal?: AbortSignal;
}

interface Attempt {
  endpoint: MirrorEndpoint;
  body: Readable;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Errors worth retrying on the same mirror: the network hiccupped or the server is overloaded. */
function isTransient(err: unknown): boolean {
  if (isYumError(err)) return false;
  const code = (err as { code?: string }).code ?? "";
  return [
    "ECONNRESET",
    "EPIPE",
    "ETIMEDOUT",
    "UND_ERR_SOCKET",
    "UND_ERR_HEADERS_TIMEOUT",
    "UND_ERR_BODY_TIMEOUT",
  ].includes(code);
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code && !isYumError(err) ? `${e.code}: ${e.message}` : (e.message ?? String(err));
}

/**
 * Fetches files of one upstream repository over HTTP(S) with keep-alive, failover across its
 * mirror URLs and retries with backoff. Downloads are verified while they stream.
 */
export class UpstreamClient {
  private readonly endpoints: MirrorEndpoint[];
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(private readonly options: UpstreamClientOptions) {
    if (options.urls.length === 0) throw new YumError("INVALID_ARGUMENT", "no mirror URL to sync from");
    this.endpoints = options.urls.map(parseMirrorUrl);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 500;
    this.agent = new Agent({
      connections: options.connections ?? 16,
      keepAliveTimeout: 10_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: {
        ...(options.tls?.ca ? { ca: options.tls.ca } : {}),
        ...(options.tls?.cert ? { cert: options.tls.cert } : {}),
        ...(options.tls?.key ? { key: options.tls.key } : {}),
      },
    });
  }

  /** The mirror that answered last, for logs. */
  get current(): string {
    return this.endpoints[0]!.display;
  }

  /**
   * Opens `href` on the first mirror that serves it. A mirror that fails (refused, 404, 5xx after
   * retries) is moved behind the others for the rest of this client's life, and the log says so.
   * Returns undefined when `optional` and every mirror answered 404.
   */
  private open(href: string, optional: boolean): Promise<Attempt | undefined> {
    return this.ask(href, optional, async (endpoint) => {
      const response = await request(hrefUrl(endpoint, href), {
        dispatcher: this.agent,
        method: "GET",
        headers: endpoint.authorization ? { authorization: endpoint.authorization } : {},
        signal: this.options.signal,
      });
      if (response.statusCode === 200) return { status: 200, value: response.body };
      await response.body.dump();
      return { status: response.statusCode };
    }).then((answer) => answer && { endpoint: answer.endpoint, body: answer.value });
  }

  /**
   * The mirror loop of `open`: `send` asks one mirror and returns its answer (the value when 200);
   * errors it throws are retried when transient, and move on to the next mirror when not.
   */
  private async ask<T>(
    href: string,
    optional: boolean,
    send: (endpoint: MirrorEndpoint) => Promise<{ status: number; value?: T }>,
  ): Promise<{ endpoint: MirrorEndpoint; value: T } | undefined> {
    let lastError: unknown;
    let notFound = false;
    for (const endpoint of [...this.endpoints]) {
      let failed = false;
      for (let attempt = 1; attempt <= this.attempts; attempt++) {
        this.options.signal?.throwIfAborted();
        try {
          const { status, value } = await send(endpoint);
          if (status === 200) return { endpoint, value: value as T };
          lastError = new YumError("UPSTREAM_UNAVAILABLE", `${endpoint.display}: ${href}: HTTP ${status}`);
          if (status === 404) notFound = true;
          else failed = true;
          if (status < 500) break;
        } catch (err) {
          lastError = err;
          failed = true;
          if (!isTransient(err)) break;
        }
        if (attempt < this.attempts) {
          this.options.log(`retrying ${href} on ${endpoint.display} after: ${describe(lastError)}`);
          await sleep(this.backoffMs * 2 ** (attempt - 1));
        }
      }
      // A mirror that is down goes behind the others; one that lacks a file is only skipped for it.
      if (failed) this.demote(endpoint, lastError);
    }
    // Optional files (repomd.xml.asc) are absent when a reachable mirror says so.
    if (optional && notFound) return undefined;
    throw new YumError(
      "UPSTREAM_UNAVAILABLE",
      `no mirror could serve ${href}: ${describe(lastError)}`,
      {},
      { cause: lastError },
    );
  }

  private demote(endpoint: MirrorEndpoint, err: unknown): void {
    const index = this.endpoints.indexOf(endpoint);
    if (index === -1 || this.endpoints.length === 1) return;
    this.endpoints.splice(index, 1);
    this.endpoints.push(endpoint);
    this.options.log(
      `mirror ${endpoint.display} failed (${describe(err)}); using ${this.endpoints[0]!.display}`,
    );
  }

  /** The body of `href` from the first mirror that serves it; the caller consumes or destroys it. */
  async stream(href: string): Promise<Readable> {
    return (await this.open(href, false))!.body;
  }

  /** A small text file (repomd.xml, its signature), capped at `maxBytes`. */
  async text(href: string, options: { maxBytes: number; optional?: boolean }): Promise<string | undefined> {
    const opened = await this.open(href, options.optional ?? false);
    if (!opened) return undefined;
    const chunks: Buffer[] = [];
    const check = new Verification({}, options.maxBytes, href);
    try {
      for await (const chunk of opened.body as AsyncIterable<Buffer>) {
        check.update(chunk);
        chunks.push(chunk);
      }
    } catch (err) {
      opened.body.destroy();
      throw isYumError(err)
        ? err
        : new YumError(
            "UPSTREAM_UNAVAILABLE",
            `${opened.endpoint.display}: ${href}: ${describe(err)}`,
            {},
            { cause: err },
          );
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  /**
   * GETs the absolute `url` (query string kept; credentials in it become basic auth for its own
   * origin only) and returns its text, capped at `maxBytes`, and the URL that finally answered.
   * For documents that name mirrors (metalink, mirrorlist): no failover, transient errors retried.
   */
  async document(url: string, options: { maxBytes: number }): Promise<{ text: string; finalUrl: string }> {
    const endpoint = parseMirrorUrl(url);
    const target = new URL(url);
    target.username = "";
    target.password = "";
    target.hash = "";
    const answer = await this.retrying(endpoint.display, async () => {
      const response = await request(target, {
        dispatcher: this.agent,
        method: "GET",
        headers: endpoint.authorization ? { authorization: endpoint.authorization } : {},
        signal: this.options.signal,
      });
      if (response.statusCode !== 200) {
        await response.body.dump();
        return { status: response.statusCode };
      }
      const check = new Verification({}, options.maxBytes, endpoint.display);
      const chunks: Buffer[] = [];
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        check.update(chunk);
        chunks.push(chunk);
      }
      return { status: 200, value: Buffer.concat(chunks).toString("utf8") };
    });
    return { text: answer, finalUrl: target.href };
  }

  /** `send` retried while it fails transiently (or answers 5xx), for a single URL. */
  private async retrying<T>(what: string, send: () => Promise<{ status: number; value?: T }>): Promise<T> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      this.options.signal?.throwIfAborted();
      try {
        const { status, value } = await send();
        if (status === 200) return value as T;
        lastError = new YumError("UPSTREAM_UNAVAILABLE", `${what}: HTTP ${status}`);
        if (status < 500) break;
      } catch (err) {
        lastError = err;
        if (!isTransient(err)) break;
      }
      if (attempt < this.attempts) await sleep(this.backoffMs * 2 ** (attempt - 1));
    }
    throw isYumError(lastError)
      ? lastError
      : new YumError("UPSTREAM_UNAVAILABLE", `${what}: ${describe(lastError)}`, {}, { cause: lastError });
  }

  /**
   * Downloads `href` into `blobs` (not yet committed), verified against `expected` while streaming.
   * A file that fails verification on one mirror is tried on the next before the error is final.
   */
  async download(
    href: string,
    blobs: FsBlobStore,
    expected: Expected,
    maxBytes: number,
    /** False: the caller fsyncs many blobs at once later (`FsBlobStore.syncMany`). */
    durable = true,
    /** Also sees the verified bytes as they stream (e.g. to keep an RPM's headers). */
    tap?: (chunk: Buffer) => void,
  ): Promise<IngestedBlob> {
    return this.withFailover(href, async (body) => {
      const verification = new Verification(expected, maxBytes, href);
      const blob = await blobs.ingest(body, {
        maxBytes,
        inspect: {
          update: (chunk) => {
            verification.update(chunk);
            tap?.(chunk);
          },
          finish: () => verification.finish(),
        },
        durable,
        signal: this.options.signal,
      });
      try {
        verification.checkSha256(blob.digest);
      } catch (err) {
        await blobs.discard(blob);
        throw err;
      }
      return blob;
    });
  }

  /**
   * Downloads `href` whole into memory (a small file: `maxBytes` bounds it), verified against
   * `expected` as it arrives and at the end; returns the bytes and their sha256. Failover as `download`.
   */
  async fetchVerified(
    href: string,
    expected: Expected,
    maxBytes: number,
  ): Promise<{ data: Buffer; digest: string }> {
    let lastError: unknown;
    for (let round = 0; round < this.endpoints.length; round++) {
      const { endpoint, value } = (await this.ask(href, false, (e) =>
        this.receive(e, href, expected, maxBytes),
      ))!;
      if (!(value instanceof Error)) return value;
      // Verification failed on this mirror: the next one may have the right bytes.
      lastError = value;
      if (this.endpoints.length === 1) break;
      this.demote(endpoint, value);
    }
    throw lastError;
  }

  /**
   * One GET of `href` whole into memory through undici's dispatcher (no body stream: thousands of
   * small packages), verified chunk by chunk; a failed verification is the value, not thrown, so
   * that `ask` does not retry it on the same mirror.
   */
  private receive(
    endpoint: MirrorEndpoint,
    href: string,
    expected: Expected,
    maxBytes: number,
  ): Promise<{ status: number; value?: { data: Buffer; digest: string } | YumError }> {
    const url = new URL(hrefUrl(endpoint, href));
    const signal = this.options.signal;
    return new Promise((resolve, reject) => {
      const verification = new Verification(expected, maxBytes, href);
      const chunks: Buffer[] = [];
      let size = 0;
      let status = 0;
      let mismatch: YumError | undefined;
      let abort: ((err: Error) => void) | undefined;
      const onAbort = () => abort?.(signal!.reason as Error);
      const settle = () => signal?.removeEventListener("abort", onAbort);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.agent.dispatch(
        {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: "GET",
          headers: endpoint.authorization ? { authorization: endpoint.authorization } : {},
        },
        {
          onConnect: (abortRequest: (err: Error) => void) => {
            abort = abortRequest;
            if (signal?.aborted) abortRequest(signal.reason as Error);
          },
          onHeaders: (statusCode: number) => {
            status = statusCode;
            return true;
          },
          onData: (chunk: Buffer) => {
            if (status !== 200 || mismatch) return true;
            try {
              verification.update(chunk);
            } catch (err) {
              // More bytes than declared: stop reading now.
              mismatch = err as YumError;
              abort?.(mismatch);
              return false;
            }
            chunks.push(chunk);
            size += chunk.length;
            return true;
          },
          onComplete: () => {
            settle();
            if (status !== 200) return resolve({ status });
            try {
              verification.finish();
              const data = Buffer.concat(chunks, size);
              const digest = createHash("sha256").update(data).digest("hex");
              verification.checkSha256(digest);
              resolve({ status, value: { data, digest } });
            } catch (err) {
              resolve({ status, value: err as YumError });
            }
          },
          onError: (err: Error) => {
            settle();
            if (mismatch) resolve({ status: 200, value: mismatch });
            else reject(err);
          },
        },
      );
    });
  }

  /** Runs `receive` on the body of `href`; a mirror whose body fails (verification, reset) is demoted and the next one tried. */
  private async withFailover<T>(href: string, receive: (body: Readable) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let round = 0; round < this.endpoints.length; round++) {
      const { endpoint, body } = (await this.open(href, false))!;
      try {
        return await receive(body);
      } catch (err) {
        body.destroy();
        lastError = err;
        if (!isYumError(err) && !isTransient(err)) throw err;
        if (this.endpoints.length === 1) break;
        this.demote(endpoint, err);
      }
    }
    throw isYumError(lastError)
      ? lastError
      : new YumError("UPSTREAM_UNAVAILABLE", `${href}: ${describe(lastError)}`, {}, { cause: lastError });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
