import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { customBuiltinDeclarations, readSdkCapabilities, wasmCapabilities } from "./capabilities.js";
import { policyDirectory } from "./policy-files.js";
import { outlineRego } from "./testing/rego-outline.js";
import { caseBuiltins, expectedOutput, type RouteCase, readRouteCases } from "./testing/route-cases.js";
import { wasmCustomBuiltins } from "./wasm-builtins.js";
import { loadWasmRouter } from "./wasm-router.js";

const regoFile = join(policyDirectory, "router.rego");
const rego = readFileSync(regoFile, "utf8");
const data = JSON.parse(readFileSync(join(policyDirectory, "data.json"), "utf8")) as Record<string, unknown>;
const outline = outlineRego(rego);

describe("policy/router.rego (structure, without OPA)", () => {
  it("reads as a module of rules in opa fmt layout, every body introduced by if", () => {
    expect(outline.problems).toEqual([]);
    expect(outline.packageName).toBe("router");
    // OPA 0.56 (Beskar's) has no `import rego.v1`; these future keywords it has.
    expect(outline.imports.sort()).toEqual([
      "future.keywords.contains",
      "future.keywords.if",
      "future.keywords.in",
    ]);
    expect(outline.rules.get("output")).toEqual({ functions: 0, rules: 1, defaults: 1 });
  });

  it("calls only builtins that opa-wasm evaluates or that loadWasmRouter provides, with their arity", async () => {
    const sdk = await readSdkCapabilities();
    const capabilities = wasmCapabilities(sdk);
    const declared = new Map(capabilities.builtins.map((b) => [b.name, b.decl.args?.length ?? 0]));
    const served = new Set([
      ...sdk.builtins.map((b) => b.name),
      ...Object.keys(wasmCustomBuiltins(() => undefined!)),
    ]);
    const called = [...outline.calls.keys(), ...outline.operators];
    for (const name of called) {
      expect([name, declared.has(name)]).toEqual([name, true]);
      expect([name, served.has(name)]).toEqual([name, true]);
    }
    for (const [name, arities] of outline.calls) {
      const arity = declared.get(name);
      // Operators and variadic helpers aside, every call uses the declared number of arguments.
      expect([name, [...arities]]).toEqual([name, [arity]]);
    }
    // Beskar's two builtins and crypto.md5 are what the policy needs beyond the SDK.
    const beyondSdk = called.filter((name) => !sdk.builtins.some((b) => b.name === name)).sort();
    expect(beyondSdk).toEqual(customBuiltinDeclarations.map((b) => b.name).sort());
  });

  it("refers only to data that data.json has, and reads only route keys data.json uses", () => {
    for (const path of outline.dataPaths) {
      const value = path
        .split(".")
        .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], data);
      expect([path, value !== undefined]).toEqual([path, true]);
    }
    const routeKeys = new Set((data.routes as Record<string, unknown>[]).flatMap((r) => Object.keys(r)));
    expect([...outline.routeKeys].sort()).toEqual([...routeKeys].sort());
  });

  it("keeps the output shape Beskar reads in every result", () => {
    for (const object of rego.match(/\{"repository": [^}]*\}/g) ?? []) {
      expect(object).toMatch(/^\{"repository": [^,]+, "redirect_url": [^,]+, "found": [^,]+\}$/);
    }
    expect(rego).toMatch(
      /"repository": repository,\s*"redirect_url": blob_url\(oci_repository, digest\),\s*"found": digest != "",/,
    );
  });
});

describe("outlineRego", () => {
  it.each([
    ["an unclosed brace", "package p\n\nx := 1 if {\n\ttrue\n", "{ is never closed"],
    [
      "a missing comma",
      'package p\n\nx := {"a": 1 "b": 2} if {\n\ttrue\n}\n',
      '1 then "b" with nothing between them',
    ],
    ["a body without if", "package p\n\nx := 1 {\n\ttrue\n}\n", "rule x: expected if or else"],
    ["a rule without value or body", "package p\n\nx\n", "rule x: expected := or if"],
    ["a stray character", "package p\n\nx := 1 if { input.a ^ 2 }\n", 'unexpected character "^"'],
  ])("reports %s", (_what, source, problem) => {
    expect(outlineRego(source).problems.join("\n")).toContain(problem);
  });

  it("lists calls with their argument counts, leaving out the module's own functions", () => {
    const o = outlineRego(
      'package p\n\nf(x) := y if {\n\ty := count(x)\n}\n\nz := f(sprintf("%s", [1])) if {\n\tnot a.b\n}\n',
    );
    expect(o.problems).toEqual([]);
    expect([...o.calls]).toEqual([
      ["count", new Set([1])],
      ["sprintf", new Set([2])],
    ]);
  });
});

/** `opa` is not installed on the machines this project runs on (TOOLS.md §9); where it is, it judges too. */
const opa = spawnSync("sh", ["-c", "command -v opa"], { encoding: "utf8" }).stdout.trim();

describe(`policy/router.rego under OPA (${opa ? opa : "opa not installed: the structural checks above stand in"})`, () => {
  it("compiles, and answers every case of cases.json as the TypeScript evaluation does", async () => {
    const cases = readRouteCases();
    const capabilities = wasmCapabilities(await readSdkCapabilities());
    expect(capabilities.builtins.some((b) => b.name === "oci.blob_digest")).toBe(true);
    if (!opa) {
      // Without OPA, what can be held: the capabilities opa build would use are complete.
      expect(capabilities.future_keywords).toEqual(["contains", "every", "if", "in"]);
      expect(capabilities.wasm_abi_versions?.length).toBeGreaterThan(0);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "router-opa-"));
    try {
      const version = execFileSync(opa, ["version"], { encoding: "utf8" });
      const v0 = /^Version: 0\./m.test(version) ? [] : ["--v0-compatible"];
      writeFileSync(join(dir, "capabilities.json"), JSON.stringify(capabilities));
      const common = [...v0, "--capabilities", join(dir, "capabilities.json")];
      execFileSync(opa, ["check", ...common, regoFile], { encoding: "utf8" });
      for (const c of cases)
        expect([c.name, opaEval(opa, dir, common, c)]).toEqual([c.name, expectedOutput(c)]);

      execFileSync(opa, [
        "build",
        ...common,
        "-t",
        "wasm",
        "-e",
        "router/output",
        "-o",
        join(dir, "bundle.tar.gz"),
        regoFile,
      ]);
      execFileSync("tar", ["-xzf", join(dir, "bundle.tar.gz"), "-C", dir, "/policy.wasm"]);
      const wasm = readFileSync(join(dir, "policy.wasm"));
      for (const c of cases) {
        const router = await loadWasmRouter(wasm, data, caseBuiltins(c, { async: true }));
        expect([c.name, await router.evaluate(c.input)]).toEqual([c.name, expectedOutput(c)]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** `opa eval` of one case, Beskar's builtins mocked from the case's registry and body. */
function opaEval(opa: string, dir: string, common: string[], c: RouteCase): unknown {
  const digests: Record<string, string> = {};
  for (const [ref, { layers }] of Object.entries(c.registry)) {
    for (const layer of layers) {
      const hex = layer.digest.slice(layer.digest.indexOf(":") + 1);
      digests[`${ref}\n${"mediatype"}\n${layer.mediaType}`] ??= hex;
      for (const [k, v] of Object.entries(layer.annotations ?? {}))
        digests[`${ref}\nannotation\n${k}=${v}`] ??= hex;
    }
  }
  writeFileSync(join(dir, "mock.json"), JSON.stringify({ mock_digests: digests }));
  writeFileSync(
    join(dir, "mock.rego"),
    'package mock\n\nimport future.keywords.if\n\nblob_digest(ref, kind, value) := object.get(data.mock_digests, concat("\\n", [ref, kind, value]), "")\n',
  );
  writeFileSync(join(dir, "input.json"), JSON.stringify({ path: c.input.path, method: c.input.method }));
  const query = `data.router.output with oci.blob_digest as data.mock.blob_digest with request.body as ${JSON.stringify(c.input.body ?? null)}`;
  const args = ["eval", ...common, "--format", "json", "--input", join(dir, "input.json")];
  for (const file of [
    regoFile,
    join(policyDirectory, "data.json"),
    join(dir, "mock.rego"),
    join(dir, "mock.json"),
  ]) {
    args.push("--data", file);
  }
  const out = JSON.parse(execFileSync(opa, [...args, query], { encoding: "utf8" })) as {
    result?: { expressions: { value: unknown }[] }[];
  };
  return out.result?.[0]?.expressions[0]?.value;
}
