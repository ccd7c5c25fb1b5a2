import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** A builtin declaration in OPA's capabilities format. */
export interface BuiltinDeclaration {
  readonly name: string;
  readonly decl: { readonly type: "function"; readonly args?: readonly unknown[]; readonly result: unknown };
  readonly nondeterministic?: boolean;
}

/** OPA's capabilities document (`opa build --capabilities`), as far as this package writes it. */
export interface Capabilities {
  readonly builtins: readonly BuiltinDeclaration[];
  readonly future_keywords?: readonly string[];
  readonly wasm_abi_versions?: readonly unknown[];
  readonly [key: string]: unknown;
}

const string = { type: "string" } as const;

/**
 * The builtins router.rego needs beyond opa-wasm's own: Beskar's two custom builtins (as Beskar's
 * router declares them) and `crypto.md5`, which `wasmCustomBuiltins` implements for opa-wasm.
 */
export const customBuiltinDeclarations: readonly BuiltinDeclaration[] = [
  {
    name: "oci.blob_digest",
    decl: { type: "function", args: [string, string, string], result: string },
    nondeterministic: true,
  },
  { name: "request.body", decl: { type: "function", result: { type: "any" } }, nondeterministic: true },
  { name: "crypto.md5", decl: { type: "function", args: [string], result: string } },
];

/** The future keywords router.rego imports; OPA 0.56 refuses imports its capabilities do not list. */
export const futureKeywords = ["contains", "every", "if", "in"] as const;

/**
 * The capabilities to compile router.rego to wasm with (`opa build -t wasm -e router/output
 * --capabilities <file>`): what the given opa-wasm SDK evaluates, plus `customBuiltinDeclarations`.
 * A policy that compiles against it calls no builtin `loadWasmRouter` cannot serve.
 */
export function wasmCapabilities(sdk: Capabilities): Capabilities {
  const custom = new Set(customBuiltinDeclarations.map((b) => b.name));
  return {
    ...sdk,
    builtins: [...sdk.builtins.filter((b) => !custom.has(b.name)), ...customBuiltinDeclarations],
    future_keywords: [...futureKeywords],
  };
}

/** The capabilities.json shipped with the installed @open-policy-agent/opa-wasm. */
export async function readSdkCapabilities(): Promise<Capabilities> {
  // The package's exports map hides capabilities.json; find it beside the resolved entry point.
  const entry = createRequire(import.meta.url).resolve("@open-policy-agent/opa-wasm");
  const file = join(dirname(dirname(entry)), "capabilities.json");
  return JSON.parse(await readFile(file, "utf8")) as Capabilities;
}
