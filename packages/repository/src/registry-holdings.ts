import type { RegistryClient } from "@beskar-yum/oci";

/**
 * Whether the registry replica holds a repository (any tag under `<repository>/repodata` or
 * `/packages`): what `RepositoryService` asks before creating a repository this node has no index
 * for, and before restoring one. A registry that cannot answer fails the request (503) rather than
 * let an empty repository be created over content it could not see.
 */
export function registryHoldings(client: Pick<RegistryClient, "listTags">): {
  holdsRepository(repository: string): Promise<boolean>;
} {
  return {
    async holdsRepository(repository) {
      for (const kind of ["repodata", "packages"]) {
        if ((await client.listTags(`${repository}/${kind}`)).length > 0) return true;
      }
      return false;
    },
  };
}
