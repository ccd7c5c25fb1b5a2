import type { RepomdSigner } from "@beskar-yum/signing";
import type { RepoIndex } from "@beskar-yum/storage";

/** What a client needs to check a repository: which signatures it can verify, against which keys. */
export interface RepositoryKeys {
  /** The `.repo` section id: the name after `artifacts/yum/`, `/` written `-` (dnf ids have no `/`). */
  id: string;
  /** The repository has a `gpg_key`: every package was verified against it on upload or sync. */
  packageKey: boolean;
  /**
   * Who signed the repomd.xml served: the server's key (hosted, rewritten mirrors), upstream's key
   * in `gpg_key` (a mirror serving upstream's signature), or none that a client could check.
   */
  repomdKey: "server" | "gpg_key" | undefined;
}

export async function repositoryKeys(
  repository: string,
  index: RepoIndex,
  signer: Pick<RepomdSigner, "issued">,
): Promise<RepositoryKeys> {
  const id = repositoryId(repository);
  const packageKey = Boolean((await index.getRepository())?.properties.gpg_key);
  const { repomd, repomdAsc } = await index.getState();
  let repomdKey: RepositoryKeys["repomdKey"];
  if (repomd !== undefined && repomdAsc !== undefined) {
    if (await signer.issued(repomdAsc)) repomdKey = "server";
    else if (packageKey) repomdKey = "gpg_key";
  }
  return { id, packageKey, repomdKey };
}

/** `artifacts/yum/a/b` → `a-b`. */
export function repositoryId(repository: string): string {
  return repository.replace(/^artifacts\/yum\//, "").replaceAll("/", "-");
}

/** The armored key `repo/repodata/repomd.xml.key` serves: the one that signed repomd.xml, if any. */
export async function repomdKeyText(
  index: RepoIndex,
  signer: Pick<RepomdSigner, "publicKey">,
  keys: RepositoryKeys,
): Promise<string | undefined> {
  if (keys.repomdKey === "server") return signer.publicKey;
  if (keys.repomdKey === "gpg_key") return (await index.getRepository())?.properties.gpg_key;
  return undefined;
}

/**
 * A ready `.repo` file: `gpgcheck=1` where the repository has a `gpg_key` (packages were verified
 * against it), `repo_gpgcheck=1` where a signature a client can check is served, and `gpgkey` the
 * keys of both, as URLs of ours (`baseUrl`: how the client reaches this server).
 */
export function repoFileText(repository: string, baseUrl: string, keys: RepositoryKeys): string {
  const root = `${baseUrl}/${repository}`;
  const urls = new Set<string>();
  if (keys.packageKey) urls.add(`${root}/RPM-GPG-KEY`);
  if (keys.repomdKey === "server") urls.add(`${root}/repo/repodata/repomd.xml.key`);
  if (keys.repomdKey === "gpg_key") urls.add(`${root}/RPM-GPG-KEY`);
  const lines = [
    `[${keys.id}]`,
    `name=${repository.replace(/^artifacts\/yum\//, "")}`,
    `baseurl=${root}/repo/`,
    "enabled=1",
    `gpgcheck=${keys.packageKey ? 1 : 0}`,
    `repo_gpgcheck=${keys.repomdKey ? 1 : 0}`,
  ];
  if (urls.size > 0) lines.push(`gpgkey=${[...urls].join(" ")}`);
  return `${lines.join("\n")}\n`;
}
