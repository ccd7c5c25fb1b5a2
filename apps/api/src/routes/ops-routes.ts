import { access, constants } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../app-deps.js";

/** Probes and metrics for operators and orchestrators. */
export async function opsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get("/healthz", async () => ({ status: "ok", version: deps.version }));

  app.get("/readyz", async (_request, reply) => {
    const checks: Record<string, string> = {};
    try {
      await deps.redis.ping();
      checks.redis = "ok";
    } catch (err) {
      checks.redis = (err as Error).message;
    }
    try {
      await access(deps.storage.directory, constants.R_OK | constants.W_OK);
      checks.storage = "ok";
    } catch (err) {
      checks.storage = (err as Error).message;
    }
    const ready = Object.values(checks).every((v) => v === "ok");
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks });
  });

  app.get("/metrics", async (_request, reply) =>
    reply.type(deps.metrics.registry.contentType).send(await deps.metrics.text()),
  );
}
