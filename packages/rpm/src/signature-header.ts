import type { RpmHeader } from "./header-reader.js";
import { RpmType, SigTag, sigTagInfo, Tag, typeName } from "./tags.js";

/** An OpenPGP signature packet found in the signature header. */
export interface SignaturePacket {
  /** Signature-header tag it came from: 267/268/278 cover the main header only, 1002/1005 header+payload. */
  tag: number;
  packet: Uint8Array;
}

/** Main-header tag each signature tag becomes when rpm merges them (`xlateTags`); quirky ones may live in either header. */
const mergedTag: [sigTag: number, mainTag: number, quirk: boolean][] = [
  [SigTag.SIZE, 257, false],
  [SigTag.PGP, 259, false],
  [SigTag.MD5, 261, false],
  [SigTag.GPG, 262, false],
  [SigTag.PAYLOADSIZE, Tag.ARCHIVESIZE, true],
  [SigTag.FILESIGNATURES, 5090, true],
  [SigTag.FILESIGNATURELENGTH, 5091, true],
  [SigTag.VERITYSIGNATURES, SigTag.VERITYSIGNATURES, false],
  [SigTag.VERITYSIGNATUREALGO, SigTag.VERITYSIGNATUREALGO, false],
  [SigTag.SHA1, SigTag.SHA1, false],
  [SigTag.SHA256, SigTag.SHA256, false],
  [SigTag.DSA, SigTag.DSA, false],
  [SigTag.RSA, SigTag.RSA, false],
  [SigTag.LONGSIZE, SigTag.LONGSIZE, false],
  [SigTag.LONGARCHIVESIZE, SigTag.LONGARCHIVESIZE, false],
];

/**
 * The checks rpm makes when it merges the signature header into the main header
 * (`headerMergeLegacySigs`): a signature tag must not also be in the main header, and must
 * have the expected type and count. rpm refuses to read packages that fail them.
 */
export function checkSignatureTags(sig: RpmHeader, main: RpmHeader): void {
  for (const [sigTag, mainTag, quirk] of mergedTag) {
    if (main.has(mainTag) && (!quirk || sig.has(sigTag))) {
      throw main.bad(
        `tag ${mainTag} belongs in the signature header (as tag ${sig.tagName(sigTag)}), found in the main header`,
        {
          tag: mainTag,
          offset: main.dataOffset(mainTag),
        },
      );
    }
  }
  for (const [sigTag] of mergedTag) {
    const entry = sig.entry(sigTag);
    const info = sigTagInfo.get(sigTag);
    if (!entry || !info) continue;
    const where = { tag: sigTag, offset: sig.dataOffset(sigTag) };
    if (entry.type !== info.type) {
      throw sig.bad(
        `tag ${sig.tagName(sigTag)} has type ${typeName(entry.type)}, expected ${typeName(info.type)}`,
        where,
      );
    }
    if (entry.count > 16 * 1024 * 1024 || (info.count && entry.count !== info.count)) {
      throw sig.bad(
        `tag ${sig.tagName(sigTag)} has count ${entry.count}, expected ${info.count || "at most 16777216"}`,
        where,
      );
    }
  }
}

/** Header+payload size the signature header promises (LONGSIZE, else SIZE). */
export function signedSize(sig: RpmHeader): number | undefined {
  return sig.number(SigTag.LONGSIZE) ?? sig.number(SigTag.SIZE);
}

/** Header-only signatures (what `verifyRpmSignature` checks), rpm's preferred first. */
export function headerSignatures(sig: RpmHeader): SignaturePacket[] {
  const out: SignaturePacket[] = [];
  for (const text of openPgpTagValues(sig))
    out.push({ tag: SigTag.OPENPGP, packet: Buffer.from(text, "base64") });
  for (const tag of [SigTag.DSA, SigTag.RSA]) {
    const packet = sig.binary(tag);
    if (packet) out.push({ tag, packet });
  }
  return out;
}

/** Legacy header+payload signatures (need the payload to verify). */
export function payloadSignatures(sig: RpmHeader): SignaturePacket[] {
  const out: SignaturePacket[] = [];
  for (const tag of [SigTag.GPG, SigTag.PGP]) {
    const packet = sig.binary(tag);
    if (packet) out.push({ tag, packet });
  }
  return out;
}

function openPgpTagValues(sig: RpmHeader): string[] {
  const entry = sig.entry(SigTag.OPENPGP);
  if (!entry || (entry.type !== RpmType.STRING_ARRAY && entry.type !== RpmType.STRING)) return [];
  return sig.strings(SigTag.OPENPGP) ?? [];
}
