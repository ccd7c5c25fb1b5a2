import { createHash } from "node:crypto";
import * as https from "node:https";
import type * as tls from "node:tls";
import type { BeskarMeta } from "../beskar-meta.js";
import type { CertificateAuthority } from "../mtls/ca.js";
import type { LeafCertificate } from "../mtls/certificates.js";
import { clientTlsOptions } from "../mtls/tls-options.js";

/**
 * How a plugin reaches Beskar's registry (Go's `getBeskarTransport`): HTTPS to
 * `<beskarMeta.Hostname>:<RegistryPort>` with a client certificate from the shared CA (Beskar then
 * treats the request as the plugin's: no auth, events with Origin PLUGIN) and the server name
 * `hex(md5(hostname))` that Beskar's registry certificate carries. Plain HTTP to Beskar is not offered.
 */
export interface BeskarTransport {
  /** `https://<hostname>:<registryPort>`. */
  readonly baseUrl: string;
  /** Keep-alive agent with the TLS options below (up to 16 sockets, idle ones closed after 10 s). */
  readonly agent: https.Agent;
  /** The TLS options, for clients that make their own connections (e.g. an undici Agent's `connect`). */
  readonly tls: tls.ConnectionOptions;
  /** A request to Beskar (`path` absolute, e.g. `/v2/`), with the body collected. */
  request(path: string, init?: BeskarRequestInit): Promise<BeskarResponse>;
  /** Closes the agent's sockets. */
  close(): void;
}

export interface BeskarRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  signal?: AbortSignal;
  /** Default 30 s. */
  timeoutMs?: number;
}

export interface BeskarResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** The TLS server name of Beskar's registry for `hostname`: hex MD5 of it. */
export function beskarServerName(hostname: string): string {
  return createHash("md5").update(hostname).digest("hex");
}

export function createBeskarTransport(
  ca: CertificateAuthority,
  clientCertificate: LeafCertificate,
  beskarMeta: BeskarMeta,
): BeskarTransport {
  const tlsOptions = clientTlsOptions(ca, clientCertificate, beskarServerName(beskarMeta.hostname));
  const agent = new https.Agent({ ...tlsOptions, keepAlive: true, maxSockets: 16, timeout: 10_000 });
  const host = beskarMeta.hostname.includes(":") ? `[${beskarMeta.hostname}]` : beskarMeta.hostname;
  const baseUrl = `https://${host}:${beskarMeta.registryPort}`;
  return {
    baseUrl,
    agent,
    tls: tlsOptions,
    close: () => agent.destroy(),
    request: (path, init = {}) =>
      new Promise<BeskarResponse>((resolve, reject) => {
        const req = https.request(
          new URL(path, baseUrl),
          {
            method: init.method ?? "GET",
            headers: init.headers,
            agent,
            signal: init.signal,
            timeout: init.timeoutMs ?? 30_000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", reject);
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
            );
          },
        );
        req.on("timeout", () => req.destroy(new Error(`request to Beskar ${path} timed out`)));
        req.on("error", reject);
        req.end(init.body);
      }),
  };
}
