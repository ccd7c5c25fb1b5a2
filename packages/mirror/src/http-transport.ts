import * as http from "node:http";
import * as https from "node:https";
import { rootCertificates } from "node:tls";
import { TunnelAgent } from "./connect-tunnel.js";
import { HostLimiter } from "./host-limiter.js";
import { type ProxyOptions, type ProxyServer, parseProxy, selectProxy } from "./proxy.js";
import { StallWatch } from "./stall-watch.js";

export interface HttpTransportOptions {
  /** Requests (and so connections) at once per upstream host. */
  connections: number;
  /** No response headers, or no body bytes while we wait for them, for this long: the server has stalled. */
  timeoutMs: number;
  /** PEM: the CA of the configured upstreams (instead of the system's) and the client certificate they want. */
  tls?: { ca?: string; cert?: string; key?: string } | undefined;
  proxy?: ProxyOptions | undefined;
}

export interface TransportRequest {
  headers?: Record<string, string>;
  /**
   * The target is one of the configured upstreams: it gets the client certificate and only its CA
   * is trusted. Other hosts (a CDN we were redirected to) get neither the certificate nor anything
   * but the system's CAs plus the configured one.
   */
  trusted: boolean;
  signal?: AbortSignal | undefined;
}

/** A response whose body the caller consumes or destroys; errors on it never go uncaught. */
export interface TransportResponse {
  /** The URL this response answers (after redirects, when `followRedirects` gave it). */
  url: URL;
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

/** Some mirrors and CDNs refuse requests without a User-Agent; this one names us, as dnf names libdnf. */
const userAgent = { "user-agent": "beskar-yum" };

/**
 * GETs over node:http/https with keep-alive agents, a per-host limit, a headers timeout, a body
 * idle timeout that does not count time the consumer spends not reading (backpressure), abort by
 * signal, and proxies (absolute-form for http, CONNECT tunnels for https). Every socket, request and
 * response error ends in the returned promise or on the body stream: nothing is thrown elsewhere.
 */
export class HttpTransport {
  private readonly limiter: HostLimiter;
  private readonly agents = new Map<string, http.Agent>();
  /** The proxy (or none) for each `scheme//host` seen. */
  private readonly proxies = new Map<string, ProxyServer | undefined>();
  private readonly stalls: StallWatch;

  constructor(private readonly options: HttpTransportOptions) {
    this.limiter = new HostLimiter(options.connections);
    this.stalls = new StallWatch(options.timeoutMs);
  }

  /** How logs show the proxy `url` goes through, or undefined when direct. */
  proxyFor(url: URL): ProxyServer | undefined {
    if (!this.options.proxy) return undefined;
    // Decided once per scheme and host: NO_PROXY is a list to match, and this runs for every package.
    const key = `${url.protocol}//${url.host}`;
    if (this.proxies.has(key)) return this.proxies.get(key);
    const raw = selectProxy(url, this.options.proxy);
    const proxy = raw === undefined ? undefined : parseProxy(raw);
    this.proxies.set(key, proxy);
    return proxy;
  }

  /** One GET of `url` (no redirects followed): resolves once the response headers are in. */
  async get(url: URL, request: TransportRequest): Promise<TransportResponse> {
    const release = await this.limiter.acquire(url.host, request.signal);
    try {
      return await this.send(url, request, release);
    } catch (err) {
      release();
      throw err;
    }
  }

  private send(url: URL, request: TransportRequest, release: () => void): Promise<TransportResponse> {
    const { signal } = request;
    return new Promise((resolve, reject) => {
      signal?.throwIfAborted();
      const req = this.request(url, request);
      let response: http.IncomingMessage | undefined;
      const onAbort = () => {
        const reason = signal!.reason as Error;
        req.destroy(reason);
        response?.destroy(reason);
        reject(reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const watched = this.stalls.watch(req, url.host);
      const done = () => {
        signal?.removeEventListener("abort", onAbort);
        this.stalls.unwatch(watched);
        release();
      };
      // Errors after the response go to the body (its consumer sees them); this listener keeps any
      // late request error (a reset after the headers) from being uncaught.
      req.on("error", (err) => {
        if (!response) {
          done();
          reject(err);
        }
      });
      req.once("response", (res) => {
        response = res;
        watched.res = res;
        res.once("close", done);
        resolve({ url, status: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      req.end();
    });
  }

  /** The ClientRequest for `url`: direct, or through the proxy chosen for it. */
  private request(url: URL, request: TransportRequest): http.ClientRequest {
    const proxy = this.proxyFor(url);
    const secure = url.protocol === "https:";
    if (proxy && !secure) return this.absoluteForm(url, proxy, request.headers);
    // Options built here rather than from the URL object: this runs for every small package.
    const options: https.RequestOptions = {
      hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: "GET",
      agent: this.directAgent(secure, request.trusted, proxy),
    };
    options.headers = request.headers ? { ...userAgent, ...request.headers } : userAgent;
    return secure ? https.request(options) : http.request(options);
  }

  /** An http:// target through a proxy: the request goes to the proxy, in absolute form. */
  private absoluteForm(url: URL, proxy: ProxyServer, headers: Record<string, string> | undefined) {
    const viaTls = proxy.url.protocol === "https:";
    return (viaTls ? https : http).request({
      host: proxy.url.hostname,
      port: proxy.url.port || (viaTls ? 443 : 80),
      method: "GET",
      path: url.href,
      headers: {
        ...userAgent,
        ...headers,
        host: url.host,
        ...(proxy.authorization ? { "proxy-authorization": proxy.authorization } : {}),
      },
      agent: this.agent(`proxy ${proxy.url.href}`, () =>
        viaTls ? new https.Agent(this.agentOptions()) : new http.Agent(this.agentOptions()),
      ),
    });
  }

  /** The keep-alive agent for a direct (or, for https, tunnelled) connection of this kind. */
  private directAgent(secure: boolean, trusted: boolean, proxy: ProxyServer | undefined): http.Agent {
    if (!secure) return this.agent("http", () => new http.Agent(this.agentOptions()));
    const key = `https ${trusted ? "trusted" : "other"} ${proxy?.url.href ?? "direct"}`;
    return this.agent(key, () => {
      const options = { ...this.agentOptions(), ...this.tlsOptions(trusted) };
      return proxy ? new TunnelAgent(proxy, this.options.timeoutMs, options) : new https.Agent(options);
    });
  }

  private agentOptions(): http.AgentOptions {
    // The per-host limit is the HostLimiter's; the agent only keeps connections alive.
    return { keepAlive: true, keepAliveMsecs: 10_000, maxFreeSockets: this.options.connections };
  }

  private tlsOptions(trusted: boolean): https.AgentOptions {
    const { ca, cert, key } = this.options.tls ?? {};
    if (trusted) return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
    // A host we were sent to (a CDN) is checked against the system's CAs, and the configured one in
    // case the redirect stays inside the same private PKI; it never sees the client certificate.
    return ca ? { ca: [...rootCertificates, ca] } : {};
  }

  private agent(key: string, create: () => http.Agent): http.Agent {
    let agent = this.agents.get(key);
    if (!agent) {
      agent = create();
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Closes idle keep-alive connections and stops pooling; requests in flight are destroyed. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
    this.stalls.close();
  }
}
