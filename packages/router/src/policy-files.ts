import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's policy/ directory (the same from src/ and from dist/). */
export const policyDirectory: string = fileURLToPath(new URL("../../../policy/", import.meta.url));

/** router.rego and data.json as the plugin reports them in `Info.router` (bytes, as in Beskar's proto). */
export interface RouterPolicy {
  readonly rego: Uint8Array;
  readonly data: Uint8Array;
}

export async function readRouterPolicy(directory: string = policyDirectory): Promise<RouterPolicy> {
  const [rego, data] = await Promise.all([
    readFile(join(directory, "router.rego")),
    readFile(join(directory, "data.json")),
  ]);
  return { rego, data };
}
