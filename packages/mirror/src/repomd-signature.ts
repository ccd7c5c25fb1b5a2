import { YumError } from "@beskar-yum/errors";
import { readArmoredPublicKeys } from "@beskar-yum/rpm";
import { createMessage, readSignature, verify } from "openpgp";

/**
 * Checks upstream's detached `repomd.xml.asc` against the repository's armored public key(s).
 * `gpg_key` may concatenate several armored blocks (the distribution's key and the one that signs
 * repomd.xml are often different): every key of every block is tried.
 */
export async function verifyRepomdSignature(
  repomd: string,
  armoredSignature: string,
  armoredKeys: string,
): Promise<void> {
  try {
    const result = await verify({
      message: await createMessage({ binary: Buffer.from(repomd, "utf8") }),
      signature: await readSignature({ armoredSignature }),
      verificationKeys: await readArmoredPublicKeys(armoredKeys),
      format: "binary",
    });
    if (result.signatures.length === 0) throw new Error("no signature");
    // Any signature made by one of our keys is enough (openpgp lists one entry per signature packet).
    const outcomes = await Promise.allSettled(result.signatures.map((s) => s.verified));
    const good = outcomes.find((o) => o.status === "fulfilled");
    if (!good) throw (outcomes[0] as PromiseRejectedResult).reason;
  } catch (err) {
    throw new YumError(
      "UPSTREAM_SIGNATURE_INVALID",
      `repomd.xml.asc: GPG signature validation failed: ${(err as Error).message}`,
    );
  }
}
