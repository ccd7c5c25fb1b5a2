import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Action, createEventPayload } from "@beskar-yum/plugin-sdk";
import { afterAll, describe, expect, it } from "vitest";
import { PluginEventStore } from "./plugin-event-store.js";

const event = (digest: string, action: number, payload = "m") =>
  createEventPayload({
    repository: "artifacts/yum/a/packages",
    digest,
    action: action as Action,
    payload: Buffer.from(payload),
  });

const dirs: string[] = [];
const makeTempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("PluginEventStore", () => {
  it("keeps events per repository in order, one per digest and action, until removed", async () => {
    const store = new PluginEventStore(makeTempDir("plugin-events-"));
    await store.store("artifacts/yum/a", event("sha256:1", Action.PUT));
    await store.store("artifacts/yum/a", event("sha256:2", Action.PUT));
    await store.store("artifacts/yum/a", event("sha256:1", Action.DELETE));
    await store.store("artifacts/yum/a", event("sha256:2", Action.PUT, "again"));
    await store.store("artifacts/yum/b/c", event("sha256:3", Action.PUT));
    const listed = await store.list("artifacts/yum/a");
    expect(listed.map((e) => [e.digest, e.action, Buffer.from(e.payload).toString()])).toEqual([
      ["sha256:1", Action.PUT, "m"],
      ["sha256:1", Action.DELETE, "m"],
      ["sha256:2", Action.PUT, "again"],
    ]);
    expect(await store.repositories()).toEqual(["artifacts/yum/a", "artifacts/yum/b/c"]);
    for (const e of listed) await store.remove("artifacts/yum/a", e);
    expect(await store.list("artifacts/yum/a")).toEqual([]);
    expect(await store.repositories()).toEqual(["artifacts/yum/b/c"]);
  });

  it("refuses a repository name that is not Beskar's", async () => {
    const store = new PluginEventStore(makeTempDir("plugin-events-"));
    await expect(store.store("artifacts/yum/../x", event("sha256:1", Action.PUT))).rejects.toThrow(
      /invalid repository name/,
    );
  });
});
