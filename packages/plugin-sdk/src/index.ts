/**
 * Beskar's plugin contract in TypeScript (BESKAR.md §1).
 *
 * - Gossip: `Member` (memberlist-compatible, gob `BeskarMeta`, the CA JSON as push/pull state).
 * - mTLS: `CertificateAuthority` (Beskar's P-384 CA: load from the gossip state or generate),
 *   `issueCertificate` (P-256 leaves, AKI = CA SKI), `serverTlsOptions` / `clientTlsOptions`.
 * - Protobuf: `Info` (`GET /info`) and `EventPayload` (`POST /event`), as Beskar's .proto files.
 * - Events: `Handler` / `RepoHandler` (per-repository in-order queue), `HandlerFactory`,
 *   `RepositoryManager` (one handler per repository, made lazily).
 * - Server: `Service` (what a plugin provides), `startPlugin` / `servePlugin` (Beskar's startup
 *   sequence: HTTP+TLS on one port, join, CA, wait for Beskar, /info and /event, start, Ready).
 */
export { type BeskarMeta, emptyBeskarMeta, InstanceType } from "./beskar-meta.js";
export { type CaState, decodeCaState, encodeCaState } from "./ca-state.js";
export { isPluginSdkError, PluginSdkError, type PluginSdkErrorCode, pluginSdkErrorCodes } from "./errors.js";
export { type DecodeBeskarMetaOptions, decodeBeskarMeta, encodeBeskarMeta } from "./gob.js";
export { childLogger, type Logger } from "./logger.js";
export { BESKAR_DEFAULT_GOSSIP_KEY, Keyring } from "./memberlist/keyring.js";
export { type GossipLogger, silentLogger } from "./memberlist/logger.js";
export { META_MAX_SIZE, Member, type MemberEvents } from "./memberlist/member.js";
export type { MemberNode, NodeState } from "./memberlist/member-node.js";
export { BeskarStateDelegate, type MemberOptions, type StateDelegate } from "./memberlist/member-options.js";
export { CertificateAuthority, type EcCurve } from "./mtls/ca.js";
export {
  type IssueCertificateOptions,
  issueCertificate,
  type LeafCertificate,
  localCertificateNames,
} from "./mtls/certificates.js";
export { clientTlsOptions, serverTlsOptions } from "./mtls/tls-options.js";
export {
  Action,
  ActionSchema,
  actionName,
  createEventPayload,
  decodeEventPayload,
  type EventPayload,
  type EventPayloadInit,
  EventPayloadSchema,
  encodeEventPayload,
  Origin,
  OriginSchema,
} from "./proto/event-payload.js";
export {
  decodeInfo,
  encodeInfo,
  type Info,
  InfoSchema,
  type PluginInfo,
  type Router,
  RouterSchema,
} from "./proto/plugin-info.js";
export type { Handler, HandlerContext, HandlerFactory } from "./repository/handler.js";
export { RepoHandler, type RepoHandlerEvents } from "./repository/repo-handler.js";
export { RepositoryManager, type RepositoryManagerOptions } from "./repository/repository-manager.js";
export {
  type BeskarRequestInit,
  type BeskarResponse,
  type BeskarTransport,
  beskarServerName,
  createBeskarTransport,
} from "./server/beskar-transport.js";
export { isTlsRequest, PluginHttpServer, type PluginHttpServerOptions } from "./server/plugin-http-server.js";
export {
  type PluginServerOptions,
  type RunningPlugin,
  servePlugin,
  startPlugin,
} from "./server/serve-plugin.js";
export type { GossipConfig, Service, ServiceConfig, ServiceContext } from "./server/service.js";
export { eventHandler, infoHandler, type RequestHandler, requireTls } from "./server/web-handler.js";
export { TypedEmitter } from "./typed-emitter.js";
