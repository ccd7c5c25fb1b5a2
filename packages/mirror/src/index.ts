export { type Metalink, type MetalinkFile, parseMetalink } from "./metalink.js";
export {
  type MirrorSyncLog,
  type MirrorSyncOptions,
  type MirrorSyncResult,
  runMirrorSync,
} from "./mirror-sync.js";
export { assertSafeHref, type MirrorEndpoint, parseMirrorUrl, redact } from "./mirror-url.js";
export { parseMirrorlist } from "./mirrorlist.js";
export { OnDemandFetcher, type OnDemandOptions } from "./on-demand.js";
export { noProxyMatches, type ProxyOptions, parseProxy } from "./proxy.js";
export {
  type MirrorList,
  type MirrorListSource,
  mirrorListSource,
  readMirrorList,
} from "./read-mirror-list.js";
export { UpstreamClient, type UpstreamClientOptions } from "./upstream-client.js";
export { upstreamProxy } from "./upstream-proxy.js";
export { upstreamTls } from "./upstream-tls.js";
