import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The policy files the plugin reports in `Info.router`, relative to the repository root (in the
 * image: /app). Part of `runtimeFiles` (apps/api/src/runtime-files.ts), which the Dockerfile test
 * checks the image holds: reading them from anywhere else would escape that check.
 */
export const policyRuntimeFiles = { rego: "policy/router.rego", data: "policy/data.json" } as const;

/** The repository root (the same from src/ and from dist/). */
const repositoryRoot: string = fileURLToPath(new URL("../../../", import.meta.url));

/** The repository's policy/ directory. */
export const policyDirectory: string = join(repositoryRoot, "policy");

/** router.rego and data.json as the plugin reports them in `Info.router` (bytes, as in Beskar's proto). */
export interface RouterPolicy {
  readonly rego: Uint8Array;
  readonly data: Uint8Array;
}

/** Reads the policy files from the repository (`policyRuntimeFiles`), or from another `directory` (tests). */
export async function readRouterPolicy(directory?: string): Promise<RouterPolicy> {
  const path = (file: string) =>
    directory === undefined ? join(repositoryRoot, file) : join(directory, basename(file));
  const [rego, data] = await Promise.all([
    readFile(path(policyRuntimeFiles.rego)),
    readFile(path(policyRuntimeFiles.data)),
  ]);
  return { rego, data };
}
