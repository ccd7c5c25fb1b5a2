import { createHash, type Hash } from "node:crypto";
import { verifyHeaderDigests } from "./header-digest.js";
import { HEADER_INTRO_SIZE, headerSpan, RpmHeader } from "./header-reader.js";
import { LEAD_SIZE, parseLead } from "./lead.js";
import { type LegacySignature, parseLegacySignature } from "./legacy-signature.js";
import { type ParseContext, rpmError } from "./parse-context.js";
import { parseRpm, type ReadRpmResult } from "./read-rpm.js";
import { checkSignatureTags, payloadSignatures, signedSize } from "./signature-header.js";
import { SigTag, Tag } from "./tags.js";

/**
 * What covers an RPM's payload, as `rpm -Kv` checks it:
 *
 * - `payload`: the main header's PAYLOADDIGEST (5092, algorithm PAYLOADDIGESTALGO 5093): the
 *   digest of the payload as stored, i.e. of every byte after the main header ("Payload SHA256
 *   digest"). The main header is what the header signature signs, so this binds the payload to the
 *   signature. PAYLOADDIGESTALT (5097, rpm 4.16+, "Payload SHA256 ALT digest") covers the
 *   *uncompressed* payload: it would need decompressing and is not checked.
 * - `md5`: without PAYLOADDIGEST (rpm < 4.14), the signature header's MD5 (1004) of header+payload
 *   ("MD5 digest"). The signature header is not signed, so this detects corruption, not tampering;
 *   the legacy header+payload signatures (PGP 1002, GPG 1005) that would are not verified.
 * - `none`: no digest covers the payload.
 *
 * SHA1 (269) and SHA256 (273) of the signature header cover the main header only (header-digest.ts).
 * rpm hashes to the end of the file; here the signature header's SIZE (1000) / LONGSIZE (270),
 * header+payload length, bounds the file: bytes beyond it are refused (RPM_TRAILING_DATA), as are
 * fewer (RPM_TRUNCATED).
 */
export type PayloadCoverage = "payload" | "md5" | "none";

export interface PayloadVerdict {
  coverage: PayloadCoverage;
  /** "SHA256", "MD5", ... as rpm names the digest checked; undefined for `none`. */
  label?: string;
  /** The digest that matched, hex. */
  digest?: string;
  /** File size: lead through end of payload. */
  fileSize: number;
  /**
   * With `md5` coverage: the legacy header+payload signatures (PGP 1002, GPG 1005) and a hash of
   * header+payload for each (not digested), for `verifyRpmSignature` to check them.
   */
  legacy?: { tag: number; signature: LegacySignature; signed: Hash }[];
}

/** rpm's `PGPHASHALGO_*` numbers (PAYLOADDIGESTALGO) → Node's hash name and rpm's label. */
const hashAlgorithms = new Map<number, [node: string, label: string]>([
  [1, ["md5", "MD5"]],
  [2, ["sha1", "SHA1"]],
  [8, ["sha256", "SHA256"]],
  [9, ["sha384", "SHA384"]],
  [10, ["sha512", "SHA512"]],
  [11, ["sha224", "SHA224"]],
  [12, ["sha3-256", "SHA3-256"]],
  [14, ["sha3-512", "SHA3-512"]],
]);

function pad8(n: number): number {
  return (8 - (n % 8)) % 8;
}

/**
 * Checks the payload digest of an RPM whose headers are parsed, fed with the file's bytes from any
 * offset on (bytes before `hashStart` are skipped): `update(chunk, offset)` then `finish(fileSize)`.
 * Bytes past the signed header+payload length throw at once (RPM_TRAILING_DATA).
 */
export class PayloadDigestCheck {
  readonly coverage: PayloadCoverage;
  /** Absolute offset the digest starts at: the main header's end (payload) or start (md5). */
  readonly hashStart: number;
  /** Absolute offset where the payload must end, from SIZE/LONGSIZE; undefined: end of file. */
  readonly end: number | undefined;
  private readonly label: string | undefined;
  private readonly expected: string | undefined;
  private readonly hash: Hash | undefined;
  private readonly what: string;
  /** Legacy header+payload signatures and their hashes (only for `md5` coverage: see `PayloadVerdict`). */
  private readonly legacy: { tag: number; signature: LegacySignature; signed: Hash }[] = [];
  /** Next absolute offset the hash expects. */
  private next: number;

  constructor(
    sig: RpmHeader,
    main: RpmHeader,
    private readonly ctx: ParseContext,
  ) {
    const size = signedSize(sig);
    this.end = size === undefined ? undefined : main.start + size;
    const payloadDigest = main.strings(Tag.PAYLOADDIGEST)?.[0];
    const md5 = sig.binary(SigTag.MD5);
    if (payloadDigest !== undefined) {
      const algo = main.number(Tag.PAYLOADDIGESTALGO);
      if (algo === undefined) {
        throw main.bad(
          `tag ${main.tagName(Tag.PAYLOADDIGEST)} without ${main.tagName(Tag.PAYLOADDIGESTALGO)}`,
          {
            tag: Tag.PAYLOADDIGEST,
          },
        );
      }
      const known = hashAlgorithms.get(algo);
      if (!known) {
        throw main.bad(
          `unsupported payload digest algorithm ${algo} (tag ${main.tagName(Tag.PAYLOADDIGESTALGO)})`,
          {
            tag: Tag.PAYLOADDIGESTALGO,
          },
        );
      }
      this.coverage = "payload";
      this.hashStart = main.end;
      this.label = known[1];
      this.expected = payloadDigest.toLowerCase();
      this.hash = createHash(known[0]);
      this.what = `payload ${known[1]} digest (main header tag ${main.tagName(Tag.PAYLOADDIGEST)})`;
    } else if (md5 !== undefined) {
      this.coverage = "md5";
      this.hashStart = main.start;
      this.label = "MD5";
      this.expected = Buffer.from(md5).toString("hex");
      this.hash = createHash("md5");
      this.what = `header+payload MD5 digest (signature tag ${sig.tagName(SigTag.MD5)})`;
      // The MD5 is not signed: the legacy signatures over the same bytes are what binds the payload.
      for (const { tag, packet } of payloadSignatures(sig)) {
        const signature = parseLegacySignature(packet);
        if (signature?.hashName) this.legacy.push({ tag, signature, signed: createHash(signature.hashName) });
      }
    } else {
      this.coverage = "none";
      this.hashStart = main.end;
      this.what = "";
    }
    this.next = this.hashStart;
    if (this.end !== undefined && this.end < main.end) {
      throw sig.bad(
        `signature size ${size} is smaller than the main header (${main.end - main.start} bytes)`,
        {
          offset: sig.start,
        },
      );
    }
  }

  /** Feeds `chunk`, which starts at absolute file offset `offset` (contiguous with what came before). */
  update(chunk: Uint8Array, offset: number): void {
    const chunkEnd = offset + chunk.length;
    if (this.end !== undefined && chunkEnd > this.end) {
      throw rpmError(
        "RPM_TRAILING_DATA",
        this.ctx,
        `trailing data after the payload: the signature header says header+payload ends at offset ${this.end}, the file goes on past it (at least ${chunkEnd} bytes)`,
        { offset: this.end, expected: this.end, actual: chunkEnd },
      );
    }
    if (!this.hash || chunkEnd <= this.next) return;
    const from = Math.max(0, this.next - offset);
    const part = from === 0 ? chunk : chunk.subarray(from);
    this.hash.update(part);
    for (const { signed } of this.legacy) signed.update(part);
    this.next = chunkEnd;
  }

  /** Checks length and digest once every byte was fed; `fileSize` is the whole file's. */
  finish(fileSize: number): PayloadVerdict {
    if (this.end !== undefined && fileSize < this.end) {
      throw rpmError(
        "RPM_TRUNCATED",
        this.ctx,
        `truncated RPM: file is ${fileSize} bytes, the signature header says header+payload ends at offset ${this.end}`,
        { offset: fileSize, expected: this.end, actual: fileSize },
      );
    }
    if (this.end !== undefined && fileSize > this.end) {
      throw rpmError(
        "RPM_TRAILING_DATA",
        this.ctx,
        `trailing data after the payload: file is ${fileSize} bytes, the signature header says header+payload ends at offset ${this.end}`,
        { offset: this.end, expected: this.end, actual: fileSize },
      );
    }
    if (!this.hash || this.expected === undefined) return { coverage: "none", fileSize };
    const actual = this.hash.digest("hex");
    if (actual !== this.expected) {
      throw rpmError(
        "RPM_PAYLOAD_DIGEST_MISMATCH",
        this.ctx,
        `${this.what} mismatch: expected ${this.expected}, bytes ${this.hashStart}..${fileSize} hash to ${actual}`,
        { offset: this.hashStart, expected: this.expected, actual, coverage: this.coverage },
      );
    }
    return {
      coverage: this.coverage,
      label: this.label!,
      digest: actual,
      fileSize,
      ...(this.legacy.length > 0 ? { legacy: this.legacy } : {}),
    };
  }
}

/**
 * Verifies the payload of an RPM held whole in memory (`parseRpm` of the same bytes): the digest
 * covering it (see `PayloadCoverage`) must match and the file must end where the signature header
 * says. Throws RPM_PAYLOAD_DIGEST_MISMATCH, RPM_TRAILING_DATA or RPM_TRUNCATED. The verdict is
 * also kept in `parsed.payload` (for `verifyRpmSignature`).
 */
export function verifyRpmPayload(parsed: ReadRpmResult, bytes: Uint8Array): PayloadVerdict {
  const ctx: ParseContext = parsed.fileName ? { fileName: parsed.fileName } : {};
  const check = new PayloadDigestCheck(parsed.signatureHeader, parsed.header, ctx);
  const end = Math.min(bytes.length, check.end ?? bytes.length);
  if (end > check.hashStart) check.update(bytes.subarray(check.hashStart, end), check.hashStart);
  const verdict = check.finish(bytes.length);
  parsed.payload = verdict;
  return verdict;
}

/**
 * Verifies an RPM's payload while its bytes stream, from the first byte: keeps only the headers
 * (lead, signature and main header) until it can read them, then hashes the rest as it passes,
 * never holding it. Fits `FsBlobStore.ingest`'s `inspect`: `update` throws at the first byte past
 * the signed length (RPM_TRAILING_DATA) or as soon as the headers are malformed (the error
 * `readRpm` would give); `finish` throws RPM_TRUNCATED or RPM_PAYLOAD_DIGEST_MISMATCH. An empty
 * stream passes `finish` (the caller says "empty body"); `verdict` is set once `finish` passed.
 */
export class RpmPayloadVerifier {
  private readonly ctx: ParseContext;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes needed before the headers can be read further. */
  private need = LEAD_SIZE + HEADER_INTRO_SIZE;
  private check: PayloadDigestCheck | undefined;
  private total = 0;
  verdict: PayloadVerdict | undefined;

  constructor(fileName?: string) {
    this.ctx = fileName ? { fileName } : {};
  }

  update(chunk: Buffer): void {
    const offset = this.total;
    this.total += chunk.length;
    if (this.check) {
      this.check.update(chunk, offset);
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.need) return;
    const prefix = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [prefix];
    this.locate(prefix, false);
  }

  finish(): PayloadVerdict | undefined {
    if (this.total === 0) return undefined;
    // The stream ended inside the headers: reading them throws the RPM_TRUNCATED readRpm gives.
    if (!this.check) this.locate(Buffer.concat(this.chunks, this.buffered), true);
    if (!this.check) {
      throw rpmError(
        "RPM_TRUNCATED",
        this.ctx,
        `truncated RPM: file ends at offset ${this.total}, inside the headers`,
      );
    }
    this.verdict = this.check.finish(this.total);
    return this.verdict;
  }

  /** Reads the headers as far as `prefix` allows (as `readRpm` does), raising `need` or setting `check`. */
  private locate(prefix: Buffer, final: boolean): void {
    // At the end of the stream, the error is exactly the one readRpm gives for these bytes.
    if (final) parseRpm(prefix, this.ctx.fileName ? { fileName: this.ctx.fileName } : {});
    parseLead(prefix, this.ctx);
    const sigSpan = headerSpan(prefix, LEAD_SIZE, "signature", this.ctx);
    const mainStart = LEAD_SIZE + sigSpan.length + pad8(sigSpan.length);
    if (prefix.length < mainStart + HEADER_INTRO_SIZE && !final) {
      this.need = mainStart + HEADER_INTRO_SIZE;
      return;
    }
    const mainSpan = headerSpan(prefix, mainStart, "main", this.ctx);
    if (prefix.length < mainStart + mainSpan.length && !final) {
      this.need = mainStart + mainSpan.length;
      return;
    }
    const sig = new RpmHeader(prefix, LEAD_SIZE, "signature", this.ctx);
    const main = new RpmHeader(prefix, mainStart, "main", this.ctx);
    // As parseRpm does first: the payload digest is only as good as the header that carries it.
    checkSignatureTags(sig, main);
    verifyHeaderDigests(sig, main, this.ctx);
    this.check = new PayloadDigestCheck(sig, main, this.ctx);
    this.chunks = [];
    this.check.update(prefix, 0);
  }
}

/** What covers the payload of a package, from its headers (see `PayloadCoverage`). */
export function payloadCoverage(parsed: Pick<ReadRpmResult, "header" | "signatureHeader">): PayloadCoverage {
  if (parsed.header.has(Tag.PAYLOADDIGEST)) return "payload";
  if (parsed.signatureHeader.has(SigTag.MD5)) return "md5";
  return "none";
}

/**
 * A signature vouches for the payload only through a digest of it: a package none covers cannot be
 * called verified (RPM_MISSING_TAG). `verifyRpmSignature` calls it once the signature verified.
 */
export function requirePayloadDigest(parsed: ReadRpmResult): void {
  if (payloadCoverage(parsed) !== "none") return;
  throw rpmError(
    "RPM_MISSING_TAG",
    parsed.fileName ? { fileName: parsed.fileName } : {},
    "no digest covers the payload (neither PAYLOADDIGEST 5092 in the main header nor MD5 1004 in the signature header): the signature cannot vouch for it",
    { tag: Tag.PAYLOADDIGEST },
  );
}
