import { isYumError } from "@beskar-yum/errors";
import { REPOMD_TAG, type RegistryClient } from "@beskar-yum/oci";

/** What `RepositoryService` asks the registry replica about a repository this node has no index for. */
export interface RegistryHoldings {
  /**
   * Whether the registry has published repodata of the repository (`repodata:repomdxml`): a
   * repository created empty here would push its own over it. Package manifests alone (a first
   * `beskarctl yum push` to a new repository) are not: nothing replaces them.
   */
  holdsRepodata(repository: string): Promise<boolean>;
  /** Whether the registry has anything of the repository (any tag under `/repodata` or `/packages`). */
  holdsRepository(repository: string): Promise<boolean>;
}

/** Asks the registry through `client`; a registry that cannot answer throws (REGISTRY_UNAVAILABLE). */
export function registryHoldings(client: Pick<RegistryClient, "listTags" | "getManifest">): RegistryHoldings {
  return {
    async holdsRepodata(repository) {
      try {
        await client.getManifest(`${repository}/repodata`, REPOMD_TAG);
        return true;
      } catch (err) {
        if (isYumError(err, "REGISTRY_NOT_FOUND")) return false;
        throw err;
      }
    },
    async holdsRepository(repository) {
      for (const kind of ["repodata", "packages"]) {
        if ((await client.listTags(`${repository}/${kind}`)).length > 0) return true;
      }
      return false;
    },
  };
}
