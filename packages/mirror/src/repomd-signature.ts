import { YumError } from "@beskar-yum/errors";
import { createMessage, readKeys, readSignature, verify } from "openpgp";

/** Checks upstream's detached `repomd.xml.asc` against the repository's armored public key(s). */
export async function verifyRepomdSignature(
  repomd: string,
  armoredSignature: string,
  armoredKeys: string,
): Promise<void> {
  try {
    const result = await verify({
      message: await createMessage({ binary: Buffer.from(repomd, "utf8") }),
      signature: await readSignature({ armoredSignature }),
      verificationKeys: await readKeys({ armoredKeys }),
      format: "binary",
    });
    await result.signatures[0]?.verified;
    if (result.signatures.length === 0) throw new Error("no signature");
  } catch (err) {
    throw new YumError(
      "UPSTREAM_SIGNATURE_INVALID",
      `repomd.xml.asc: GPG signature validation failed: ${(err as Error).message}`,
    );
  }
}
