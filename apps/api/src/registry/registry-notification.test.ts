import { isYumError } from "@beskar-yum/errors";
import { Action, Origin } from "@beskar-yum/plugin-sdk";
import { describe, expect, it } from "vitest";
import { parseNotification } from "./registry-notification.js";

const digest = `sha256:${"ab".repeat(32)}`;
const oci = "application/vnd.oci.image.manifest.v1+json";

describe("parseNotification", () => {
  it("keeps manifest pushes and deletes by digest of our repositories, drops the rest", () => {
    const notices = parseNotification({
      events: [
        {
          action: "push",
          target: { mediaType: oci, digest, repository: "artifacts/yum/a/packages", tag: "t" },
        },
        {
          action: "push",
          target: { mediaType: "application/octet-stream", digest, repository: "artifacts/yum/a/packages" },
        },
        { action: "pull", target: { mediaType: oci, digest, repository: "artifacts/yum/a/packages" } },
        { action: "push", target: { mediaType: oci, digest, repository: "rpms/tinypkg" } },
        { action: "push", target: { mediaType: oci, digest, repository: "artifacts/yum/a/other" } },
        { action: "delete", target: { digest, repository: "artifacts/yum/a/repodata" } },
        { action: "delete", target: { repository: "artifacts/yum/a/repodata", tag: "repomdxml" } },
      ],
    });
    expect(notices.map((n) => [n.repository, n.event.repository, n.event.action, n.event.origin])).toEqual([
      ["artifacts/yum/a", "artifacts/yum/a/packages", Action.PUT, Origin.EXTERNAL],
      ["artifacts/yum/a", "artifacts/yum/a/repodata", Action.DELETE, Origin.EXTERNAL],
    ]);
    expect(notices[0]!.event.digest).toBe(digest);
  });

  it("refuses what is not an envelope with REGISTRY_EVENT_INVALID", () => {
    for (const body of [null, [], { events: {} }, { events: [null] }, { events: [{ action: "push" }] }]) {
      let caught: unknown;
      try {
        parseNotification(body);
      } catch (err) {
        caught = err;
      }
      expect(isYumError(caught, "REGISTRY_EVENT_INVALID"), JSON.stringify(body)).toBe(true);
    }
  });
});
