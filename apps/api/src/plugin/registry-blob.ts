import { createHash } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import { pipeline, type Readable, Transform } from "node:stream";
import type { BeskarTransport } from "@beskar-yum/plugin-sdk";

const MAX_REDIRECTS = 3;

export interface OpenBlobOptions {
  /** `sha256:<hex>`: the stream fails at its end when the bytes do not hash to it. */
  digest: string;
  /** Expected size, checked at the end when given. */
  size?: number;
  signal?: AbortSignal;
  /** Default 30 s of inactivity. */
  timeoutMs?: number;
}

/**
 * Streams `GET /v2/<repository>/blobs/<digest>` from Beskar's registry through the plugin transport
 * (mTLS; Beskar then treats us as the plugin). A redirect (a registry backed by object storage) is
 * followed without the client certificate when it leaves the registry. The returned stream errors
 * (before its end) when the bytes do not match `digest`/`size`, so a consumer never takes a bad blob.
 */
export async function openRegistryBlob(
  transport: BeskarTransport,
  repository: string,
  options: OpenBlobOptions,
): Promise<Readable> {
  let url = new URL(`/v2/${repository}/blobs/${options.digest}`, transport.baseUrl);
  for (let redirects = 0; ; redirects++) {
    const res = await get(url, transport, options);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location && redirects < MAX_REDIRECTS) {
      res.resume();
      url = new URL(res.headers.location, url);
      continue;
    }
    if (status !== 200) {
      res.resume();
      throw new Error(`GET ${url.pathname} from Beskar's registry: HTTP ${status}`);
    }
    const verified = verifier(options.digest, options.size);
    // pipeline destroys `verified` with the error when the response fails midway.
    pipeline(res, verified, () => {});
    return verified;
  }
}

function get(url: URL, transport: BeskarTransport, options: OpenBlobOptions): Promise<http.IncomingMessage> {
  const registry = url.origin === new URL(transport.baseUrl).origin;
  const requestOptions: https.RequestOptions = {
    method: "GET",
    signal: options.signal,
    timeout: options.timeoutMs ?? 30_000,
    ...(registry ? { ...transport.tls, agent: transport.agent } : {}),
  };
  const client = url.protocol === "http:" ? http : https;
  return new Promise((resolve, reject) => {
    const req = client.request(url, requestOptions, resolve);
    req.on("timeout", () => req.destroy(new Error(`GET ${url.pathname}: no data for too long`)));
    req.on("error", reject);
    req.end();
  });
}

function verifier(digest: string, size: number | undefined): Transform {
  const hash = createHash("sha256");
  let received = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      received += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      const actual = `sha256:${hash.digest("hex")}`;
      if (actual !== digest) callback(new Error(`blob ${digest}: received bytes hash to ${actual}`));
      else if (size !== undefined && size !== received)
        callback(new Error(`blob ${digest}: ${received} bytes received, ${size} expected`));
      else callback();
    },
  });
}
