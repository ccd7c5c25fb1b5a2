import type { RpmPackage } from "./rpm-package.js";

/** `<name>-<version>-<release>.<arch>.rpm`, arch "src" for source RPMs (Beskar's `rpmName`). */
export function rpmFileName(
  pkg: Pick<RpmPackage, "name" | "version" | "release" | "arch" | "isSource">,
): string {
  return `${pkg.name}-${pkg.version}-${pkg.release}.${pkg.isSource ? "src" : pkg.arch}.rpm`;
}
