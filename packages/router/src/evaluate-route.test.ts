import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateRoute, type RouteDecision, type RouterBuiltins, traceRoute } from "./evaluate-route.js";
import { policyDirectory } from "./policy-files.js";
import { loadRouteTable } from "./route-table.js";
import { caseBuiltins, caseProblems, expectedOutput, readRouteCases } from "./testing/route-cases.js";

const table = loadRouteTable(readFileSync(join(policyDirectory, "data.json"), "utf8"));
const cases = readRouteCases();

describe("evaluateRoute", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    expect(await evaluateRoute(table, c.input, caseBuiltins(c))).toEqual(expectedOutput(c));
  });

  it("gives the same outputs when the registry answers asynchronously", async () => {
    for (const c of cases) {
      expect([c.name, await evaluateRoute(table, c.input, caseBuiltins(c, { async: true }))]).toEqual([
        c.name,
        expectedOutput(c),
      ]);
    }
  });

  it("passes only path and method to the routes, and calls request.body only for API routes", async () => {
    let bodyReads = 0;
    const builtins: RouterBuiltins = {
      blobDigest: () => "",
      requestBody: () => {
        bodyReads++;
        return { repository: "artifacts/yum/x" };
      },
    };
    await evaluateRoute(
      table,
      { path: "/artifacts/yum/x/repo/repodata/repomd.xml", method: "GET" },
      builtins,
    );
    await evaluateRoute(table, { path: "/artifacts/yum/api/v1/doc/swagger.yaml", method: "GET" }, builtins);
    expect(bodyReads).toBe(0);
    await evaluateRoute(table, { path: "/artifacts/yum/api/v1/repository", method: "GET" }, builtins);
    expect(bodyReads).toBe(1);
  });

  it("rejects when a builtin fails, as Beskar's router errors out", async () => {
    const failing: RouterBuiltins = {
      blobDigest: async () => {
        throw new Error("registry down");
      },
      requestBody: () => {
        throw new Error("body too large");
      },
    };
    await expect(
      evaluateRoute(table, { path: "/artifacts/yum/x/repo/Packages/a.rpm", method: "GET" }, failing),
    ).rejects.toThrow("registry down");
    await expect(
      evaluateRoute(table, { path: "/artifacts/yum/api/v1/repository", method: "GET" }, failing),
    ).rejects.toThrow("body too large");
  });

  it("rejects a digest that is not a string", async () => {
    const builtins = { blobDigest: () => 42, requestBody: () => null } as unknown as RouterBuiltins;
    await expect(
      evaluateRoute(table, { path: "/artifacts/yum/x/repo/Packages/a.rpm", method: "GET" }, builtins),
    ).rejects.toThrow(TypeError);
  });
});

describe("traceRoute", () => {
  it("names the blob lookup it made", async () => {
    const { decision } = await traceRoute(
      table,
      { path: "/artifacts/yum/x/repo/Packages/t/tinypkg-1.0-1.noarch.rpm", method: "GET" },
      { blobDigest: () => "", requestBody: () => null },
    );
    expect(decision).toEqual({
      kind: "blob",
      route: 3,
      lookup: {
        ref: "artifacts/yum/x/packages:5e979a8d4f48696e2bf202322cfad49c",
        kind: "mediatype",
        value: "application/vnd.ciq.rpm.package.v1.rpm",
      },
      digest: "",
    });
  });
});

describe("policy/cases.json", () => {
  it("is well-formed", () => {
    expect(caseProblems(JSON.parse(readFileSync(join(policyDirectory, "cases.json"), "utf8")))).toEqual([]);
    expect(
      caseProblems([{ name: "x", input: { path: 1 }, registry: { bad: {} }, expected: {}, extra: 1 }]),
    ).toEqual([
      "case 0 (x): unexpected key extra",
      "case 0 (x): input.path must be a string",
      "case 0 (x): input.method must be a non-empty string",
      "case 0 (x): registry key bad is not <repository>:<tag>",
      "case 0 (x): registry bad must be {layers: [...]}",
      "case 0 (x): expected.found must be a boolean",
    ]);
  });

  it("tags every package manifest with the MD5 of its layer's title, as Beskar does", async () => {
    const { createHash } = await import("node:crypto");
    for (const c of cases) {
      for (const [ref, { layers }] of Object.entries(c.registry)) {
        if (!ref.includes("/packages:")) continue;
        const title = layers[0]?.annotations?.["org.opencontainers.image.title"] ?? "";
        expect([c.name, ref.slice(ref.lastIndexOf(":") + 1)]).toEqual([
          c.name,
          createHash("md5").update(title).digest("hex"),
        ]);
      }
    }
  });

  it("exercises every route of data.json, each outcome of each route kind, and the fallbacks", async () => {
    const decisions: RouteDecision[] = [];
    for (const c of cases) decisions.push((await traceRoute(table, c.input, caseBuiltins(c))).decision);
    const outcomes = new Set(
      decisions.map((d) => {
        if (d.kind === "blob") return `route ${d.route} blob ${d.digest === "" ? "absent" : "present"}`;
        if (d.kind === "body" || d.kind === "match" || d.kind === "path") return `route ${d.route} ${d.kind}`;
        return d.kind;
      }),
    );
    const wanted: string[] = ["method-not-allowed", "no-route"];
    for (const route of table.routes) {
      if (route.kind === "blob")
        wanted.push(`route ${route.index} blob present`, `route ${route.index} blob absent`);
      if (route.kind === "body") wanted.push(`route ${route.index} body`, `route ${route.index} match`);
      if (route.kind === "plain") wanted.push(`route ${route.index} match`);
      if (route.kind === "path") wanted.push(`route ${route.index} path`);
    }
    expect([...outcomes].sort()).toEqual([...new Set(wanted)].sort());
    // Every content route's wrong-method case, and the repodata route for each of its three lookups.
    const wrongMethod = decisions.flatMap((d) => (d.kind === "method-not-allowed" ? d.matched : []));
    for (const route of table.routes) if (route.methods) expect(wrongMethod).toContain(route.index);
    const repodataLookups = new Set(
      decisions.flatMap((d) =>
        d.kind === "blob" && d.lookup.ref.endsWith(":repomdxml") ? [d.lookup.value] : [],
      ),
    );
    expect([...repodataLookups].filter((v) => !v.startsWith("org.opencontainers.image.title="))).toEqual(
      expect.arrayContaining([table.mediatype.repomd, table.mediatype.repomdasc]),
    );
    expect([...repodataLookups].some((v) => v.startsWith("org.opencontainers.image.title="))).toBe(true);
  });

  it("covers the API with and without a repository in the body, and every API route found and not found", () => {
    const api = cases.filter((c) => c.input.path.startsWith("/artifacts/yum/api/v1/"));
    const body = (c: (typeof cases)[number]) => c.input.body as Record<string, unknown> | undefined;
    expect(api.some((c) => typeof body(c)?.repository === "string" && c.expected.found)).toBe(true);
    expect(
      api.some((c) => body(c) !== undefined && !("repository" in (body(c) ?? {})) && !c.expected.found),
    ).toBe(true);
    expect(api.some((c) => c.input.body === undefined)).toBe(true);
  });
});
