import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { policyRuntimeFiles } from "@beskar-yum/router";

/** The repository root, which is /app in the image (the same from src/ and from dist/). */
const repositoryRoot: string = fileURLToPath(new URL("../../../", import.meta.url));

/** Files of the API read from the source tree at runtime, relative to the repository root. */
export const apiRuntimeFiles = {
  /** Served at /artifacts/yum/api/v1/doc/swagger.yaml. */
  swagger: "apps/api/openapi/swagger.yaml",
  /** Its `version`: logged, reported to Beskar. */
  packageJson: "apps/api/package.json",
  /** The dashboard at /ui: its page and stylesheet (its modules are compiled into apps/api/ui/dist). */
  uiPage: "apps/api/ui/index.html",
  uiStylesheet: "apps/api/ui/style.css",
} as const;

/**
 * Every file the processes of the image read at runtime besides their compiled code and
 * node_modules, relative to the repository root: the code that reads them takes their paths
 * from here (or from the lists this one is made of), and test/dockerfile.test.ts checks that the
 * Dockerfile puts each in the image. The worker reads none of its own.
 */
export const runtimeFiles: readonly string[] = [
  ...Object.values(policyRuntimeFiles),
  ...Object.values(apiRuntimeFiles),
];

/** Where one of `runtimeFiles` is on this machine. */
export function runtimePath(file: string): string {
  return join(repositoryRoot, file);
}
