/** What rpm shows about an OpenPGP signature packet (`%{RSAHEADER:pgpsig}`). */
export interface PgpSignatureInfo {
  version: number;
  publicKeyAlgorithm: number;
  hashAlgorithm: number;
  /** Creation time, unix seconds (0 when the packet has none). */
  created: number;
  /** Issuer key id, 16 lowercase hex digits, when the packet names one. */
  keyId?: string;
}

const publicKeyAlgorithms: Record<number, string> = {
  1: "RSA",
  2: "RSA(Encrypt-Only)",
  3: "RSA(Sign-Only)",
  16: "Elgamal(Encrypt-Only)",
  17: "DSA",
  18: "Elliptic Curve",
  19: "ECDSA",
  20: "Elgamal",
  21: "Diffie-Hellman (X9.42)",
  22: "EdDSA",
};

const hashAlgorithms: Record<number, string> = {
  1: "MD5",
  2: "SHA1",
  3: "RIPEMD160",
  5: "MD2",
  6: "TIGER192",
  7: "HAVAL-5-160",
  8: "SHA256",
  9: "SHA384",
  10: "SHA512",
  11: "SHA224",
};

const SIGNATURE_PACKET = 2;
const SUBPACKET_CREATION_TIME = 2;
const SUBPACKET_ISSUER = 16;
const SUBPACKET_ISSUER_FINGERPRINT = 33;

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** Body of the first packet, if it is a signature packet with a definite length. */
export function signatureBody(b: Uint8Array): Uint8Array | undefined {
  const first = b[0];
  if (first === undefined || (first & 0x80) === 0) return undefined;
  let tag: number;
  let len: number;
  let pos: number;
  if (first & 0x40) {
    tag = first & 0x3f;
    const o1 = b[1];
    if (o1 === undefined) return undefined;
    if (o1 < 192) [len, pos] = [o1, 2];
    else if (o1 < 224) [len, pos] = [((o1 - 192) << 8) + (b[2] ?? 0) + 192, 3];
    else if (o1 === 255) [len, pos] = [u32(b, 2), 6];
    else return undefined;
  } else {
    tag = (first >> 2) & 0x0f;
    const lt = first & 3;
    if (lt === 0) [len, pos] = [b[1] ?? 0, 2];
    else if (lt === 1) [len, pos] = [((b[1] ?? 0) << 8) | (b[2] ?? 0), 3];
    else if (lt === 2) [len, pos] = [u32(b, 1), 5];
    else [len, pos] = [b.length - 1, 1];
  }
  if (tag !== SIGNATURE_PACKET || pos + len > b.length) return undefined;
  return b.subarray(pos, pos + len);
}

function readSubpackets(area: Uint8Array, info: PgpSignatureInfo, hashed: boolean): boolean {
  let pos = 0;
  while (pos < area.length) {
    const o1 = area[pos]!;
    let len: number;
    if (o1 < 192) [len, pos] = [o1, pos + 1];
    else if (o1 < 255) [len, pos] = [((o1 - 192) << 8) + (area[pos + 1] ?? 0) + 192, pos + 2];
    else [len, pos] = [u32(area, pos + 1), pos + 5];
    if (len < 1 || pos + len > area.length) return false;
    const type = area[pos]! & 0x7f;
    const data = area.subarray(pos + 1, pos + len);
    if (type === SUBPACKET_CREATION_TIME && hashed && data.length === 4) info.created = u32(data, 0);
    else if (type === SUBPACKET_ISSUER && data.length === 8) info.keyId ??= hexOf(data);
    else if (type === SUBPACKET_ISSUER_FINGERPRINT && data.length > 1 && info.keyId === undefined) {
      const fpr = data.subarray(1);
      // v4 key ids are the low 64 bits of the fingerprint, v6 ones the high 64 bits.
      if (data[0] === 4 && fpr.length === 20) info.keyId = hexOf(fpr.subarray(12));
      else if (fpr.length === 32) info.keyId = hexOf(fpr.subarray(0, 8));
    }
    pos += len;
  }
  return true;
}

/** Parses the fields rpm displays from a binary OpenPGP signature packet; undefined if it is not one. */
export function parsePgpSignature(packet: Uint8Array): PgpSignatureInfo | undefined {
  const body = signatureBody(packet);
  if (!body || body.length < 1) return undefined;
  const version = body[0]!;
  if (version === 3) {
    if (body.length < 19 || body[1] !== 5) return undefined;
    return {
      version,
      created: u32(body, 3),
      keyId: hexOf(body.subarray(7, 15)),
      publicKeyAlgorithm: body[15]!,
      hashAlgorithm: body[16]!,
    };
  }
  if (version === 4 || version === 5 || version === 6) {
    const wide = version !== 4;
    const info: PgpSignatureInfo = {
      version,
      publicKeyAlgorithm: body[2] ?? 0,
      hashAlgorithm: body[3] ?? 0,
      created: 0,
    };
    let pos = 4;
    for (const hashed of [true, false]) {
      const width = wide ? 4 : 2;
      if (pos + width > body.length) return undefined;
      const len = wide ? u32(body, pos) : (body[pos]! << 8) | body[pos + 1]!;
      pos += width;
      if (pos + len > body.length) return undefined;
      if (!readSubpackets(body.subarray(pos, pos + len), info, hashed)) return undefined;
      pos += len;
    }
    return info;
  }
  return undefined;
}

/** "RSA/SHA256, Tue Apr 27 18:50:59 2021, Key ID 15af5dac6d745a60" (rpm's pgpsig format, C locale, UTC). */
export function describePgpSignature(info: PgpSignatureInfo): string {
  const algo = publicKeyAlgorithms[info.publicKeyAlgorithm] ?? "Unknown public key algorithm";
  const hash = hashAlgorithms[info.hashAlgorithm] ?? "Unknown hash algorithm";
  return `${algo}/${hash}, ${cTime(info.created)}, Key ID ${info.keyId ?? "0000000000000000"}`;
}

const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** strftime "%c" in the C locale, UTC: "Tue Feb  2 21:41:08 2021". */
function cTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}
