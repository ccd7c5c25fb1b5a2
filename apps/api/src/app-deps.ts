import type { HttpLimits } from "@beskar-yum/config";
import type { RegistryClient } from "@beskar-yum/oci";
import type { RepositoryService } from "@beskar-yum/repository";
import type { RepomdSigner } from "@beskar-yum/signing";
import type { RepositoryStorage } from "@beskar-yum/storage";
import type { Redis } from "ioredis";
import type { AccelRedirect } from "./accel-redirect.js";
import type { ContentCache } from "./content-cache.js";
import type { ApiMetrics } from "./metrics.js";
import type { RegistryEvents } from "./registry/registry-events.js";

/** Everything the routes need, built once by main.ts (or by a test) and passed in. */
export interface AppDeps {
  service: RepositoryService;
  storage: RepositoryStorage;
  redis: Redis;
  adminToken: string;
  metrics: ApiMetrics;
  /** The server's repodata signing key: its public half is served, and tells our signatures from upstream's. */
  signer: Pick<RepomdSigner, "publicKey" | "issued">;
  /** `http.public_url`: the base of the URLs written into .repo files; none: taken from each request. */
  publicUrl?: string;
  /** Hot content answered from memory before fastify (content-cache.ts); none in tests that `inject()`. */
  contentCache?: ContentCache;
  /** `http.accel_redirect`: stored files are left to a front nginx that asks for it (accel-redirect.ts). */
  accelRedirect?: AccelRedirect;
  /** Connection limits and timeouts (`config.http`); none when left out (tests that `inject()`). */
  limits?: HttpLimits;
  /** Longest `?wait=true` wait, in ms. */
  waitTimeoutMs: number;
  version: string;
  /** Upstream stall timeout (`sync.timeout_ms`), for on_demand fetches. */
  syncTimeoutMs?: number;
  /** HTTP(S)_PROXY / NO_PROXY read at startup (`config.proxy`), for on_demand fetches; a repository's `proxy_url` wins. */
  proxy?: { http?: string; https?: string; noProxy?: string };
  /** The registry replica (`config.registry`): restored packages not stored here yet are read from it. */
  registry?: Pick<RegistryClient, "openBlob">;
  /**
   * `storage.registry.redirect`: the registry's URL; packages and checksum-named repodata files are
   * answered 301 to their blob there (as Beskar does), not streamed.
   */
  registryRedirect?: string;
  /** The registry's webhook (`config.registry`): its token and where notifications go. */
  registryEvents?: { token: string; events: Pick<RegistryEvents, "accept"> };
}
