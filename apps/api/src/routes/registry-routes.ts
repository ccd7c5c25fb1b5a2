import { YumError } from "@beskar-yum/errors";
import { Action } from "@beskar-yum/plugin-sdk";
import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../app-deps.js";
import { requireToken } from "../auth.js";
import { NOTIFICATION_MEDIATYPE, parseNotification } from "../registry/registry-notification.js";

/** Where a registry's notification endpoint points (docker-registry `notifications.endpoints[].url`). */
export const REGISTRY_EVENTS_PATH = "/artifacts/yum/registry/events";

/**
 * `POST /artifacts/yum/registry/events`: the registry's webhook. Authenticated by the configured
 * notifications token (`Authorization: Bearer <token>`, 401 otherwise); the envelope is validated
 * (400 `REGISTRY_EVENT_INVALID`), the notifications for our repositories stored, and 200 returned: the
 * work (fetching manifests and blobs, uploads) happens in the background.
 */
export async function registryRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const registry = deps.registryEvents;
  if (!registry) return;
  const parseJson = (
    _request: unknown,
    body: string | Buffer,
    done: (err: Error | null, value?: unknown) => void,
  ) => {
    try {
      done(null, JSON.parse(body.toString()));
    } catch (err) {
      done(new YumError("REGISTRY_EVENT_INVALID", `the notification is not JSON: ${(err as Error).message}`));
    }
  };
  app.addContentTypeParser(NOTIFICATION_MEDIATYPE, { parseAs: "string" }, parseJson);
  app.addContentTypeParser("application/json", { parseAs: "string" }, parseJson);
  app.addHook("onRequest", async (request) =>
    requireToken(request, registry.token, "the registry notifications token"),
  );

  app.post(REGISTRY_EVENTS_PATH, async (request) => {
    const notices = parseNotification(request.body);
    await registry.events.accept(notices);
    if (notices.length > 0) {
      request.log.info(
        {
          events: notices.map(
            (n) =>
              `${n.event.action === Action.PUT ? "push" : "delete"} ${n.event.repository}@${n.event.digest}`,
          ),
        },
        "registry notifications queued",
      );
    }
    return { accepted: notices.length };
  });
}
