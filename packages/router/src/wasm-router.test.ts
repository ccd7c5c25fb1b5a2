import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isYumError } from "@beskar-yum/errors";
import { describe, expect, it } from "vitest";
import type { RouterBuiltins } from "./evaluate-route.js";
import { policyDirectory } from "./policy-files.js";
import { BuiltinSession, type WasmBuiltin, wasmCustomBuiltins } from "./wasm-builtins.js";
import { loadWasmRouter, toRouteOutput, type WasmPolicy, type WasmPolicyLoader } from "./wasm-router.js";

const data = JSON.parse(readFileSync(join(policyDirectory, "data.json"), "utf8")) as object;
const rpm = "application/vnd.ciq.rpm.package.v1.rpm";

describe("BuiltinSession", () => {
  it("answers synchronous lookups at once and keeps them", () => {
    let calls = 0;
    const session = new BuiltinSession({
      blobDigest: (ref, kind, value) => {
        calls++;
        return `${ref}|${kind}|${value}`;
      },
      requestBody: () => ({ repository: "r" }),
    });
    expect(session.blobDigest("a:b", "mediatype", "m")).toBe("a:b|mediatype|m");
    expect(session.blobDigest("a:b", "mediatype", "m")).toBe("a:b|mediatype|m");
    expect(calls).toBe(1);
    expect(session.requestBody()).toEqual({ repository: "r" });
    expect(session.unsettled).toBe(false);
  });

  it("answers an asynchronous lookup with a placeholder, then with its value once settled", async () => {
    const session = new BuiltinSession({
      blobDigest: async () => "abc",
      requestBody: async () => ({ x: 1 }),
    });
    expect(session.blobDigest("a:b", "annotation", "k=v")).toBe("");
    expect(session.requestBody()).toBeNull();
    expect(session.unsettled).toBe(true);
    await session.settle();
    expect(session.unsettled).toBe(false);
    expect(session.blobDigest("a:b", "annotation", "k=v")).toBe("abc");
    expect(session.requestBody()).toEqual({ x: 1 });
  });

  it("rethrows a failed asynchronous lookup from settle", async () => {
    const session = new BuiltinSession({
      blobDigest: () => Promise.reject(new Error("gone")),
      requestBody: () => null,
    });
    session.blobDigest("a:b", "mediatype", "m");
    await expect(session.settle()).rejects.toThrow("gone");
  });

  it("checks the arguments as Beskar does, and answers an unknown search type with an empty digest", () => {
    const session = new BuiltinSession({ blobDigest: () => "x", requestBody: () => undefined });
    expect(() => session.blobDigest(1, "mediatype", "m")).toThrow("must be strings");
    expect(session.blobDigest("a:b", "platform", "linux")).toBe("");
    expect(session.requestBody()).toBeNull();
    const wrong = new BuiltinSession({ blobDigest: () => 5 as unknown as string, requestBody: () => null });
    expect(() => wrong.blobDigest("a:b", "mediatype", "m")).toThrow("not a string");
  });
});

describe("wasmCustomBuiltins", () => {
  it("dispatches Beskar's builtins to the current session and implements crypto.md5", () => {
    const session = new BuiltinSession({
      blobDigest: (ref) => `digest of ${ref}`,
      requestBody: () => ({ a: 1 }),
    });
    const builtins = wasmCustomBuiltins(() => session);
    expect(Object.keys(builtins).sort()).toEqual(["crypto.md5", "oci.blob_digest", "request.body"]);
    expect(builtins["oci.blob_digest"]!("r:t", "mediatype", rpm)).toBe("digest of r:t");
    expect(builtins["request.body"]!()).toEqual({ a: 1 });
    expect(builtins["crypto.md5"]!("tinypkg-1.0-1.noarch.rpm")).toBe("5e979a8d4f48696e2bf202322cfad49c");
    expect(() => builtins["crypto.md5"]!(1)).toThrow("must be a string");
  });
});

/**
 * A stand-in for opa-wasm: what `loadPolicy` does with custom builtins (calls them synchronously
 * with JSON values, serialises what they return) around a tiny policy that routes packages by
 * `crypto.md5` + `oci.blob_digest` and API calls by `request.body`.
 */
function fakeLoader(log: { memory?: unknown; data?: unknown; evaluations: number }): WasmPolicyLoader {
  return async (_wasm, memory, customBuiltins) => {
    log.memory = memory;
    const call = (name: string, ...args: unknown[]) => {
      const builtin = customBuiltins[name] as WasmBuiltin;
      const result = builtin(...args.map((a) => JSON.parse(JSON.stringify(a))));
      return result === undefined ? undefined : JSON.parse(JSON.stringify(result));
    };
    const policy: WasmPolicy = {
      entrypoints: { "router/output": 0 },
      setData: (d) => {
        log.data = d;
      },
      evaluate: (input, entrypoint) => {
        log.evaluations++;
        if (entrypoint !== 0) throw new Error(`entrypoint ${String(entrypoint)}`);
        const { path } = input as { path: string };
        const pkg = /^\/(artifacts\/yum\/[a-z0-9]+)\/repo\/.*?([^/]+\.rpm)$/.exec(path);
        if (pkg) {
          const digest = call(
            "oci.blob_digest",
            `${pkg[1]}/packages:${call("crypto.md5", pkg[2])}`,
            "mediatype",
            rpm,
          );
          const url = digest === "" ? "" : `/v2/${pkg[1]}/packages/blobs/sha256:${digest}`;
          return [{ result: { repository: pkg[1], redirect_url: url, found: digest !== "" } }];
        }
        const body = call("request.body") as { repository?: string } | null;
        return [
          { result: { repository: body?.repository ?? "", redirect_url: "", found: !!body?.repository } },
        ];
      },
    };
    return policy;
  };
}

describe("loadWasmRouter", () => {
  const path = "/artifacts/yum/myrepo/repo/Packages/t/tinypkg-1.0-1.noarch.rpm";
  const registry: RouterBuiltins["blobDigest"] = (ref) =>
    ref === "artifacts/yum/myrepo/packages:5e979a8d4f48696e2bf202322cfad49c" ? "ab12" : "";

  it("loads the data, evaluates with synchronous builtins in one pass", async () => {
    const log = { evaluations: 0 } as { memory?: unknown; data?: unknown; evaluations: number };
    const router = await loadWasmRouter(
      new Uint8Array(8),
      data,
      { blobDigest: registry },
      { loadPolicy: fakeLoader(log) },
    );
    expect(log.data).toEqual(data);
    expect(log.memory).toEqual({ initial: 5 });
    expect(router.entrypoints).toEqual(["router/output"]);
    expect(await router.evaluate({ path, method: "GET" })).toEqual({
      repository: "artifacts/yum/myrepo",
      redirect_url: "/v2/artifacts/yum/myrepo/packages/blobs/sha256:ab12",
      found: true,
    });
    expect(log.evaluations).toBe(1);
  });

  it("evaluates again once asynchronous lookups have settled", async () => {
    const log = { evaluations: 0 };
    const router = await loadWasmRouter(
      new Uint8Array(8),
      JSON.stringify(data),
      { blobDigest: async (...args) => registry(...args) },
      { loadPolicy: fakeLoader(log) },
    );
    expect((await router.evaluate({ path, method: "GET" })).redirect_url).toBe(
      "/v2/artifacts/yum/myrepo/packages/blobs/sha256:ab12",
    );
    expect(log.evaluations).toBe(2);
    // Each evaluation starts a fresh session: nothing is cached across requests.
    expect((await router.evaluate({ path, method: "GET" })).found).toBe(true);
    expect(log.evaluations).toBe(4);
  });

  it("takes the request body per evaluation, and has none by default", async () => {
    const router = await loadWasmRouter(
      new Uint8Array(8),
      data,
      { blobDigest: registry },
      { loadPolicy: fakeLoader({ evaluations: 0 }) },
    );
    const api = { path: "/artifacts/yum/api/v1/repository", method: "GET" };
    expect(await router.evaluate(api)).toEqual({ repository: "", redirect_url: "", found: false });
    expect(await router.evaluate(api, { requestBody: () => ({ repository: "artifacts/yum/r" }) })).toEqual({
      repository: "artifacts/yum/r",
      redirect_url: "",
      found: true,
    });
  });

  it("rejects when a lookup fails, and stops after maxPasses", async () => {
    const failing = await loadWasmRouter(
      new Uint8Array(8),
      data,
      { blobDigest: async () => Promise.reject(new Error("registry down")) },
      { loadPolicy: fakeLoader({ evaluations: 0 }) },
    );
    await expect(failing.evaluate({ path, method: "GET" })).rejects.toThrow("registry down");
    const slow = await loadWasmRouter(
      new Uint8Array(8),
      data,
      { blobDigest: async () => "x" },
      { loadPolicy: fakeLoader({ evaluations: 0 }), maxPasses: 1 },
    );
    await expect(slow.evaluate({ path, method: "GET" })).rejects.toThrow("after 1 passes");
  });

  it("refuses a policy without the entrypoint and invalid data", async () => {
    const loader = fakeLoader({ evaluations: 0 });
    await expect(
      loadWasmRouter(
        new Uint8Array(8),
        data,
        { blobDigest: registry },
        { loadPolicy: loader, entrypoint: "x/y" },
      ),
    ).rejects.toThrow("no entrypoint x/y (it has router/output)");
    const err = await loadWasmRouter(
      new Uint8Array(8),
      { routes: [] },
      { blobDigest: registry },
      { loadPolicy: loader },
    ).catch((e: unknown) => e);
    expect(isYumError(err, "CONFIG_INVALID")).toBe(true);
    await expect(
      loadWasmRouter(new Uint8Array(8), "{", { blobDigest: registry }, { loadPolicy: loader }),
    ).rejects.toThrow("not valid JSON");
  });

  it("surfaces opa-wasm's own load error for bytes that are not a policy", async () => {
    await expect(
      loadWasmRouter(new Uint8Array([0, 1, 2, 3]), data, { blobDigest: registry }),
    ).rejects.toThrow();
  });
});

describe("toRouteOutput", () => {
  it("reads fields as Beskar's router does", () => {
    expect(toRouteOutput([{ result: { repository: "r", redirect_url: 5, found: "yes" } }])).toEqual({
      repository: "r",
      redirect_url: "",
      found: false,
    });
    expect(() => toRouteOutput([])).toThrow("returned no output");
    expect(() => toRouteOutput(null)).toThrow("returned no output");
  });
});
