import { open } from "node:fs/promises";
import { basename } from "node:path";
import { YumError } from "@beskar-yum/errors";
import { verifyHeaderDigests } from "./header-digest.js";
import { HEADER_INTRO_SIZE, headerSpan, RpmHeader } from "./header-reader.js";
import { LEAD_SIZE, parseLead, type RpmLead } from "./lead.js";
import { type PackageOptions, packageFromHeaders } from "./package-from-headers.js";
import { type ParseContext, rpmError } from "./parse-context.js";
import type { PayloadVerdict } from "./payload-digest.js";
import type { RpmPackage } from "./rpm-package.js";
import { checkSignatureTags, signedSize } from "./signature-header.js";

export interface ReadRpmResult {
  pkg: RpmPackage;
  /** The main header, magic to end of data: what header digests and header signatures cover. */
  headerBytes: Uint8Array;
  /** The parsed signature header (digests, sizes, signature packets). */
  signatureHeader: RpmHeader;
  /** The parsed main header, for tags `pkg` does not carry. */
  header: RpmHeader;
  lead: RpmLead;
  /** Size of the whole file as checked against the signature header. */
  fileSize: number;
  /** The file name given to `parseRpm` / read by `readRpm`, for messages. */
  fileName?: string;
  /**
   * The payload's check, when the bytes passed one (`verifyRpmPayload`, `RpmPayloadVerifier`):
   * `verifyRpmSignature` then also checks the legacy header+payload signatures of packages
   * without PAYLOADDIGEST.
   */
  payload?: PayloadVerdict;
}

export interface ParseRpmOptions extends PackageOptions {
  /** Name used in error messages. */
  fileName?: string;
  /** Size of the whole file when `bytes` holds only its beginning; defaults to `bytes.length`. */
  fileSize?: number;
}

export interface ReadRpmOptions extends PackageOptions {
  /** Name used in error messages; default: the base name of `path` (pass the real name for temp files). */
  fileName?: string;
  signal?: AbortSignal;
}

function pad8(n: number): number {
  return (8 - (n % 8)) % 8;
}

/**
 * Parses an RPM held in memory: lead, signature header, main header. `bytes` may be the whole
 * file or just its beginning through the end of the main header (pass `fileSize` then).
 * Verifies the header SHA256/SHA1 digests and that the file is exactly as long as the signature
 * header says (RPM_TRUNCATED, RPM_TRAILING_DATA). The payload digest is not checked here: see
 * `verifyRpmPayload` (bytes in memory) and `RpmPayloadVerifier` (while they stream).
 * Always throws a YumError on bad input.
 */
export function parseRpm(bytes: Uint8Array, opts: ParseRpmOptions = {}): ReadRpmResult {
  const ctx: ParseContext = opts.fileName ? { fileName: opts.fileName } : {};
  const fileSize = opts.fileSize ?? bytes.length;
  try {
    const lead = parseLead(bytes, ctx);
    const sig = new RpmHeader(bytes, LEAD_SIZE, "signature", ctx);
    const mainStart = sig.end + pad8(sig.end - LEAD_SIZE);
    const main = new RpmHeader(bytes, mainStart, "main", ctx);
    checkSignatureTags(sig, main);
    verifyHeaderDigests(sig, main, ctx);
    checkFileSize(sig, main, fileSize, ctx);
    const pkg = packageFromHeaders(main, sig, ctx, opts);
    const result: ReadRpmResult = {
      pkg,
      headerBytes: main.bytes,
      signatureHeader: sig,
      header: main,
      lead,
      fileSize,
    };
    if (opts.fileName) result.fileName = opts.fileName;
    return result;
  } catch (err) {
    if (err instanceof YumError) throw err;
    // A parser bug must still surface as a typed error for the caller (HTTP 400, not 500);
    // `details.internal` lets tests assert this never happens.
    const prefix = ctx.fileName ? `${ctx.fileName}: ` : "";
    throw new YumError(
      "RPM_BAD_HEADER",
      `${prefix}cannot parse RPM headers: ${(err as Error).message}`,
      { file: ctx.fileName, internal: true },
      { cause: err },
    );
  }
}

function checkFileSize(sig: RpmHeader, main: RpmHeader, fileSize: number, ctx: ParseContext): void {
  const size = signedSize(sig);
  if (size !== undefined) {
    const expected = main.start + size;
    if (fileSize < expected) {
      throw rpmError(
        "RPM_TRUNCATED",
        ctx,
        `truncated RPM: file is ${fileSize} bytes, the signature header says header+payload from offset ${main.start} is ${size} bytes (file size ${expected})`,
        { offset: fileSize, expected, actual: fileSize },
      );
    }
    if (fileSize > expected) {
      throw rpmError(
        "RPM_TRAILING_DATA",
        ctx,
        `trailing data after the payload: file is ${fileSize} bytes, the signature header says header+payload from offset ${main.start} is ${size} bytes (file size ${expected})`,
        { offset: expected, expected, actual: fileSize },
      );
    }
    if (size < main.end - main.start) {
      throw sig.bad(
        `signature size ${size} is smaller than the main header (${main.end - main.start} bytes)`,
        {
          offset: sig.start,
        },
      );
    }
    return;
  }
  if (fileSize <= main.end) {
    throw rpmError(
      "RPM_TRUNCATED",
      ctx,
      `truncated RPM: file ends at offset ${fileSize}, no payload after the main header (ends at ${main.end})`,
      { offset: fileSize, expected: main.end + 1, actual: fileSize },
    );
  }
}

/** Reads `length` bytes at `position` (fewer at the end of the file): a file, or a ranged blob read. */
export type ReadAt = (length: number, position: number) => Promise<Uint8Array>;

/**
 * Reads an RPM file's lead, signature header and main header (never the payload) and parses
 * them with `parseRpm`; the file size is checked against the signature header.
 */
export async function readRpm(path: string, opts: ReadRpmOptions = {}): Promise<ReadRpmResult> {
  const fileName = opts.fileName ?? basename(path);
  opts.signal?.throwIfAborted();
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const readAt: ReadAt = async (length, position) => {
      opts.signal?.throwIfAborted();
      const want = Math.max(0, Math.min(length, size - position));
      const buf = Buffer.alloc(want);
      let done = 0;
      while (done < want) {
        const { bytesRead } = await handle.read(buf, done, want - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buf.subarray(0, done);
    };
    return await readRpmAt(readAt, size, { ...opts, fileName });
  } finally {
    await handle.close();
  }
}

/**
 * `readRpm` over any random-access source of `size` bytes: the headers are read with as few reads
 * as their lengths allow, the payload never. A restore reads packages in a registry this way
 * (HTTP ranges), so it costs their headers, not their size.
 */
export async function readRpmAt(
  readAt: ReadAt,
  size: number,
  opts: ParseRpmOptions & {
    fileName: string;
    /**
     * Bytes of the first read. Default 64 KiB: both headers of most packages in one read (a
     * system call). A network source may prefer less: the rest is then read in one more request.
     */
    firstRead?: number;
  },
): Promise<ReadRpmResult> {
  const ctx: ParseContext = { fileName: opts.fileName };
  // Grow the prefix header by header; each length is capped by rpm's limits and the file size.
  const first = Math.max(LEAD_SIZE + HEADER_INTRO_SIZE, opts.firstRead ?? 64 * 1024);
  let prefix = await readAt(Math.min(size, first), 0);
  const more = async (total: number) => {
    if (total > prefix.length && prefix.length < size) {
      const rest = await readAt(Math.min(total, size) - prefix.length, prefix.length);
      prefix = Buffer.concat([prefix, rest]);
    }
  };
  parseLead(prefix, ctx);
  const sigSpan = headerSpan(prefix, LEAD_SIZE, "signature", ctx);
  const sigEnd = LEAD_SIZE + sigSpan.length;
  const mainStart = sigEnd + pad8(sigSpan.length);
  await more(mainStart + HEADER_INTRO_SIZE);
  if (prefix.length >= mainStart + HEADER_INTRO_SIZE) {
    const mainSpan = headerSpan(prefix, mainStart, "main", ctx);
    await more(mainStart + mainSpan.length);
  }
  return parseRpm(prefix, { ...opts, fileSize: size });
}
