import { constants, createPublicKey, type Hash, publicDecrypt } from "node:crypto";
import type { Key } from "openpgp";
import { signatureBody } from "./pgp-signature-info.js";

/**
 * rpm's legacy header+payload signatures (signature tags PGP 1002 and GPG 1005): an OpenPGP
 * signature over the main header and the payload, bytes `main.start` to the end of the file. For a
 * package without PAYLOADDIGEST (rpm < 4.14, e.g. EL7) it is the only signed thing that covers the
 * payload (the MD5 next to it is not signed). Checked here from a hash the caller ran over those
 * bytes while they streamed (`Hash.copy()` keeps it reusable), so that the payload is never held.
 * Only RSA signatures are checked (what distributions sign with); DSA/ECDSA/EdDSA ones are reported
 * as unsupported.
 */

/** Node's hash name for an OpenPGP hash algorithm id, and the DER DigestInfo prefix RSA signs. */
const hashes = new Map<number, { node: string; digestInfo: string }>([
  [1, { node: "md5", digestInfo: "3020300c06082a864886f70d020505000410" }],
  [2, { node: "sha1", digestInfo: "3021300906052b0e03021a05000414" }],
  [8, { node: "sha256", digestInfo: "3031300d060960864801650304020105000420" }],
  [9, { node: "sha384", digestInfo: "3041300d060960864801650304020205000430" }],
  [10, { node: "sha512", digestInfo: "3051300d060960864801650304020305000440" }],
  [11, { node: "sha224", digestInfo: "302d300d06096086480165030402040500041c" }],
]);

const RSA_ALGORITHMS = new Set([1, 3]);

/** What of a signature packet verification needs. */
export interface LegacySignature {
  version: 3 | 4;
  publicKeyAlgorithm: number;
  hashAlgorithm: number;
  /** Node's name of the hash, when supported. */
  hashName: string | undefined;
  /** Bytes hashed after the signed data (v3: type and time; v4: the hashed part and its trailer). */
  trailer: Buffer;
  /** First two bytes of the digest, as the packet states them. */
  left16: Buffer;
  /** The signature value (RSA: one MPI). */
  mpis: Buffer[];
  keyId: string | undefined;
}

function readMpis(b: Buffer, pos: number): Buffer[] | undefined {
  const out: Buffer[] = [];
  while (pos + 2 <= b.length) {
    const bits = b.readUInt16BE(pos);
    const bytes = (bits + 7) >> 3;
    pos += 2;
    if (pos + bytes > b.length) return undefined;
    out.push(b.subarray(pos, pos + bytes));
    pos += bytes;
  }
  return pos === b.length ? out : undefined;
}

function issuer(area: Buffer): string | undefined {
  let pos = 0;
  while (pos < area.length) {
    const o1 = area[pos]!;
    let len: number;
    if (o1 < 192) [len, pos] = [o1, pos + 1];
    else if (o1 < 255) [len, pos] = [((o1 - 192) << 8) + (area[pos + 1] ?? 0) + 192, pos + 2];
    else [len, pos] = [area.readUInt32BE(pos + 1), pos + 5];
    if (len < 1 || pos + len > area.length) return undefined;
    const type = area[pos]! & 0x7f;
    const data = area.subarray(pos + 1, pos + len);
    if (type === 16 && data.length === 8) return data.toString("hex");
    if (type === 33 && data[0] === 4 && data.length === 21) return data.subarray(13).toString("hex");
    pos += len;
  }
  return undefined;
}

/** Parses a v3 or v4 signature packet for verification; undefined if it is not one. */
export function parseLegacySignature(packet: Uint8Array): LegacySignature | undefined {
  const bytes = signatureBody(packet);
  if (!bytes || bytes.length < 1) return undefined;
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (body[0] === 3) {
    if (body.length < 19 || body[1] !== 5) return undefined;
    const mpis = readMpis(body, 19);
    if (!mpis) return undefined;
    return {
      version: 3,
      publicKeyAlgorithm: body[15]!,
      hashAlgorithm: body[16]!,
      hashName: hashes.get(body[16]!)?.node,
      trailer: Buffer.from(body.subarray(2, 7)),
      left16: Buffer.from(body.subarray(17, 19)),
      mpis,
      keyId: body.subarray(7, 15).toString("hex"),
    };
  }
  if (body[0] === 4) {
    if (body.length < 6) return undefined;
    const hashedLength = body.readUInt16BE(4);
    const hashedEnd = 6 + hashedLength;
    if (hashedEnd + 2 > body.length) return undefined;
    const unhashedLength = body.readUInt16BE(hashedEnd);
    const unhashedEnd = hashedEnd + 2 + unhashedLength;
    if (unhashedEnd + 2 > body.length) return undefined;
    const mpis = readMpis(body, unhashedEnd + 2);
    if (!mpis) return undefined;
    const final = Buffer.alloc(6);
    final[0] = 4;
    final[1] = 0xff;
    final.writeUInt32BE(hashedEnd, 2);
    return {
      version: 4,
      publicKeyAlgorithm: body[2]!,
      hashAlgorithm: body[3]!,
      hashName: hashes.get(body[3]!)?.node,
      trailer: Buffer.concat([body.subarray(0, hashedEnd), final]),
      left16: Buffer.from(body.subarray(unhashedEnd, unhashedEnd + 2)),
      mpis,
      keyId: issuer(body.subarray(6, hashedEnd)) ?? issuer(body.subarray(hashedEnd + 2, unhashedEnd)),
    };
  }
  return undefined;
}

export type LegacyVerdict =
  | { ok: true; keyId: string }
  | { ok: false; reason: "unsupported" | "unknown-key" | "bad"; message: string; keyId?: string };

/**
 * Verifies `signature` against `signed`, a hash (of the signature's algorithm) of the signed
 * bytes, not digested yet: it is copied, so the caller may verify several signatures with it.
 */
export function verifyLegacySignature(signature: LegacySignature, signed: Hash, keys: Key[]): LegacyVerdict {
  if (!RSA_ALGORITHMS.has(signature.publicKeyAlgorithm) || !signature.hashName) {
    return {
      ok: false,
      reason: "unsupported",
      message: `public key algorithm ${signature.publicKeyAlgorithm} / hash ${signature.hashAlgorithm} is not supported (RSA only)`,
    };
  }
  const candidates = keys
    .flatMap((k) => [k, ...k.getSubkeys()])
    .filter((k) => signature.keyId === undefined || k.getKeyID().toHex() === signature.keyId)
    .map((k) => k.keyPacket)
    .filter((p) => RSA_ALGORITHMS.has(Number(p.algorithm)));
  if (candidates.length === 0) {
    return {
      ok: false,
      reason: "unknown-key",
      message: `signed with key ${signature.keyId ?? "unknown"}, not among the given keys`,
      ...(signature.keyId ? { keyId: signature.keyId } : {}),
    };
  }
  const digest = signed.copy().update(signature.trailer).digest();
  const keyId = signature.keyId ?? "unknown";
  if (!digest.subarray(0, 2).equals(signature.left16)) {
    return { ok: false, reason: "bad", message: "the digest does not match the signature's", keyId };
  }
  const expected = Buffer.concat([
    Buffer.from(hashes.get(signature.hashAlgorithm)!.digestInfo, "hex"),
    digest,
  ]);
  for (const packet of candidates) {
    const { n, e } = packet.publicParams as { n: Uint8Array; e: Uint8Array };
    const key = createPublicKey({
      key: { kty: "RSA", n: Buffer.from(n).toString("base64url"), e: Buffer.from(e).toString("base64url") },
      format: "jwk",
    });
    const s = signature.mpis[0];
    if (!s || s.length > n.length) continue;
    const padded = Buffer.concat([Buffer.alloc(n.length - s.length), s]);
    try {
      const recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, padded);
      if (recovered.equals(expected)) return { ok: true, keyId };
    } catch {
      // not this key (or a malformed value)
    }
  }
  return { ok: false, reason: "bad", message: "the RSA signature does not verify", keyId };
}
