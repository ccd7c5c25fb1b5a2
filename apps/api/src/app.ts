import { errorBody, redactRequestUrl, YumError } from "@beskar-yum/errors";
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from "fastify";
import type { AppDeps } from "./app-deps.js";
import { installConnectionLimits } from "./connection-limits.js";
import { installContentCache } from "./content-cache.js";
import { adminRoutes } from "./routes/admin-routes.js";
import { contentRoutes } from "./routes/content-routes.js";
import { opsRoutes } from "./routes/ops-routes.js";
import { registryRoutes } from "./routes/registry-routes.js";
import { uiRoutes } from "./routes/ui-routes.js";

/** Turns whatever a handler threw into a YumError: ours as they are, fastify's by their status. */
function asYumError(err: unknown): YumError {
  if (err instanceof YumError) return err;
  const e = err as { statusCode?: number; message?: string; code?: string };
  if (
    e.code === "FST_ERR_CTP_INVALID_JSON_BODY" ||
    e.code === "FST_ERR_CTP_EMPTY_JSON_BODY" ||
    e.statusCode === 400
  ) {
    return new YumError("INVALID_ARGUMENT", e.message ?? "bad request");
  }
  if (e.statusCode === 413) return new YumError("PAYLOAD_TOO_LARGE", e.message ?? "payload too large");
  if (e.statusCode === 415) return new YumError("INVALID_ARGUMENT", e.message ?? "unsupported media type");
  return new YumError("INTERNAL", "internal error", {}, { cause: err });
}

/** Builds the API without listening, so tests can `inject()` or listen on a port of their own. */
export function buildApp(deps: AppDeps, options: FastifyServerOptions = {}): FastifyInstance {
  // Per-request lines would drown the log in package downloads; /metrics counts requests instead.
  const app = Fastify({ logController: new LogController({ disableRequestLogging: true }), ...options });

  app.setErrorHandler((err, request, reply) => {
    if (request.raw.socket?.destroyed !== false && (err as { code?: string }).code === "ECONNRESET") {
      // The client went away (or a limit dropped it) while its request was read: nobody to answer.
      request.log.info({ url: request.url, method: request.method }, "connection closed during the request");
      return reply.send();
    }
    const yumError = asYumError(err);
    // The URL may carry a misplaced ?access_token= or a mirror_url with its password: hidden.
    const url = redactRequestUrl(request.url);
    if (yumError.httpStatus >= 500) request.log.error({ err, url }, yumError.message);
    else request.log.info({ code: yumError.code, url, method: request.method }, yumError.message);
    return reply.code(yumError.httpStatus).send(errorBody(yumError));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(errorBody(new YumError("NOT_FOUND", `no route for ${request.method} ${request.url}`))),
  );
  // A callback hook, not an async one: no promise per request.
  app.addHook("onResponse", (request, reply, done) => {
    deps.metrics.observeRequest(request.url, request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  if (deps.limits) installConnectionLimits(app, deps.limits);
  if (deps.contentCache) installContentCache(app.server, deps.contentCache);

  app.register(async (scope) => opsRoutes(scope, deps));
  app.register(async (scope) => adminRoutes(scope, deps));
  app.register(async (scope) => contentRoutes(scope, deps));
  app.register(async (scope) => registryRoutes(scope, deps));
  app.register(async (scope) => uiRoutes(scope, deps));
  return app;
}
