import { createMessage, generateKey, type PrivateKey, readSignature, sign } from "openpgp";

/**
 * Signs the repomd.xml we publish (hosted repositories, and mirrors whose metadata we rewrite) with
 * the server's key: a detached, armored signature, made once per publish and served as
 * `repomd.xml.asc` beside it; the public half is served as `repomd.xml.key`.
 */
export class RepomdSigner {
  /** The key id (16 lowercase hex digits) signatures are issued by. */
  readonly keyId: string;
  /** The primary key's fingerprint (lowercase hex), for logs and docs. */
  readonly fingerprint: string;
  /** The armored public key, as clients import it (`gpgkey=`). */
  readonly publicKey: string;
  private readonly issuedMemo = new Map<string, boolean>();

  private constructor(
    private readonly key: PrivateKey,
    signingKeyId: string,
  ) {
    this.keyId = signingKeyId;
    this.fingerprint = key.getFingerprint();
    this.publicKey = key.toPublic().armor();
  }

  /** A signer of a decrypted private key that can sign (else openpgp's error). */
  static async of(key: PrivateKey): Promise<RepomdSigner> {
    const signing = await key.getSigningKey();
    return new RepomdSigner(key, signing.getKeyID().toHex());
  }

  /** The detached armored signature of `text`'s UTF-8 bytes (the bytes served as repomd.xml). */
  async sign(text: string): Promise<string> {
    return sign({
      message: await createMessage({ binary: Buffer.from(text, "utf8") }),
      signingKeys: this.key,
      detached: true,
      format: "armored",
    });
  }

  /**
   * Whether `armoredSignature` was issued by this key. A signature by another key (the one before a
   * rotation, or upstream's) is not; nothing is verified here: the signature was ours when stored.
   */
  async issued(armoredSignature: string): Promise<boolean> {
    // The reconciler asks about every repository every scan: the answer for a text never changes.
    const known = this.issuedMemo.get(armoredSignature);
    if (known !== undefined) return known;
    let issued: boolean;
    try {
      const signature = await readSignature({ armoredSignature });
      issued = signature.getSigningKeyIDs().some((id) => id.toHex() === this.keyId);
    } catch {
      issued = false;
    }
    if (this.issuedMemo.size >= 4096) this.issuedMemo.clear();
    this.issuedMemo.set(armoredSignature, issued);
    return issued;
  }
}

/** A signer of a new Ed25519 key held in memory only, made in milliseconds (tests, one-off tools). */
export async function ephemeralSigner(): Promise<RepomdSigner> {
  const { privateKey } = await generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: "beskar-yum ephemeral key" }],
    format: "object",
  });
  return RepomdSigner.of(privateKey);
}
