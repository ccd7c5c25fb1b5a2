import { describe, expect, it } from "vitest";
import type { AdminClient } from "./admin-client.js";
import { followLogs, type LogLine } from "./follow-logs.js";

/**
 * A log API as the server's: pages of `size` lines with a keyset token while more follow, none on
 * the last page; the sync status is read from `syncing`. Lines and the status change as a test runs.
 */
function fakeServer(size: number) {
  const lines: LogLine[] = [];
  const state = { syncing: false, end_time: "" };
  const client = {
    call: async (_method: string, path: string, body: Record<string, unknown>) => {
      if (path === "/repository/sync:status") return { sync_status: { ...state } };
      const after = body["page.token"] === undefined ? 0 : Number(body["page.token"]);
      const page = lines.slice(after, after + size);
      return after + size < lines.length
        ? { logs: page, next_page_token: String(after + size) }
        : { logs: page };
    },
  } as unknown as AdminClient;
  const add = (message: string) => lines.push({ level: "INFO", date: "d", message });
  return { client, state, add };
}

describe("followLogs", () => {
  it("prints every line once across pages, as they are written, and stops when a sync ends", async () => {
    const server = fakeServer(2);
    for (const m of ["a", "b", "c"]) server.add(m);
    const printed: string[] = [];
    const following = followLogs(server.client, "r", (l) => printed.push(l.message), {
      untilSyncEnd: true,
      intervalMs: 5,
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(printed).toEqual(["a", "b", "c"]);
    server.state.syncing = true;
    for (const m of ["d", "e", "f", "g"]) server.add(m);
    await new Promise((r) => setTimeout(r, 30));
    expect(printed).toEqual(["a", "b", "c", "d", "e", "f", "g"]);
    server.state.syncing = false;
    server.state.end_time = "later";
    server.add("sync ended");
    await following;
    expect(printed).toEqual(["a", "b", "c", "d", "e", "f", "g", "sync ended"]);
  });

  it("stops at the end of a sync that started and ended between two polls", async () => {
    const server = fakeServer(10);
    const printed: string[] = [];
    const following = followLogs(server.client, "r", (l) => printed.push(l.message), {
      untilSyncEnd: true,
      intervalMs: 5,
    });
    await new Promise((r) => setTimeout(r, 20));
    server.add("synced");
    server.state.end_time = "later";
    await following;
    expect(printed).toEqual(["synced"]);
  });
});
