import * as http from "node:http";
import * as https from "node:https";
import { pipeline, type Readable } from "node:stream";
import type * as tls from "node:tls";
import { YumError } from "@beskar-yum/errors";
import { OCI_MANIFEST_MEDIATYPE } from "./oci-manifest.js";
import { digestVerifier } from "./verified-stream.js";

const MAX_REDIRECTS = 3;

/** How to reach a registry: its base URL, and for TLS (Beskar's mTLS) an agent and connection options. */
export interface RegistryTransportOptions {
  /** `http://host:port` or `https://host:port`; `/v2/...` is resolved against it. */
  baseUrl: string;
  /** Keep-alive agent for the registry's origin (default: a keep-alive agent of our own). */
  agent?: http.Agent;
  /** TLS options for the registry's origin (client certificate, CA, server name). */
  tls?: tls.ConnectionOptions;
}

export interface RegistryClientOptions extends RegistryTransportOptions {
  /** HTTP basic auth. */
  username?: string;
  password?: string;
  /** A bearer token (wins over basic auth). */
  token?: string;
  /** Inactivity timeout of a request. Default 30 s. */
  timeoutMs?: number;
}

/** Where a registry is and how to log in, as configuration gives it (`registry.*`). */
export interface RegistrySettings {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
}

/** Client options from configured settings (credentials only when set). */
export function registryClientOptions(settings: RegistrySettings): RegistryClientOptions {
  return {
    baseUrl: settings.url,
    ...(settings.username !== undefined ? { username: settings.username } : {}),
    ...(settings.password !== undefined ? { password: settings.password } : {}),
    ...(settings.token !== undefined ? { token: settings.token } : {}),
  };
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface PushedManifest {
  /** `Docker-Content-Digest` of the stored manifest. */
  digest: string;
}

export interface FetchedManifest {
  digest: string | undefined;
  mediaType: string | undefined;
  bytes: Buffer;
}

/** Where a blob to upload comes from: a fresh stream on each call (a retry needs another). */
export type BlobSource = () => Readable | Buffer;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  res: http.IncomingMessage;
}

/** A request body: bytes, or a source called once per attempt (a token challenge sends it again). */
type Body = Buffer | BlobSource | undefined;

/**
 * An OCI distribution client (the subset Beskar's layout needs): HEAD/GET/upload blobs, PUT/GET/DELETE
 * manifests, list tags. Failures are `YumError`s: `REGISTRY_UNAVAILABLE` (connection refused, timeout,
 * 5xx), `REGISTRY_NOT_FOUND` (404), `REGISTRY_REJECTED` (any other refusal), `REGISTRY_DIGEST_MISMATCH`.
 *
 * Authentication: a static bearer token, HTTP basic auth, or the distribution token flow most
 * registries use (Harbor, GitLab, Docker Hub, docker-registry with `auth.token`): a 401 whose
 * `WWW-Authenticate: Bearer realm=...,service=...,scope=...` names a token service is answered by
 * fetching a token there (with the basic credentials, when configured) and sending the request again;
 * tokens are kept per scope until they expire.
 */
export class RegistryClient {
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly agent: http.Agent;
  private readonly ownAgent: boolean;
  private readonly authorization: string | undefined;
  private readonly basic: string | undefined;
  private readonly timeoutMs: number;
  /** Token-service tokens by OCI repository (the last scope granted for it). */
  private readonly tokens = new Map<string, { token: string; expires: number; scope: string }>();

  constructor(private readonly options: RegistryClientOptions) {
    const base = new URL(options.baseUrl);
    this.baseUrl = base.origin;
    this.origin = base.origin;
    this.ownAgent = options.agent === undefined;
    this.agent =
      options.agent ??
      (base.protocol === "https:"
        ? new https.Agent({ keepAlive: true, maxSockets: 16, ...options.tls })
        : new http.Agent({ keepAlive: true, maxSockets: 16 }));
    this.basic =
      options.username !== undefined
        ? `Basic ${Buffer.from(`${options.username}:${options.password ?? ""}`).toString("base64")}`
        : undefined;
    this.authorization = options.token ? `Bearer ${options.token}` : this.basic;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** True when the registry has the blob in `repository` (HEAD). */
  async hasBlob(repository: string, digest: string, options: RequestOptions = {}): Promise<boolean> {
    const reply = await this.send("HEAD", `/v2/${repository}/blobs/${digest}`, {}, undefined, options);
    reply.res.resume();
    if (reply.status === 200) return true;
    if (reply.status === 404) return false;
    throw this.refusal("HEAD", `/v2/${repository}/blobs/${digest}`, reply.status, "");
  }

  /**
   * Uploads a blob whose digest and size are known (POST, then PUT `<Location>&digest=`), unless HEAD
   * says the registry has it already. `mountFrom` tries a cross-repository mount first.
   * @returns whether bytes were sent
   */
  async pushBlob(
    repository: string,
    blob: { digest: string; size: number; source: BlobSource; mountFrom?: string },
    options: RequestOptions = {},
  ): Promise<boolean> {
    if (await this.hasBlob(repository, blob.digest, options)) return false;
    const start = blob.mountFrom
      ? `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(blob.mountFrom)}`
      : `/v2/${repository}/blobs/uploads/`;
    const started = await this.send("POST", start, { "content-length": "0" }, Buffer.alloc(0), options);
    const startBody = await readBody(started.res);
    if (started.status === 201) return false; // mounted
    if (started.status !== 202 || typeof started.headers.location !== "string") {
      throw this.refusal("POST", start, started.status, startBody);
    }
    const location = new URL(started.headers.location, this.origin);
    location.searchParams.set("digest", blob.digest);
    const put = await this.send(
      "PUT",
      location.pathname + location.search,
      { "content-type": "application/octet-stream", "content-length": String(blob.size) },
      blob.source,
      options,
      location.origin,
    );
    const putBody = await readBody(put.res);
    if (put.status !== 201) throw this.refusal("PUT", location.pathname, put.status, putBody);
    return true;
  }

  /** Stores a manifest under `reference` (a tag or its digest); returns the registry's digest of it. */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Buffer,
    mediaType = OCI_MANIFEST_MEDIATYPE,
    options: RequestOptions = {},
  ): Promise<PushedManifest> {
    const path = `/v2/${repository}/manifests/${reference}`;
    const reply = await this.send(
      "PUT",
      path,
      { "content-type": mediaType, "content-length": String(bytes.length) },
      bytes,
      options,
    );
    const body = await readBody(reply.res);
    if (reply.status !== 201) throw this.refusal("PUT", path, reply.status, body);
    const digest = reply.headers["docker-content-digest"];
    if (typeof digest !== "string") {
      throw new YumError("REGISTRY_REJECTED", `PUT ${path}: no Docker-Content-Digest in the answer`, {
        path,
      });
    }
    return { digest };
  }

  /** A manifest by tag or digest, asked for as OCI (docker-registry answers 404 otherwise). */
  async getManifest(
    repository: string,
    reference: string,
    options: RequestOptions = {},
  ): Promise<FetchedManifest> {
    const path = `/v2/${repository}/manifests/${reference}`;
    const reply = await this.send(
      "GET",
      path,
      { accept: `${OCI_MANIFEST_MEDIATYPE}, application/vnd.docker.distribution.manifest.v2+json` },
      undefined,
      options,
    );
    const bytes = await readBuffer(reply.res);
    if (reply.status !== 200) throw this.refusal("GET", path, reply.status, bytes.toString("utf8"));
    const digest = reply.headers["docker-content-digest"];
    return {
      bytes,
      digest: typeof digest === "string" ? digest : undefined,
      mediaType: reply.headers["content-type"],
    };
  }

  /**
   * Deletes a manifest by digest (registries refuse a delete by tag). A manifest already gone is what
   * was asked for: false, not an error.
   * @returns whether the registry had it
   */
  async deleteManifest(repository: string, digest: string, options: RequestOptions = {}): Promise<boolean> {
    if (!digest.startsWith("sha256:")) {
      throw new YumError(
        "INVALID_ARGUMENT",
        `a manifest is deleted by digest, not by ${JSON.stringify(digest)}`,
      );
    }
    const path = `/v2/${repository}/manifests/${digest}`;
    const reply = await this.send("DELETE", path, {}, undefined, options);
    const body = await readBody(reply.res);
    if (reply.status === 404) return false;
    if (reply.status !== 202 && reply.status !== 200) throw this.refusal("DELETE", path, reply.status, body);
    return true;
  }

  /** The tags of `repository` (none when the repository does not exist). */
  async listTags(repository: string, options: RequestOptions = {}): Promise<string[]> {
    const path = `/v2/${repository}/tags/list`;
    const reply = await this.send("GET", path, {}, undefined, options);
    const body = await readBody(reply.res);
    if (reply.status === 404) return [];
    if (reply.status !== 200) throw this.refusal("GET", path, reply.status, body);
    const tags = (JSON.parse(body) as { tags?: string[] | null }).tags;
    return Array.isArray(tags) ? tags : [];
  }

  /**
   * Streams a blob. A redirect (a registry backed by object storage) is followed, without our
   * credentials and TLS client certificate when it leaves the registry. The stream errors before its
   * end when the bytes do not match `digest`/`size`.
   */
  async openBlob(
    repository: string,
    blob: { digest: string; size?: number | undefined },
    options: RequestOptions = {},
  ): Promise<Readable> {
    let url = new URL(`/v2/${repository}/blobs/${blob.digest}`, this.origin);
    for (let redirects = 0; ; redirects++) {
      const reply = await this.send("GET", url.pathname + url.search, {}, undefined, options, url.origin);
      const { status } = reply;
      if (status >= 300 && status < 400 && reply.headers.location && redirects < MAX_REDIRECTS) {
        reply.res.resume();
        url = new URL(reply.headers.location, url);
        continue;
      }
      if (status !== 200) throw this.refusal("GET", url.pathname, status, await readBody(reply.res));
      const verified = digestVerifier(blob.digest, blob.size);
      // pipeline destroys `verified` with the error when the response fails midway.
      pipeline(reply.res, verified, () => {});
      return verified;
    }
  }

  /**
   * Bytes `start` to `start + length - 1` of a blob (HTTP Range; fewer at its end), following
   * redirects as `openBlob` does. A registry that ignores Range answers the whole blob: only
   * `length` bytes of it are read before the connection is dropped, so a restore never
   * downloads a whole package either way. Not verified against the digest (a part cannot be).
   */
  async readBlobRange(
    repository: string,
    digest: string,
    start: number,
    length: number,
    options: RequestOptions = {},
  ): Promise<Buffer> {
    if (length <= 0) return Buffer.alloc(0);
    const range = { range: `bytes=${start}-${start + length - 1}` };
    let url = new URL(`/v2/${repository}/blobs/${digest}`, this.origin);
    for (let redirects = 0; ; redirects++) {
      const reply = await this.send("GET", url.pathname + url.search, range, undefined, options, url.origin);
      const { status } = reply;
      if (status >= 300 && status < 400 && reply.headers.location && redirects < MAX_REDIRECTS) {
        reply.res.resume();
        url = new URL(reply.headers.location, url);
        continue;
      }
      if (status === 416) {
        reply.res.resume();
        return Buffer.alloc(0);
      }
      if (status !== 206 && status !== 200) {
        throw this.refusal("GET", url.pathname, status, await readBody(reply.res));
      }
      // 200: the whole blob from its first byte; skip to `start` and stop after `length`.
      return readSlice(reply.res, status === 200 ? start : 0, length, status === 200);
    }
  }

  /** Closes idle sockets of the agent this client made (a shared agent is left alone). */
  close(): void {
    if (this.ownAgent) this.agent.destroy();
  }

  private refusal(method: string, path: string, status: number, body: string): YumError {
    const detail = body.trim().slice(0, 300);
    const message = `${method} ${path}: registry answered HTTP ${status}${detail ? `: ${detail}` : ""}`;
    const details = { method, path, status };
    if (status === 404) return new YumError("REGISTRY_NOT_FOUND", message, details);
    if (status >= 500 || status === 429) return new YumError("REGISTRY_UNAVAILABLE", message, details);
    return new YumError("REGISTRY_REJECTED", message, details);
  }

  /**
   * Sends a request; a 401 that points at a token service is answered with a token for the scope it
   * names and the request is sent once more.
   */
  private async send(
    method: string,
    pathAndQuery: string,
    headers: Record<string, string>,
    body: Body,
    options: RequestOptions,
    origin = this.origin,
  ): Promise<Reply> {
    const url = new URL(pathAndQuery, origin);
    const ours = url.origin === this.origin;
    const repository = ours ? repositoryOf(url.pathname) : undefined;
    const cached = repository ? this.tokens.get(repository) : undefined;
    const bearer = cached && cached.expires > Date.now() ? `Bearer ${cached.token}` : undefined;
    const first = await this.sendOnce(
      method,
      url,
      headers,
      body,
      options,
      ours ? (bearer ?? this.authorization) : undefined,
    );
    const challenge =
      ours && first.status === 401 ? parseBearerChallenge(first.headers["www-authenticate"]) : undefined;
    if (!challenge) return first;
    first.res.resume();
    const token = await this.fetchToken(challenge, options);
    if (repository) this.tokens.set(repository, { ...token, scope: challenge.scope ?? "" });
    return this.sendOnce(method, url, headers, body, options, `Bearer ${token.token}`);
  }

  /** A token from the registry's token service for what `challenge` asks (basic credentials when configured). */
  private async fetchToken(
    challenge: BearerChallenge,
    options: RequestOptions,
  ): Promise<{ token: string; expires: number }> {
    const realm = new URL(challenge.realm);
    if (challenge.service) realm.searchParams.set("service", challenge.service);
    if (challenge.scope) realm.searchParams.set("scope", challenge.scope);
    const where = `token service ${realm.origin}${realm.pathname}`;
    const reply = await this.sendOnce("GET", realm, {}, undefined, options, this.basic);
    const text = await readBody(reply.res);
    if (reply.status !== 200) {
      const status =
        reply.status === 401 || reply.status === 403 ? "REGISTRY_REJECTED" : "REGISTRY_UNAVAILABLE";
      throw new YumError(
        status,
        `${where} answered HTTP ${reply.status}${text ? `: ${text.trim().slice(0, 200)}` : ""}`,
        {
          status: reply.status,
        },
      );
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new YumError("REGISTRY_REJECTED", `${where} answered something that is not JSON`);
    }
    const token = typeof parsed.token === "string" ? parsed.token : parsed.access_token;
    if (typeof token !== "string" || token === "")
      throw new YumError("REGISTRY_REJECTED", `${where} answered without a token`);
    // The spec's default lifetime is 60 s; renew a little early.
    const lifetime = typeof parsed.expires_in === "number" && parsed.expires_in > 0 ? parsed.expires_in : 60;
    return { token, expires: Date.now() + Math.max(0, lifetime - 10) * 1000 };
  }

  private sendOnce(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: Body,
    options: RequestOptions,
    authorization: string | undefined,
  ): Promise<Reply> {
    const ours = url.origin === this.origin;
    const payload = typeof body === "function" ? body() : body;
    const requestOptions: https.RequestOptions = {
      method,
      headers: {
        ...headers,
        ...(authorization ? { authorization } : {}),
      },
      timeout: this.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(ours ? { agent: this.agent, ...this.options.tls } : {}),
    };
    const client = url.protocol === "http:" ? http : https;
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        if (err instanceof YumError || err.name === "AbortError") reject(err);
        else
          reject(
            new YumError("REGISTRY_UNAVAILABLE", `${method} ${url.origin}${url.pathname}: ${err.message}`, {
              method,
              url: `${url.origin}${url.pathname}`,
            }),
          );
      };
      const req = client.request(url, requestOptions, (res) =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, res }),
      );
      req.on("timeout", () => req.destroy(new Error("no answer for too long")));
      req.on("error", fail);
      if (payload === undefined) req.end();
      else if (Buffer.isBuffer(payload)) req.end(payload);
      else pipeline(payload, req, (err) => err && req.destroy(err));
    });
  }
}

/** The OCI repository a `/v2/<name>/(blobs|manifests|tags)/...` path is about. */
function repositoryOf(pathname: string): string | undefined {
  return /^\/v2\/(.+?)\/(?:blobs|manifests|tags)\//.exec(pathname)?.[1];
}

interface BearerChallenge {
  realm: string;
  service?: string;
  scope?: string;
}

/** `WWW-Authenticate: Bearer realm="...",service="...",scope="..."`; undefined for any other scheme. */
export function parseBearerChallenge(header: string | string[] | undefined): BearerChallenge | undefined {
  const value = Array.isArray(header) ? header.find((h) => /^bearer\s/i.test(h)) : header;
  if (!value || !/^bearer\s/i.test(value)) return undefined;
  const params: Record<string, string> = {};
  for (const m of value.slice(value.indexOf(" ") + 1).matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) {
    params[m[1]!.toLowerCase()] = m[2]!;
  }
  if (!params.realm) return undefined;
  try {
    new URL(params.realm);
  } catch {
    return undefined;
  }
  return {
    realm: params.realm,
    ...(params.service !== undefined ? { service: params.service } : {}),
    ...(params.scope !== undefined ? { scope: params.scope } : {}),
  };
}

function readBuffer(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("end", () => resolve(Buffer.concat(chunks)));
    res.on("error", reject);
  });
}

/**
 * `length` bytes of a response after skipping `skip`. A `whole` blob's response is destroyed once
 * they are in; a 206's rest (nothing, normally) is drained so that its socket is kept alive.
 */
function readSlice(res: http.IncomingMessage, skip: number, length: number, whole: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let seen = 0;
    let kept = 0;
    const done = () => {
      res.off("data", onData);
      resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer) => {
      const from = Math.max(0, skip - seen);
      seen += chunk.length;
      if (from >= chunk.length) return;
      const part = chunk.subarray(from, from + (length - kept));
      chunks.push(part);
      kept += part.length;
      if (kept >= length) {
        done();
        if (whole) res.destroy();
        else res.resume();
      }
    };
    res.on("data", onData);
    res.on("end", done);
    res.on("error", (err) => (kept >= length ? undefined : reject(err)));
  });
}

async function readBody(res: http.IncomingMessage): Promise<string> {
  return (await readBuffer(res)).toString("utf8");
}
