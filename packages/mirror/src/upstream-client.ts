import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { isYumError, YumError } from "@beskar-yum/errors";
import type { FsBlobStore, IngestedBlob } from "@beskar-yum/storage";
import { HttpTransport } from "./http-transport.js";
import { hrefUrl, type MirrorEndpoint, parseMirrorUrl, redact } from "./mirror-url.js";
import type { ProxyOptions } from "./proxy.js";
import { readBody, readText } from "./read-body.js";
import { discard, type FollowedResponse, followRedirects } from "./redirects.js";
import { parseRetryAfter } from "./retry-after.js";
import { type Expected, Verification } from "./verifier.js";

export interface UpstreamClientOptions {
  /** Mirror base URLs, tried in order (failover). Credentials in a URL become basic auth, for that host only. */
  urls: string[];
  /** Where failovers, retries and redirects are reported (credentials already redacted). */
  log: (message: string) => void;
  /** Time to wait for response headers, and for body bytes while we want them (a stalled server). Default 30 s. */
  timeoutMs?: number | undefined;
  /** Attempts per mirror for transient failures (resets, timeouts, 5xx, 429). Default 3. */
  attempts?: number | undefined;
  /** First retry delay, doubled each time. Default 500 ms. */
  backoffMs?: number | undefined;
  /** Requests (keep-alive connections) at once per upstream host. Default 16; a sync passes its concurrency. */
  connections?: number | undefined;
  /** PEM: the CA that signs upstream's certificate (instead of the system's), and a client certificate + key. */
  tls?: { ca?: string; cert?: string; key?: string } | undefined;
  /** The repository's `proxy_url`, and the HTTP(S)_PROXY / NO_PROXY settings read at startup. */
  proxy?: ProxyOptions | undefined;
  /** Longest `Retry-After` (429/503) we wait for; a longer one fails at once. Default 60 s. */
  maxRetryAfterMs?: number | undefined;
  /** `Retry-After` waits per mirror and file before giving up. Default 5. */
  rateLimitRetries?: number | undefined;
  /** Redirects followed per request. Default 10. */
  maxRedirects?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** What one request to one mirror gave: the value when 200, else the status (and Retry-After). */
interface Answer<T> {
  status: number;
  value?: T;
  retryAfterMs?: number | undefined;
  /** Said after the status in errors: the proxy the request went through. */
  via?: string | undefined;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown; notFound: boolean; failed: boolean };

/** Errors worth retrying on the same mirror: the network hiccupped or the server stalled. */
function isTransient(err: unknown): boolean {
  if (isYumError(err)) return false;
  const code = (err as { code?: string }).code ?? "";
  return ["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED"].includes(code);
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code && !isYumError(err) ? `${e.code}: ${e.message}` : (e.message ?? String(err));
}

/**
 * Fetches files of one upstream repository over HTTP(S) with keep-alive, failover across its
 * mirror URLs, retries with backoff, `Retry-After`, redirects and proxies. Downloads are verified
 * while they stream.
 */
export class UpstreamClient {
  private readonly endpoints: MirrorEndpoint[];
  private readonly transport: HttpTransport;
  /** Origins of the configured URLs: the only ones that see the client certificate. */
  private readonly trusted: Set<string>;
  /** Hosts we were redirected to and have said so in the log (once each). */
  private readonly redirectedTo = new Set<string>();
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(private readonly options: UpstreamClientOptions) {
    if (options.urls.length === 0) throw new YumError("INVALID_ARGUMENT", "no mirror URL to sync from");
    this.endpoints = options.urls.map(parseMirrorUrl);
    this.trusted = new Set(this.endpoints.map((e) => e.base.origin));
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 500;
    this.transport = new HttpTransport({
      connections: options.connections ?? 16,
      timeoutMs: options.timeoutMs ?? 30_000,
      tls: options.tls,
      proxy: options.proxy,
    });
  }

  /** The mirror that answered last, for logs. */
  get current(): string {
    return this.endpoints[0]!.display;
  }

  /** One GET of `url` on `endpoint`, redirects followed; a 200's body is the caller's, any other is let go. */
  private async get(endpoint: MirrorEndpoint, url: URL, what: string): Promise<Answer<FollowedResponse>> {
    const response = await followRedirects(this.transport, url, {
      authorization: endpoint.authorization,
      trustedOrigins: this.trusted,
      maxRedirects: this.options.maxRedirects ?? 10,
      signal: this.options.signal,
      what,
    });
    if (response.status === 200) {
      this.noteRedirect(url, response.url, what);
      return { status: 200, value: response };
    }
    discard(response);
    const limited = response.status === 429 || response.status === 503;
    // A refusal may be the proxy's (401/407, 502): the error says which proxy it went through.
    const proxy = this.transport.proxyFor(response.url);
    return {
      status: response.status,
      retryAfterMs: limited ? parseRetryAfter(response.headers["retry-after"]) : undefined,
      via: proxy && ` (through proxy ${proxy.display})`,
    };
  }

  /** The sync's log names the host that served a file when it was not the configured one (once per host). */
  private noteRedirect(asked: URL, served: URL, what: string): void {
    // The same URL object when nothing redirected: no origin to compute (thousands of packages).
    if (served === asked || served.origin === asked.origin || this.redirectedTo.has(served.origin)) return;
    this.redirectedTo.add(served.origin);
    this.options.log(
      `${what} was served by ${served.host} (redirected from ${asked.host}); later files from there are not logged`,
    );
  }

  /**
   * Opens `href` on the first mirror that serves it. A mirror that fails (refused, 404, 5xx after
   * retries) is moved behind the others for the rest of this client's life, and the log says so.
   * Returns undefined when `optional` and every mirror answered 404.
   */
  private async open(
    href: string,
    optional: boolean,
  ): Promise<{ endpoint: MirrorEndpoint; value: FollowedResponse } | undefined> {
    return this.ask(href, optional, (endpoint) => this.get(endpoint, hrefUrl(endpoint, href), href));
  }

  /**
   * The mirror loop of `open`: `send` asks one mirror and returns its answer (the value when 200);
   * errors it throws are retried when transient, and move on to the next mirror when not.
   */
  private async ask<T>(
    href: string,
    optional: boolean,
    send: (endpoint: MirrorEndpoint) => Promise<Answer<T>>,
  ): Promise<{ endpoint: MirrorEndpoint; value: T } | undefined> {
    let lastError: unknown;
    let notFound = false;
    for (const endpoint of [...this.endpoints]) {
      const outcome = await this.tryOne(href, endpoint.display, () => send(endpoint));
      if (outcome.ok) return { endpoint, value: outcome.value };
      lastError = outcome.error;
      notFound ||= outcome.notFound;
      // A mirror that is down goes behind the others; one that lacks a file is only skipped for it.
      if (outcome.failed) this.demote(endpoint, lastError);
    }
    // Optional files (repomd.xml.asc) are absent when a reachable mirror says so.
    if (optional && notFound) return undefined;
    throw this.finalError(`no mirror could serve ${href}`, lastError);
  }

  /** The error of a request that no mirror could answer; our own code (too many redirects, rate limited, ...) kept. */
  private finalError(what: string, lastError: unknown, shown?: string): YumError {
    const code = isYumError(lastError) ? lastError.code : "UPSTREAM_UNAVAILABLE";
    let text = describe(lastError);
    // `what` names the URL already (a document's): said once.
    if (shown && text.startsWith(`${shown}: `)) text = text.slice(shown.length + 2);
    return new YumError(code, `${what}: ${text}`, {}, { cause: lastError });
  }

  /**
   * `send` on one mirror until it answers 200: transient errors, 5xx and 429 are retried with
   * backoff (`attempts` in all); a 429/503 with `Retry-After` waits as asked (bounded) without
   * using up an attempt. Anything else ends the tries on this mirror.
   */
  private async tryOne<T>(
    href: string,
    display: string,
    send: () => Promise<Answer<T>>,
  ): Promise<Outcome<T>> {
    let error: unknown;
    let notFound = false;
    let failed = false;
    let waits = 0;
    // A document's URL is its whole name; a mirror's file is named by mirror and href.
    const where = href === display ? display : `${display}: ${href}`;
    for (let attempt = 1; attempt <= this.attempts; ) {
      this.options.signal?.throwIfAborted();
      try {
        const { status, value, retryAfterMs, via } = await send();
        if (status === 200) return { ok: true, value: value as T };
        error = new YumError("UPSTREAM_UNAVAILABLE", `${where}: HTTP ${status}${via ?? ""}`);
        if (retryAfterMs !== undefined) {
          const wait = this.rateLimitWait(where, status, retryAfterMs, ++waits);
          if (isYumError(wait)) return { ok: false, error: wait, notFound, failed: true };
          this.options.log(`${display} asks to retry ${href} in ${wait / 1000} s (HTTP ${status}); waiting`);
          await this.sleep(wait);
          continue;
        }
        if (status === 404) notFound = true;
        else failed = true;
        if (status < 500 && status !== 429) break;
      } catch (err) {
        this.options.signal?.throwIfAborted();
        error = err;
        failed = true;
        if (!isTransient(err)) break;
      }
      if (attempt < this.attempts) {
        this.options.log(
          `retrying ${where === display ? display : `${href} on ${display}`} after: ${describe(error)}`,
        );
        await this.sleep(this.backoffMs * 2 ** (attempt - 1));
      }
      attempt++;
    }
    return { ok: false, error, notFound, failed };
  }

  /** How long to wait for a `Retry-After`, or the error when it asks too much (too long, too often). */
  private rateLimitWait(where: string, status: number, ms: number, waits: number): number | YumError {
    const maxMs = this.options.maxRetryAfterMs ?? 60_000;
    const maxWaits = this.options.rateLimitRetries ?? 5;
    if (ms > maxMs) {
      return new YumError(
        "UPSTREAM_RATE_LIMITED",
        `${where}: HTTP ${status} asks to retry after ${Math.ceil(ms / 1000)} s, more than the ${maxMs / 1000} s we wait`,
      );
    }
    if (waits > maxWaits) {
      return new YumError(
        "UPSTREAM_RATE_LIMITED",
        `${where}: still HTTP ${status} (Retry-After) after waiting ${maxWaits} times`,
      );
    }
    return ms;
  }

  /** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
  private async sleep(ms: number): Promise<void> {
    const signal = this.options.signal;
    await delay(ms, undefined, signal ? { signal } : {}).catch(() => signal?.throwIfAborted());
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
    return (await this.streamFrom(href)).body;
  }

  /** As `stream`, with the URL that finally served it (after redirects; without credentials). */
  async streamFrom(href: string): Promise<{ body: Readable; finalUrl: string }> {
    const { value } = (await this.open(href, false))!;
    return { body: value.body, finalUrl: value.url.href };
  }

  /** A small text file (repomd.xml, its signature), capped at `maxBytes`. */
  async text(href: string, options: { maxBytes: number; optional?: boolean }): Promise<string | undefined> {
    const opened = await this.open(href, options.optional ?? false);
    if (!opened) return undefined;
    try {
      return await readText(opened.value.body, options.maxBytes, href);
    } catch (err) {
      throw isYumError(err)
        ? err
        : new YumError(
            "UPSTREAM_UNAVAILABLE",
            `${opened.endpoint.display}: ${href}: ${describe(err)}`,
            {},
            { cause: err },
          );
    }
  }

  /**
   * GETs the absolute `url` (query string kept; credentials in it become basic auth for its own
   * origin only) with the same redirects, proxy, retries and timeouts, and returns its text, capped
   * at `maxBytes`, and the URL that finally answered. For documents that name mirrors (metalink,
   * mirrorlist): no failover.
   */
  async document(url: string, options: { maxBytes: number }): Promise<{ text: string; finalUrl: string }> {
    const endpoint = parseMirrorUrl(url);
    const target = new URL(url);
    target.username = "";
    target.password = "";
    target.hash = "";
    this.trusted.add(target.origin);
    const display = redact(url);
    const outcome = await this.tryOne(display, display, async () => {
      const answer = await this.get(endpoint, target, display);
      if (!answer.value) return answer as Answer<never>;
      // Read inside the try: a connection lost mid-body is retried like one lost before it.
      const text = await readText(answer.value.body, options.maxBytes, display);
      return { status: 200, value: { text, finalUrl: answer.value.url.href } };
    });
    if (outcome.ok) return outcome.value;
    throw this.finalError(`cannot fetch ${display}`, outcome.error, display);
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
    /**
     * Makes, for each attempt (a retry or the next mirror starts the body again), an inspector that
     * also sees the verified bytes as they stream and may refuse them (e.g. an RPM's payload digest).
     */
    inspector?: () => { update(chunk: Buffer): void; finish(): void },
  ): Promise<IngestedBlob> {
    return this.withFailover(href, (body) =>
      this.ingestVerified(body, href, blobs, expected, maxBytes, durable, inspector),
    );
  }

  /** Stores `body` as a blob, checked against `expected` as it streams; a blob that fails is discarded. */
  private async ingestVerified(
    body: Readable,
    display: string,
    blobs: FsBlobStore,
    expected: Expected,
    maxBytes: number,
    durable: boolean,
    inspector?: () => { update(chunk: Buffer): void; finish(): void },
  ): Promise<IngestedBlob> {
    const verification = new Verification(expected, maxBytes, display);
    const extra = inspector?.();
    const blob = await blobs.ingest(body, {
      maxBytes,
      inspect: {
        update: (chunk) => {
          verification.update(chunk);
          extra?.update(chunk);
        },
        finish: () => {
          verification.finish();
          extra?.finish();
        },
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
  }

  /**
   * `download` of an absolute `url` that upstream's metadata names (`xml:base`): retries and
   * redirects as any file, no failover (one place has it). Credentials follow the rule of
   * redirects: the basic auth of the configured mirror URL of the same origin, if any, and the
   * client certificate for configured origins only; any other origin gets neither.
   */
  async downloadUrl(
    url: URL,
    blobs: FsBlobStore,
    expected: Expected,
    maxBytes: number,
    durable = true,
    /** As `download`'s: one per attempt. */
    inspector?: () => { update(chunk: Buffer): void; finish(): void },
  ): Promise<IngestedBlob> {
    const home = this.endpoints.find((e) => e.base.origin === url.origin);
    const display = redact(url.href);
    const endpoint: MirrorEndpoint = {
      base: url,
      display,
      ...(home?.authorization ? { authorization: home.authorization } : {}),
    };
    const outcome = await this.tryOne(display, display, async () => {
      const answer = await this.get(endpoint, url, display);
      if (!answer.value) return answer as Answer<never>;
      // Read inside the try: a connection lost mid-body is retried like one lost before it.
      const blob = await this.ingestVerified(
        answer.value.body,
        display,
        blobs,
        expected,
        maxBytes,
        durable,
        inspector,
      );
      return { status: 200, value: blob };
    });
    if (outcome.ok) return outcome.value;
    throw this.finalError(`cannot fetch ${display}`, outcome.error);
  }

  /**
   * Downloads `href` whole into memory (a small file: `maxBytes` bounds it), verified against
   * `expected` as it arrives and at the end; returns the bytes and their sha256. Failover as `download`.
   * The bytes are the whole of an ArrayBuffer of their own (never Node's shared pool): they can be
   * transferred to another thread rather than copied.
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
   * One GET of `href` whole into memory, chunks taken straight from the response (no stream
   * plumbing: thousands of small packages), verified chunk by chunk; a failed verification is the
   * value, not thrown, so that `ask` does not retry it on the same mirror.
   */
  private async receive(
    endpoint: MirrorEndpoint,
    href: string,
    expected: Expected,
    maxBytes: number,
  ): Promise<Answer<{ data: Buffer; digest: string } | YumError>> {
    const answer = await this.get(endpoint, hrefUrl(endpoint, href), href);
    if (!answer.value) return answer as Answer<never>;
    const verification = new Verification(expected, maxBytes, href);
    // With a declared size (packages), each chunk is copied as it arrives into one buffer of that
    // size (`Verification` refuses a byte more): the socket's chunks are let go at once instead of
    // all being held to the end, and no concatenation copies the package a second time.
    const declared = expected.size !== undefined ? Math.min(expected.size, maxBytes) : undefined;
    let whole = declared !== undefined ? Buffer.allocUnsafeSlow(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      await readBody(answer.value.body, (chunk) => {
        verification.update(chunk);
        if (whole) chunk.copy(whole, size);
        else chunks.push(chunk);
        size += chunk.length;
      });
      verification.finish();
    } catch (err) {
      if (isYumError(err)) return { status: 200, value: err };
      throw err;
    }
    if (!whole) {
      // Not from the pool (`Buffer.concat` may take a small one from it): a buffer of its own.
      whole = Buffer.allocUnsafeSlow(size);
      let at = 0;
      for (const chunk of chunks) at += chunk.copy(whole, at);
    }
    const data = whole;
    const digest = createHash("sha256").update(data).digest("hex");
    try {
      verification.checkSha256(digest);
    } catch (err) {
      return { status: 200, value: err as YumError };
    }
    return { status: 200, value: { data, digest } };
  }

  /** Runs `receive` on the body of `href`; a mirror whose body fails (verification, reset) is demoted and the next one tried. */
  private async withFailover<T>(href: string, receive: (body: Readable) => Promise<T>): Promise<T> {
    let lastError: unknown;
    let retries = 0;
    for (let round = 0; round < this.endpoints.length; ) {
      const { endpoint, value } = (await this.open(href, false))!;
      try {
        return await receive(value.body);
      } catch (err) {
        value.body.destroy();
        this.options.signal?.throwIfAborted();
        lastError = err;
        if (!isYumError(err) && !isTransient(err)) throw err;
        // A connection lost mid-body is tried again on the same mirror, as one lost before the headers.
        if (isTransient(err) && ++retries < this.attempts) {
          this.options.log(`retrying ${href} on ${endpoint.display} after: ${describe(err)}`);
          await this.sleep(this.backoffMs * 2 ** (retries - 1));
          continue;
        }
        retries = 0;
        round++;
        if (this.endpoints.length === 1) break;
        this.demote(endpoint, err);
      }
    }
    throw isYumError(lastError)
      ? lastError
      : new YumError("UPSTREAM_UNAVAILABLE", `${href}: ${describe(lastError)}`, {}, { cause: lastError });
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
