import { YumError } from "@beskar-yum/errors";
import { Action, createEventPayload, type EventPayload, Origin } from "@beskar-yum/plugin-sdk";
import { assertRepositoryName } from "@beskar-yum/repository";

/** The content type of a docker-registry notification envelope. */
export const NOTIFICATION_MEDIATYPE = "application/vnd.docker.distribution.events.v1+json";

const manifestMediatypes = new Set([
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
]);
const ociRepositoryPattern = /^(artifacts\/yum\/.+)\/(packages|repodata)$/;
const digestPattern = /^sha256:[0-9a-f]{64}$/;

/** What a notification asks of us; the rest of the envelope (pulls, blobs, other repositories) is dropped. */
export interface RegistryNotice {
  /** Our repository, `artifacts/yum/<name>`. */
  repository: string;
  /** The event to queue for it (its `repository` is the OCI repository, e.g. `.../packages`). */
  event: EventPayload;
}

/**
 * Reads a notification envelope (TOOLS.md §5): `{ events: [{ action, target: { mediaType, digest,
 * repository, tag } }] }`. A manifest push in `artifacts/yum/<name>/(packages|repodata)` becomes a PUT
 * event, a manifest delete by digest a DELETE event (the registry's second delete event, per tag and
 * without digest, is dropped: the digest says it all).
 * @throws YumError REGISTRY_EVENT_INVALID when the body is not such an envelope
 */
export function parseNotification(body: unknown): RegistryNotice[] {
  const events = (body as { events?: unknown } | null)?.events;
  if (body === null || typeof body !== "object" || !Array.isArray(events)) {
    throw new YumError("REGISTRY_EVENT_INVALID", 'expected a notification envelope {"events": [...]}');
  }
  const notices: RegistryNotice[] = [];
  events.forEach((raw: unknown, i) => {
    const event = raw as { action?: unknown; target?: Record<string, unknown> } | null;
    if (!event || typeof event !== "object" || typeof event.action !== "string" || !isObject(event.target)) {
      throw new YumError(
        "REGISTRY_EVENT_INVALID",
        `events[${i}]: expected an object with action and target`,
        {
          index: i,
        },
      );
    }
    const { target } = event;
    const ociRepository = typeof target.repository === "string" ? target.repository : "";
    const digest = typeof target.digest === "string" ? target.digest : "";
    const match = ociRepositoryPattern.exec(ociRepository);
    if (!match || !digestPattern.test(digest)) return;
    let repository: string;
    try {
      repository = assertRepositoryName(match[1]);
    } catch {
      return;
    }
    const mediaType = typeof target.mediaType === "string" ? target.mediaType : "";
    if (event.action === "push" && manifestMediatypes.has(mediaType)) {
      notices.push({ repository, event: payload(ociRepository, digest, mediaType, Action.PUT) });
    } else if (event.action === "delete" && mediaType === "" && target.tag === undefined) {
      notices.push({ repository, event: payload(ociRepository, digest, "", Action.DELETE) });
    }
  });
  return notices;
}

function payload(repository: string, digest: string, mediatype: string, action: Action): EventPayload {
  return createEventPayload({ repository, digest, mediatype, action, origin: Origin.EXTERNAL });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
