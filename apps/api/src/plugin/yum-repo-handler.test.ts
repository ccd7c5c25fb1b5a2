import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Action, createEventPayload, Origin, RepositoryManager } from "@beskar-yum/plugin-sdk";
import type { RepositoryService } from "@beskar-yum/repository";
import type { RepositoryStorage } from "@beskar-yum/storage";
import { afterAll, describe, expect, it } from "vitest";
import { PluginEventStore } from "./plugin-event-store.js";
import { MIRROR_REFUSAL, YumRepoHandler } from "./yum-repo-handler.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const manifest = (title: string) =>
  Buffer.from(
    JSON.stringify({
      config: { mediaType: "application/vnd.ciq.rpm.package.v1.config+json", digest: "sha256:00", size: 0 },
      layers: [
        {
          mediaType: "application/vnd.ciq.rpm.package.v1.rpm",
          digest: `sha256:${"cd".repeat(32)}`,
          size: 1,
          annotations: { "org.opencontainers.image.title": title },
        },
      ],
    }),
  );

const deleteEvent = (title: string, origin: Origin = Origin.EXTERNAL) =>
  createEventPayload({
    repository: "artifacts/yum/r/packages",
    digest: `sha256:${title}`,
    mediatype: "application/vnd.ciq.rpm.package.v1.config+json",
    payload: manifest(title),
    action: Action.DELETE,
    origin,
  });

function setup(mirror = false, currentId?: string) {
  const dir = mkdtempSync(join(tmpdir(), "yum-handler-"));
  dirs.push(dir);
  const removed: string[] = [];
  const logs: string[] = [];
  const service = {
    removePackage: async (_repo: string, by: { tag: string }) => void removed.push(by.tag),
  } as unknown as RepositoryService;
  const storage = {
    openIndex: () => ({
      getRepository: () => ({ properties: { mirror } }),
      getPackageByTag: () => (currentId ? { id: currentId } : undefined),
      addLog: (_level: string, message: string) => void logs.push(message),
    }),
  } as unknown as RepositoryStorage;
  const events = new PluginEventStore(dir);
  const manager = new RepositoryManager(
    (ctx) => new YumRepoHandler(ctx, { service, storage, transport: () => undefined, events }),
  );
  return { manager, events, removed, logs };
}

describe("YumRepoHandler", () => {
  it("removes the package of a DELETE event by the MD5 of its title, and forgets the stored event", async () => {
    const { manager, events, removed } = setup();
    const handler = manager.get("artifacts/yum/r");
    await handler.queueEvent(deleteEvent("a-1-1.noarch.rpm"), true);
    await handler.idle();
    expect(removed).toEqual(["303b23025ef7d17a8d3be24e86950667"]);
    expect(await events.list("artifacts/yum/r")).toEqual([]);
  });

  it("replays stored events when it starts, once each", async () => {
    const { manager, events, removed } = setup();
    await events.store("artifacts/yum/r", deleteEvent("a-1-1.noarch.rpm"));
    await events.store("artifacts/yum/r", deleteEvent("b-1-1.noarch.rpm"));
    const handler = manager.get("artifacts/yum/r");
    // The same event arriving live while the handler starts is processed once.
    await handler.queueEvent(deleteEvent("b-1-1.noarch.rpm"), true);
    await handler.idle();
    expect(removed).toHaveLength(2);
    expect(await events.list("artifacts/yum/r")).toEqual([]);
  });

  it("refuses non-plugin events for a mirror repository with Beskar's message", async () => {
    const { manager } = setup(true);
    const handler = manager.get("artifacts/yum/r");
    await expect(handler.queueEvent(deleteEvent("a-1-1.noarch.rpm"), true)).rejects.toThrow(MIRROR_REFUSAL);
    await expect(
      handler.queueEvent(deleteEvent("a-1-1.noarch.rpm", Origin.PLUGIN), true),
    ).resolves.toBeUndefined();
  });

  it("ignores the DELETE of a manifest whose layer is not the package's current one (replaced since)", async () => {
    const { manager, removed } = setup(false, "ef".repeat(32));
    const handler = manager.get("artifacts/yum/r");
    await handler.queueEvent(deleteEvent("a-1-1.noarch.rpm"), true);
    await handler.idle();
    expect(removed).toEqual([]);
  });

  it("does not fetch the layer of a PUT for a package it has (Beskar's echo of our own push)", async () => {
    const { manager, events, logs } = setup(false, "cd".repeat(32));
    const handler = manager.get("artifacts/yum/r");
    // No transport: a download would fail and be logged as an error, not silently pass.
    await handler.queueEvent({ ...deleteEvent("a-1-1.noarch.rpm"), action: Action.PUT }, true);
    await handler.idle();
    expect(logs).toEqual([]);
    expect(await events.list("artifacts/yum/r")).toEqual([]);
  });
});
