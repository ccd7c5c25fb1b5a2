export {
  type MirrorSyncLog,
  type MirrorSyncOptions,
  type MirrorSyncResult,
  runMirrorSync,
} from "./mirror-sync.js";
export { assertSafeHref, type MirrorEndpoint, parseMirrorUrl, redact } from "./mirror-url.js";
export { OnDemandFetcher, type OnDemandOptions } from "./on-demand.js";
export { UpstreamClient, type UpstreamClientOptions } from "./upstream-client.js";
export { noProxyMatches, parseProxy, type ProxyOptions } from "./proxy.js";
export { upstreamProxy } from "./upstream-proxy.js";
export { upstreamTls } from "./upstream-tls.js";
