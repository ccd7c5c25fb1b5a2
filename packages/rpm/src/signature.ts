import { YumError } from "@beskar-yum/errors";
import type { Key } from "openpgp";

/** openpgp is large: loaded on the first verification, so commands that never verify start faster. */
const openpgp = () => import("openpgp");

import { verifyLegacySignature } from "./legacy-signature.js";
import { requirePayloadDigest } from "./payload-digest.js";
import { parsePgpSignature } from "./pgp-signature-info.js";
import type { ReadRpmResult } from "./read-rpm.js";
import { rpmFileName } from "./rpm-file-name.js";
import { headerSignatures, payloadSignatures } from "./signature-header.js";
import { describeTag } from "./tags.js";

function where(result: ReadRpmResult): string {
  return `${result.fileName ?? rpmFileName(result.pkg)}: `;
}

function invalid(
  result: ReadRpmResult,
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): YumError {
  return new YumError(
    "RPM_SIGNATURE_INVALID",
    `${where(result)}${message}`,
    { file: result.fileName ?? rpmFileName(result.pkg), ...details },
    cause === undefined ? undefined : { cause },
  );
}

const ARMORED_BLOCK = /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g;

/**
 * Reads every key of every armored block (a key file may concatenate several blocks, e.g. a
 * distribution's key and a mirror operator's); openpgp's readKeys alone reads the first block only.
 */
export async function readArmoredPublicKeys(armoredPublicKeys: string): Promise<Key[]> {
  const blocks = armoredPublicKeys.match(ARMORED_BLOCK) ?? [armoredPublicKeys];
  try {
    const keys: Key[] = [];
    const { readKeys } = await openpgp();
    for (const block of blocks) keys.push(...(await readKeys({ armoredKeys: block })));
    return keys;
  } catch (err) {
    throw new YumError("REPO_BAD_GPG_KEY", `bad gpg key: ${(err as Error).message}`, {}, { cause: err });
  }
}

function keyIdsOf(keys: Key[]): string[] {
  return keys.flatMap((k) => k.getKeyIDs().map((id) => id.toHex()));
}

/**
 * Verifies the package's header-only OpenPGP signatures (RSAHEADER 268, DSAHEADER 267, which
 * also carries EdDSA/ECDSA signatures, and rpm 6's OPENPGP 278) over the main header bytes with
 * the given armored public keys. At least one must be made by one of the keys, and every one
 * made by one of the keys must verify. Throws RPM_SIGNATURE_INVALID otherwise; returns the key
 * id (16 lowercase hex digits) of the signature that verified. A package whose payload no digest
 * covers is refused too (RPM_MISSING_TAG): the caller checks that digest (`RpmPayloadVerifier`,
 * `verifyRpmPayload`) where the bytes pass. For a package without PAYLOADDIGEST whose payload was
 * checked that way (`result.payload`), its legacy header+payload RSA signatures (tags 1002/1005)
 * made by one of the keys must verify too.
 */
export async function verifyRpmSignature(
  result: ReadRpmResult,
  armoredPublicKeys: string,
): Promise<{ keyId: string }> {
  const candidates = headerSignatures(result.signatureHeader);
  if (candidates.length === 0) {
    const legacy = payloadSignatures(result.signatureHeader);
    if (legacy.length > 0) {
      throw invalid(
        result,
        `package has no header signature (tags 267/268), only a header+payload signature (tag ${legacy.map((s) => describeTag(s.tag, "signature")).join(", ")}), which is not supported`,
      );
    }
    throw invalid(result, "package is not signed");
  }
  const keys = await readArmoredPublicKeys(armoredPublicKeys);
  const known = new Set(keyIdsOf(keys));
  const { createMessage, readSignature, verify } = await openpgp();
  const message = await createMessage({ binary: result.headerBytes });
  let verifiedKeyId: string | undefined;
  const foreign: string[] = [];
  for (const { tag, packet } of candidates) {
    const tagName = describeTag(tag, "signature");
    const info = parsePgpSignature(packet);
    let signature: Awaited<ReturnType<Awaited<ReturnType<typeof openpgp>>["readSignature"]>>;
    try {
      signature = await readSignature({ binarySignature: packet });
    } catch (err) {
      throw invalid(
        result,
        `signature tag ${tagName} is not an OpenPGP signature: ${(err as Error).message}`,
        { tag },
        err,
      );
    }
    const issuers = signature.getSigningKeyIDs().map((id) => id.toHex());
    const keyId = issuers.find((id) => known.has(id)) ?? issuers[0] ?? info?.keyId ?? "unknown";
    if (!known.has(keyId)) {
      foreign.push(keyId);
      continue;
    }
    try {
      const { signatures } = await verify({
        message,
        signature,
        verificationKeys: keys,
        format: "binary",
        // rpm ignores key expiry: judge the key as of the signature's creation.
        ...(info?.created ? { date: new Date(info.created * 1000) } : {}),
      });
      for (const s of signatures) await s.verified;
    } catch (err) {
      throw invalid(
        result,
        `header signature (tag ${tagName}) by key ${keyId} does not verify: ${(err as Error).message}`,
        { tag, keyId },
        err,
      );
    }
    verifiedKeyId ??= keyId;
  }
  if (verifiedKeyId === undefined) {
    throw invalid(
      result,
      `package is signed with key ${foreign.join(", ")}, which is not among the given keys (${[...known].join(", ") || "none"})`,
      { keyId: foreign[0], knownKeyIds: [...known] },
    );
  }
  // What rpm calls verified covers the payload too: through its digest (checked where the bytes stream).
  requirePayloadDigest(result);
  // Without PAYLOADDIGEST the payload's digest (MD5) is not signed: the legacy header+payload
  // signatures are, and each made by one of the keys must verify, as rpm -K checks them.
  for (const { tag, signature, signed } of result.payload?.legacy ?? []) {
    const outcome = verifyLegacySignature(signature, signed, keys);
    if (outcome.ok || outcome.reason !== "bad") continue;
    const tagName = describeTag(tag, "signature");
    throw invalid(
      result,
      `header+payload signature (tag ${tagName}) by key ${outcome.keyId} does not verify: ${outcome.message}`,
      { tag, keyId: outcome.keyId },
    );
  }
  return { keyId: verifiedKeyId };
}
