import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { Readable, Transform } from "node:stream";

export interface AdminClientOptions {
  /** Server base URL, e.g. http://127.0.0.1:5200 ($BESKARYUM_URL). */
  url: string;
  /** Admin bearer token ($BESKARYUM_TOKEN). */
  token: string;
}

/** An error answered by the server, with Beskar's code and our stable reason. */
export class ServerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Codes of a connection that could not be made (as opposed to one that broke). */
const connectFailures = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * A request that got no answer: the server could not be reached, or the connection broke. fetch's
 * own message is only "fetch failed"; the reason is in its cause, named here with the server's URL.
 */
export class ServerUnreachable extends Error {
  /** No connection could be made (rather than one that broke): every other request will fail too. */
  readonly connect: boolean;

  constructor(url: string, err: unknown) {
    let cause = (err as { cause?: unknown }).cause ?? err;
    // Several addresses tried (localhost): the first one's reason.
    if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
    const { message, code } = cause as { message?: string; code?: string };
    const reason = message || code || String(cause);
    const connect = connectFailures.has(code ?? "");
    super(connect ? `cannot reach ${url}: ${reason}` : `no answer from ${url}: ${reason}`);
    this.connect = connect;
  }
}

/** Full repository name from what a user types: `myrepo` and `artifacts/yum/myrepo` are the same. */
export function fullRepositoryName(name: string): string {
  return name.startsWith("artifacts/yum/") ? name : `artifacts/yum/${name}`;
}

/** The admin API v1 and uploads, over HTTP. */
export class AdminClient {
  constructor(private readonly options: AdminClientOptions) {}

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body: Record<string, unknown>,
  ): Promise<T> {
    let url = `${this.options.url}/artifacts/yum/api/v1${path}`;
    const init: RequestInit = {
      method,
      headers: { authorization: `Bearer ${this.options.token}`, "content-type": "application/json" },
    };
    // fetch cannot send a GET body; the server reads the same fields from the query string.
    if (method === "GET") url += `?${new URLSearchParams(body as Record<string, string>)}`;
    else init.body = JSON.stringify(body);
    return this.decode<T>(await this.fetch(url, init));
  }

  /** A text file the server serves (a `.repo` file): its body, or the server's error. */
  async text(path: string): Promise<string> {
    const response = await this.fetch(`${this.options.url}/${path}`, {
      headers: { authorization: `Bearer ${this.options.token}` },
    });
    if (!response.ok) await this.decode(response);
    return response.text();
  }

  /** fetch, with a failure to connect named by the server's URL and its cause. */
  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (err instanceof TypeError && err.message === "fetch failed") {
        throw new ServerUnreachable(this.options.url, err);
      }
      throw err;
    }
  }

  private async decode<T>(response: Response): Promise<T> {
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new ServerError(response.status, "Unknown", `HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string } }).error ?? {};
      throw new ServerError(
        response.status,
        error.code ?? "Unknown",
        error.message ?? `HTTP ${response.status}`,
      );
    }
    return json as T;
  }

  /** Streams one RPM to the repository, reporting bytes sent. */
  async push(
    repository: string,
    file: string,
    options: { wait: boolean; onProgress?: (sent: number, total: number) => void },
  ): Promise<Record<string, unknown>> {
    const { size } = await stat(file);
    let sent = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sent += chunk.length;
        options.onProgress?.(sent, size);
        done(null, chunk);
      },
    });
    const body = Readable.toWeb(createReadStream(file).pipe(counter)) as ReadableStream;
    const url = `${this.options.url}/${repository}/repo/Packages/${encodeURIComponent(basename(file))}${options.wait ? "?wait=true" : ""}`;
    const response = await this.fetch(url, {
      method: "PUT",
      headers: {
        authorization: `Bearer ${this.options.token}`,
        "content-type": "application/x-rpm",
        "content-length": String(size),
      },
      body,
      duplex: "half",
    } as RequestInit);
    return this.decode(response);
  }
}
