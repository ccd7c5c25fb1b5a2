import * as os from "node:os";
import { type BeskarMeta, InstanceType } from "../beskar-meta.js";
import { encodeCaState } from "../ca-state.js";
import { isPluginSdkError, PluginSdkError } from "../errors.js";
import { childLogger, describeError, type Logger } from "../logger.js";
import { Member } from "../memberlist/member.js";
import type { MemberNode } from "../memberlist/member-node.js";
import type { MemberOptions } from "../memberlist/member-options.js";
import { CertificateAuthority } from "../mtls/ca.js";
import { issueCertificate, localCertificateNames } from "../mtls/certificates.js";
import { serverTlsOptions } from "../mtls/tls-options.js";
import type { Handler } from "../repository/handler.js";
import { type BeskarTransport, createBeskarTransport } from "./beskar-transport.js";
import { splitListenAddress } from "./listen-address.js";
import { PluginHttpServer, type PluginHttpServerOptions } from "./plugin-http-server.js";
import { PluginRouter } from "./plugin-router.js";
import type { Service } from "./service.js";
import { eventHandler, infoHandler, type RequestHandler, requireTls } from "./web-handler.js";

export interface PluginServerOptions {
  /** `host:port` of the HTTP server (/info, /event and the service's routes). Default "0.0.0.0:0". */
  addr?: string;
  /** `BeskarMeta.Hostname` and a DNS SAN of the server certificate. Default `os.hostname()`. */
  hostname?: string;
  /** How long to wait for a Beskar instance after joining (Beskar: 5 s). */
  beskarWaitMs?: number;
  /** How long the Ready update may take to be gossiped (Beskar: 2 s). */
  readyTimeoutMs?: number;
  /** How long leaving the cluster may take on stop (Beskar: 5 s). */
  leaveTimeoutMs?: number;
  /** The HTTP server's limits (`PluginHttpServerOptions`): headers and body idle timeouts, connections. */
  http?: Pick<PluginHttpServerOptions, "headersTimeoutMs" | "idleTimeoutMs" | "maxConnections">;
  /**
   * Told of every response of the plugin's own endpoints (`/info`, `/event`) once it is sent (metrics);
   * the service's routes have their own.
   */
  observe?: (url: string, method: string | undefined, status: number, seconds: number) => void;
  /** Gossip tuning passed to the `Member` (advertise address, intervals...); Beskar uses the defaults. */
  member?: Omit<MemberOptions, "meta" | "keys" | "localState" | "stateDelegate" | "bindAddress" | "bindPort">;
}

/** A plugin that is serving and marked ready. */
export interface RunningPlugin {
  /** The HTTP port (`BeskarMeta.ServicePort`). */
  readonly port: number;
  readonly member: Member;
  /** The cluster CA (Beskar's, received when joining; our own when first). */
  readonly ca: CertificateAuthority;
  /** The Beskar instance found. */
  readonly beskar: BeskarMeta;
  readonly transport: BeskarTransport;
  /** Answers 503 to new events, stops the handlers, leaves the cluster, closes the server. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs a plugin as Beskar's `pluginsrv.Serve` does until `service.context.signal` aborts, then stops
 * gracefully. Rejects when startup fails ("no peer has been joined", "no beskar instance found", ...).
 */
export async function servePlugin<H extends Handler>(
  service: Service<H>,
  options: PluginServerOptions = {},
): Promise<void> {
  const { signal } = service.context;
  let running: RunningPlugin;
  try {
    running = await startPlugin(service, options);
  } catch (err) {
    // Stopped while starting: not a failure (Go's Serve returns nil when its context ends first).
    if (signal.aborted && isPluginSdkError(err, "SHUT_DOWN")) return;
    throw err;
  }
  if (!signal.aborted)
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  await running.stop();
}

/**
 * Beskar's plugin startup (BESKAR.md §1.3): HTTP server with `GET /`; gossip member (meta InstanceType 2,
 * ServicePort, Hostname; our own fresh CA as join state) joining `config.gossip.peers`; the CA from the
 * peer's state (ours when alone); server TLS (leaf with local IPs and hostname, client certificates
 * required); wait ≤ 5 s for a Beskar member; `/info` and `/event` mounted (TLS only); `service.start`;
 * meta updated with Ready. Resolves once ready.
 */
export async function startPlugin<H extends Handler>(
  service: Service<H>,
  options: PluginServerOptions = {},
): Promise<RunningPlugin> {
  const { logger, signal } = service.context;
  const { config } = service;
  const hostname = options.hostname ?? os.hostname();
  const router = new PluginRouter(config.router, logger);
  router.handle("/", (_req, res) => void res.writeHead(200).end());
  const server = new PluginHttpServer({
    ...options.http,
    handler: router.listener,
    logger: childLogger(logger, { context: "http" }),
  });
  const listen = splitListenAddress(options.addr ?? "0.0.0.0:0");
  await server.listen(listen.host || "0.0.0.0", listen.port);
  logger.info({ listen_addr: `${listen.host || "0.0.0.0"}:${server.port}` }, "server started");

  let member: Member | undefined;
  let transport: BeskarTransport | undefined;
  let closing = false;
  const cleanup = async () => {
    closing = true;
    await service.repositoryManager?.stopAll();
    if (member) await leaveCluster(member, options.leaveTimeoutMs ?? 5000, logger);
    await server.close();
    transport?.close();
  };
  try {
    const meta: BeskarMeta = {
      instanceType: InstanceType.Plugin,
      ready: false,
      servicePort: server.port,
      registryPort: 0,
      hostname,
    };
    // Beskar's getState: outside Kubernetes every node makes its own CA; a joining node uses its peer's.
    const ownCa = await CertificateAuthority.generate();
    const bind = gossipBind(config.gossip.addr);
    member = new Member({
      logger: childLogger(logger, { context: "gossip" }),
      ...options.member,
      meta,
      keys: [config.gossip.key],
      localState: encodeCaState(ownCa.toState()),
      bindAddress: bind.host,
      bindPort: bind.port,
    });
    const beskarFound = watchForBeskar(member);
    await member.start();
    const peers = config.gossip.peers ?? [];
    if (peers.length > 0) await member.join(peers);

    const state = member.remoteState ?? member.localState;
    if (!state) throw new PluginSdkError("NO_CA", "no CA state received from the cluster nor set locally");
    const ca = await CertificateAuthority.fromState(state);
    const serverCertificate = await issueCertificate(ca, localCertificateNames(hostname));
    server.setTlsOptions(serverTlsOptions(ca, serverCertificate));

    const beskarNode = await beskarFound.wait(options.beskarWaitMs ?? 5000, signal);
    const beskar = beskarNode.meta!;
    logger.info({ hostname: beskar.hostname, port: beskar.registryPort }, "beskar instance added");

    const manager = service.repositoryManager;
    const observed = observedBy(options.observe);
    router.handle("/event", observed(requireTls(eventHandler({ manager, logger, closing: () => closing }))));
    router.handle("/info", observed(requireTls(infoHandler(config.info))));
    transport = createBeskarTransport(ca, await issueCertificate(ca), beskar);
    await service.start(transport, ca.toState(), beskar);
    await member.updateMeta({ ...meta, ready: true }, { timeoutMs: options.readyTimeoutMs ?? 2000 });
    logger.info({ name: config.info.name, version: config.info.version }, "plugin ready");

    let stopping: Promise<void> | undefined;
    return {
      port: server.port,
      member,
      ca,
      beskar,
      transport,
      stop: () => {
        stopping ??= (async () => {
          logger.info({}, "server shutdown");
          await cleanup();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await cleanup().catch((e: unknown) =>
      logger.warn({ err: describeError(e) }, "cleanup after a failed start"),
    );
    throw err;
  }
}

/** A handler whose responses, once finished, are told to `observe`. */
function observedBy(observe: PluginServerOptions["observe"]) {
  return (handler: RequestHandler): RequestHandler =>
    observe
      ? (req, res) => {
          const started = performance.now();
          res.once("finish", () =>
            observe(req.url ?? "", req.method, res.statusCode, (performance.now() - started) / 1000),
          );
          return handler(req, res);
        }
      : handler;
}

/** Beskar's gossip bind: empty host → 0.0.0.0; `::` → the first global unicast address of this host. */
function gossipBind(addr: string | undefined): { host: string; port: number } {
  const { host, port } = splitListenAddress(addr ?? "0.0.0.0:0");
  if (host === "" || host === "0.0.0.0") return { host: "0.0.0.0", port };
  if (host === "::") {
    const outbound = localCertificateNames("").ips.find((ip) => !ip.startsWith("127.") && ip !== "::1");
    return { host: outbound ?? "0.0.0.0", port };
  }
  return { host, port };
}

/** Watches joins from now on for the first Beskar instance (Beskar's startGossipWatcher; Ready is not required). */
function watchForBeskar(member: Member) {
  let found: MemberNode | undefined;
  let notify: (() => void) | undefined;
  const isBeskar = (node: MemberNode) => !node.local && node.meta?.instanceType === InstanceType.Beskar;
  const onJoin = (node: MemberNode) => {
    if (found || !isBeskar(node)) return;
    found = node;
    notify?.();
  };
  member.on("join", onJoin);
  return {
    wait(timeoutMs: number, signal: AbortSignal): Promise<MemberNode> {
      found ??= member.members().find(isBeskar);
      return new Promise<MemberNode>((resolve, reject) => {
        const done = (err?: Error) => {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          member.off("join", onJoin);
          if (err) reject(err);
          else resolve(found!);
        };
        const onAbort = () =>
          done(new PluginSdkError("SHUT_DOWN", "stopped while waiting for a beskar instance"));
        const timer = setTimeout(
          () => done(new PluginSdkError("NO_BESKAR_INSTANCE", "no beskar instance found")),
          timeoutMs,
        );
        signal.addEventListener("abort", onAbort, { once: true });
        notify = () => done();
        if (found) done();
        else if (signal.aborted) onAbort();
      });
    },
  };
}

async function leaveCluster(member: Member, timeoutMs: number, logger: Logger): Promise<void> {
  try {
    await member.leave({ timeoutMs });
  } catch (err) {
    if (!isPluginSdkError(err, "SHUT_DOWN") && !isPluginSdkError(err, "INVALID_OPTION")) {
      logger.warn({ err: describeError(err) }, "leaving the cluster");
    }
  }
  await member.shutdown();
}
