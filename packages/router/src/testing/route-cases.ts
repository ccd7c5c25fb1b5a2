import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RouteInput, RouteOutput, RouterBuiltins } from "../evaluate-route.js";
import {
  blobDigestFromManifests,
  findLayerDigest,
  type OciLayer,
  splitTaggedReference,
} from "../oci-blob-digest.js";
import { policyDirectory } from "../policy-files.js";

/** One entry of policy/cases.json: a request, the registry state the builtins see, the expected output. */
export interface RouteCase {
  readonly name: string;
  /** `body`: what request.body() returns; absent when the request has no body. */
  readonly input: RouteInput & { readonly body?: unknown };
  /** `"<repository>:<tag>"` → the tagged manifest's layers. */
  readonly registry: Readonly<Record<string, { readonly layers: readonly OciLayer[] }>>;
  /** Omitted fields are "" (as Beskar reads a missing field). */
  readonly expected: Partial<RouteOutput> & { readonly found: boolean };
}

export const casesFile = join(policyDirectory, "cases.json");

/** Reads policy/cases.json, refusing anything but the documented shape (problems listed by case). */
export function readRouteCases(file: string = casesFile): RouteCase[] {
  const cases: unknown = JSON.parse(readFileSync(file, "utf8"));
  const problems = caseProblems(cases);
  if (problems.length > 0) throw new Error(`${file} is malformed:\n${problems.join("\n")}`);
  return cases as RouteCase[];
}

/** The output a case expects, with its omitted fields filled in. */
export function expectedOutput(c: RouteCase): RouteOutput {
  return { repository: "", redirect_url: "", ...c.expected };
}

/** Builtins answering from a case's registry and body; `async` makes every lookup a promise. */
export function caseBuiltins(c: RouteCase, { async = false } = {}): RouterBuiltins {
  const layersOf = (repository: string, tag: string) => c.registry[`${repository}:${tag}`]?.layers;
  const syncLookup: RouterBuiltins["blobDigest"] = (ref, kind, value) => {
    const { repository, tag } = splitTaggedReference(ref);
    const layers = layersOf(repository, tag);
    return layers ? findLayerDigest(layers, kind, value) : "";
  };
  return {
    blobDigest: async ? blobDigestFromManifests(layersOf) : syncLookup,
    requestBody: () => c.input.body ?? null,
  };
}

const caseKeys = ["name", "input", "registry", "expected"];
const inputKeys = ["path", "method", "body"];
const expectedKeys = ["repository", "redirect_url", "found"];
const layerKeys = ["mediaType", "digest", "annotations"];

/** Every way `cases` departs from the RouteCase shape, one line each. */
export function caseProblems(cases: unknown): string[] {
  if (!Array.isArray(cases) || cases.length === 0) return ["cases.json must be a non-empty array"];
  const problems: string[] = [];
  const names = new Set<string>();
  for (const [i, c] of (cases as unknown[]).entries()) {
    const at = isObject(c) && typeof c.name === "string" ? `case ${i} (${c.name})` : `case ${i}`;
    const say = (what: string) => {
      problems.push(`${at}: ${what}`);
    };
    if (!isObject(c)) {
      say("not an object");
      continue;
    }
    onlyKeys(c, caseKeys, say);
    if (typeof c.name !== "string" || c.name === "") say("name must be a non-empty string");
    else if (names.has(c.name)) say("duplicate name");
    else names.add(c.name);

    if (!isObject(c.input)) say("input must be an object");
    else {
      onlyKeys(c.input, inputKeys, say);
      if (typeof c.input.path !== "string") say("input.path must be a string");
      if (typeof c.input.method !== "string" || c.input.method === "")
        say("input.method must be a non-empty string");
    }

    if (!isObject(c.registry)) say("registry must be an object");
    else {
      for (const [ref, manifest] of Object.entries(c.registry)) {
        if (!/^[a-z0-9][a-z0-9/._-]*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(ref))
          say(`registry key ${ref} is not <repository>:<tag>`);
        if (!isObject(manifest) || !Array.isArray(manifest.layers)) {
          say(`registry ${ref} must be {layers: [...]}`);
          continue;
        }
        onlyKeys(manifest, ["layers"], say);
        for (const layer of manifest.layers as unknown[]) layerProblems(layer, `registry ${ref}`, say);
      }
    }

    if (!isObject(c.expected)) say("expected must be an object");
    else {
      onlyKeys(c.expected, expectedKeys, say);
      if (typeof c.expected.found !== "boolean") say("expected.found must be a boolean");
      for (const key of ["repository", "redirect_url"]) {
        const v = c.expected[key];
        if (v !== undefined && (typeof v !== "string" || v === ""))
          say(`expected.${key} must be a non-empty string or absent`);
      }
    }
  }
  return problems;
}

function layerProblems(layer: unknown, at: string, say: (what: string) => void): void {
  if (!isObject(layer)) {
    say(`${at}: a layer is not an object`);
    return;
  }
  onlyKeys(layer, layerKeys, say);
  if (typeof layer.mediaType !== "string" || layer.mediaType === "")
    say(`${at}: layer mediaType must be a string`);
  if (typeof layer.digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(layer.digest)) {
    say(`${at}: layer digest ${String(layer.digest)} is not sha256:<64 hex>`);
  }
  if (layer.annotations !== undefined) {
    if (!isObject(layer.annotations)) say(`${at}: layer annotations must be an object`);
    else if (Object.values(layer.annotations).some((v) => typeof v !== "string"))
      say(`${at}: annotations must be strings`);
  }
}

function onlyKeys(value: Record<string, unknown>, allowed: string[], say: (what: string) => void): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) say(`unexpected key ${key}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
