import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { policyDirectory } from "./policy-files.js";
import { loadRouteTable } from "./route-table.js";

const dataText = readFileSync(join(policyDirectory, "data.json"), "utf8");
const data = () => JSON.parse(dataText) as { routes: Record<string, unknown>[]; [key: string]: unknown };

describe("loadRouteTable", () => {
  it("reads policy/data.json, parsed, as text or as bytes", () => {
    const table = loadRouteTable(data());
    expect(table.routes.map((r) => [r.kind, r.methods])).toEqual([
      ["path", ["GET", "HEAD"]],
      ["path", ["GET", "HEAD"]],
      ["blob", ["GET", "HEAD"]],
      ["blob", ["GET", "HEAD"]],
      ["path", ["PUT", "DELETE"]],
      ["plain", undefined],
      ["body", undefined],
    ]);
    expect(table.repomdTag).toBe("repomdxml");
    expect(table.titleAnnotation).toBe("org.opencontainers.image.title");
    expect(loadRouteTable(dataText).routes).toHaveLength(7);
    expect(loadRouteTable(new TextEncoder().encode(dataText)).routes).toHaveLength(7);
  });

  it("names repositories with Beskar's RepositoryRegex in every content and client file route", () => {
    const routes = loadRouteTable(data()).routes;
    for (const route of routes.filter((r) => r.kind === "blob")) {
      expect(route.pattern).toContain("^/(artifacts/yum/[a-z0-9]+(?:[/._-][a-z0-9]+)*)/repo/");
    }
    for (const route of routes.filter((r) => r.kind === "path")) {
      expect(route.pattern).toMatch(/^\^\/\(artifacts\/yum\/\[a-z0-9\]\+\(\?:\[\/\._-\]\[a-z0-9\]\+\)\*\)\//);
    }
  });

  it.each<[string, (d: ReturnType<typeof data>) => void, string]>([
    ["no routes", (d) => (d.routes = []), "routes must be a non-empty array"],
    ["a misspelt key", (d) => (d.routes[0]!.method = ["GET"]), "routes[0].method must be one of"],
    [
      "an unknown blob type",
      (d) => (d.routes[2]!.blobtype = "ostree"),
      "routes[2].blobtype must be packages or repodata",
    ],
    ["a blob route with a body", (d) => (d.routes[3]!.body = true), "routes[3].body must be false or absent"],
    [
      "a blob pattern with one group",
      (d) => (d.routes[2]!.pattern = "^/(a)$"),
      "routes[2].pattern must be two groups",
    ],
    [
      "a body route without key",
      (d) => delete d.routes[6]!.body_key,
      "routes[6].body_key must be a non-empty string",
    ],
    [
      "a body key without body",
      (d) => (d.routes[5]!.body_key = "x"),
      "routes[5].body_key must be absent unless",
    ],
    [
      "methods not strings",
      (d) => (d.routes[0]!.methods = [1]),
      "routes[0].methods[0] must be a non-empty string",
    ],
    [
      "a missing mediatype",
      (d) => delete (d.mediatype as Record<string, unknown>).repomdasc,
      "mediatype.repomdasc",
    ],
    ["a missing tag", (d) => delete d.tag, "tag must be an object"],
    ["an RE2-only pattern", (d) => (d.routes[2]!.pattern = "(?i)^/doc$"), "(? other than (?:"],
  ])("refuses %s", (_what, mutate, message) => {
    const d = data();
    mutate(d);
    expect(() => loadRouteTable(d)).toThrow(message);
  });

  it("refuses text that is not JSON", () => {
    expect(() => loadRouteTable("{")).toThrow("router data is not valid JSON");
  });
});
