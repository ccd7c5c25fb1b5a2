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

/**
 * An OCI distribution client (the subset Beskar's layout needs): HEAD/GET/upload blobs, PUT/GET/DELETE
 * manifests, list tags. Failures are `YumError`s: `REGISTRY_UNAVAILABLE` (connection refused, timeout,
 * 5xx), `REGISTRY_NOT_FOUND` (404), `REGISTRY_REJECTED` (any other refusal), `REGISTRY_DIGEST_MISMATCH`.
 */
export class RegistryClient {
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly agent: http.Agent;
  private readonly ownAgent: boolean;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;

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
    this.authorization = options.token
      ? `Bearer ${options.token}`
      : options.username !== undefined
        ? `Basic ${Buffer.from(`${options.username}:${options.password ?? ""}`).toString("base64")}`
        : undefined;
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
      blob.source(),
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

  /** Deletes a manifest by digest (registries refuse a delete by tag). */
  async deleteManifest(repository: string, digest: string, options: RequestOptions = {}): Promise<void> {
    if (!digest.startsWith("sha256:")) {
      throw new YumError(
        "INVALID_ARGUMENT",
        `a manifest is deleted by digest, not by ${JSON.stringify(digest)}`,
      );
    }
    const path = `/v2/${repository}/manifests/${digest}`;
    const reply = await this.send("DELETE", path, {}, undefined, options);
    const body = await readBody(reply.res);
    if (reply.status !== 202 && reply.status !== 200) throw this.refusal("DELETE", path, reply.status, body);
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

  private send(
    method: string,
    pathAndQuery: string,
    headers: Record<string, string>,
    body: Readable | Buffer | undefined,
    options: RequestOptions,
    origin = this.origin,
  ): Promise<Reply> {
    const url = new URL(pathAndQuery, origin);
    const ours = url.origin === this.origin;
    const requestOptions: https.RequestOptions = {
      method,
      headers: {
        ...headers,
        ...(ours && this.authorization ? { authorization: this.authorization } : {}),
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
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else pipeline(body, req, (err) => err && req.destroy(err));
    });
  }
}

function readBuffer(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("end", () => resolve(Buffer.concat(chunks)));
    res.on("error", reject);
  });
}

async function readBody(res: http.IncomingMessage): Promise<string> {
  return (await readBuffer(res)).toString("utf8");
}
