import { YumError } from "@beskar-yum/errors";
import type { Config } from "./config.js";

/** The shortest admin token the API starts with (the generated one has 64 hex characters). */
export const minAdminTokenLength = 32;

/**
 * Refuses, at the API's start, an admin token shorter than `minAdminTokenLength` characters: it
 * guards every write. The message names where the token came from, never the token (nor its length).
 * @throws YumError `CONFIG_INVALID` (the process exits 2, as for any invalid configuration)
 */
export function assertAdminTokenRule(
  config: Pick<Config, "adminToken" | "adminTokenSource" | "configFile">,
): void {
  if (config.adminToken.length >= minAdminTokenLength) return;
  const source = config.adminTokenSource;
  const where =
    source === "env"
      ? "BESKARYUM_ADMIN_TOKEN"
      : source === "config"
        ? `admin_token${config.configFile ? ` (${config.configFile})` : ""}`
        : `the admin token in ${source.file}`;
  throw new YumError(
    "CONFIG_INVALID",
    `${where}: the admin token is shorter than ${minAdminTokenLength} characters; use a random one (e.g. openssl rand -hex 32), or set none to have one generated into <datadir>/admin-token`,
  );
}
