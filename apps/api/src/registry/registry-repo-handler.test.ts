import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RegistryClient } from "@beskar-yum/oci";
import { Action, createEventPayload, Origin, RepositoryManager } from "@beskar-yum/plugin-sdk";
import type { RepositoryService } from "@beskar-yum/repository";
import { type RegistryManifestRecord, type RepositoryStorage, SqliteRepoIndex } from "@beskar-yum/storage";
import { afterAll, describe, expect, it } from "vitest";
import { PluginEventStore } from "../plugin/plugin-event-store.js";
import { RegistryRepoHandler } from "./registry-repo-handler.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const repository = "artifacts/yum/r";
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const event = (action: Action, manifestDigest: string) =>
  createEventPayload({
    repository: `${repository}/packages`,
    digest: manifestDigest,
    mediatype: "",
    action,
    origin: Origin.EXTERNAL,
  });

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), "registry-handler-"));
  dirs.push(dir);
  const index = SqliteRepoIndex.open(join(dir, "index.db"), { create: true });
  await index.createRepository({ mirror: false, mirror_urls: [], gpg_key: "" }, 0);
  const removed: string[] = [];
  const fetched: string[] = [];
  const service = {
    removePackage: async (_repo: string, by: { tag: string }) => void removed.push(by.tag),
  } as unknown as RepositoryService;
  const storage = { openIndex: () => index } as unknown as RepositoryStorage;
  const client = {
    getManifest: async (_repo: string, reference: string) => {
      fetched.push(reference);
      throw new Error("not in this test");
    },
  } as unknown as RegistryClient;
  const events = new PluginEventStore(join(dir, "events"));
  const manager = new RepositoryManager(
    (ctx) => new RegistryRepoHandler(ctx, { service, storage, client, events }),
  );
  const record = (r: Omit<RegistryManifestRecord, "kind">) => index.registry.put({ kind: "packages", ...r });
  return { manager, events, removed, fetched, record, index };
}

describe("RegistryRepoHandler", () => {
  it("does not fetch the manifest of its own push (a recorded manifest digest)", async () => {
    const { manager, fetched, record, events } = await setup();
    await record({ tag: "t1", layerDigest: digest("a"), manifestDigest: digest("1") });
    const handler = manager.get(repository);
    await handler.queueEvent(event(Action.PUT, digest("1")), true);
    await handler.idle();
    expect(fetched).toEqual([]);
    expect(await events.list(repository)).toEqual([]);
  });

  it("removes nothing for the delete of an unknown digest (its own deletes, blobs)", async () => {
    const { manager, removed } = await setup();
    const handler = manager.get(repository);
    await handler.queueEvent(event(Action.DELETE, digest("9")), true);
    await handler.idle();
    expect(removed).toEqual([]);
  });

  it("maps the delete of a recorded manifest digest to its package tag, and forgets the record", async () => {
    const { manager, removed, record, index } = await setup();
    const seq = await index.appendEvent({ action: "publish" }, 0);
    await index.applyEvent(seq, 0, async (tx) => {
      await tx.upsertPackage({
        tag: "t2",
        id: "b".repeat(64),
        fileName: "b-1-1.noarch.rpm",
        href: "Packages/b/b-1-1.noarch.rpm",
        primaryXml: "",
        filelistsXml: "",
        otherXml: "",
      } as never);
      return { changed: true };
    });
    await record({ tag: "t2", layerDigest: digest("b"), manifestDigest: digest("2") });
    const handler = manager.get(repository);
    await handler.queueEvent(event(Action.DELETE, digest("2")), true);
    await handler.idle();
    expect(removed).toEqual(["t2"]);
    expect(await index.registry.get("packages", "t2")).toBeUndefined();
  });

  it("replays notifications stored before a restart", async () => {
    const { manager, events, removed, record, index } = await setup();
    await record({ tag: "t3", layerDigest: digest("c"), manifestDigest: digest("3") });
    await events.store(repository, event(Action.DELETE, digest("3")));
    const handler = manager.get(repository);
    await handler.idle();
    // The package of t3 is not in the index: the record is forgotten, nothing removed.
    expect(removed).toEqual([]);
    expect(await index.registry.get("packages", "t3")).toBeUndefined();
    expect(await events.list(repository)).toEqual([]);
  });
});
