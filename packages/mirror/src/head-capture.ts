import { YumError } from "@beskar-yum/errors";
import { type PayloadVerdict, parseRpm, type ReadRpmResult, RpmPayloadVerifier } from "@beskar-yum/rpm";

/** How much of each download is kept to parse its headers from memory; bigger headers are read from disk. */
export const headCaptureBytes = 1024 * 1024;

/** The first bytes of a stream, for parsing an RPM's headers without reading the stored file again. */
export class HeadCapture {
  private readonly chunks: Buffer[] = [];
  private length = 0;

  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    if (this.length >= this.limit) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The parsed headers, or undefined when they did not fit (the caller reads the file instead). */
  parse(fileName: string, fileSize: number): ReadRpmResult | undefined {
    try {
      return parseRpm(Buffer.concat(this.chunks), { fileName, fileSize });
    } catch (err) {
      if (err instanceof YumError && err.code === "RPM_TRUNCATED" && this.length < fileSize) return undefined;
      throw err;
    }
  }
}

/**
 * What a streamed package download checks on the way, per attempt (`UpstreamClient.download`'s
 * `inspector`: a retry or the next mirror starts the body again): keeps the head to parse the
 * headers from memory and verifies the payload digest (`RpmPayloadVerifier`), so that a payload
 * that does not match its header fails the download before the blob is committed.
 */
export class RpmDownloadCheck {
  private head: HeadCapture;
  private verdict: PayloadVerdict | undefined;

  constructor(
    private readonly fileName: string,
    private readonly limit = headCaptureBytes,
  ) {
    this.head = new HeadCapture(limit);
  }

  readonly inspector = (): { update(chunk: Buffer): void; finish(): void } => {
    const head = new HeadCapture(this.limit);
    const payload = new RpmPayloadVerifier(this.fileName);
    this.head = head;
    this.verdict = undefined;
    return {
      update: (chunk) => {
        payload.update(chunk);
        head.add(chunk);
      },
      finish: () => {
        this.verdict = payload.finish();
      },
    };
  };

  /**
   * The parsed headers of the attempt that succeeded (see `HeadCapture.parse`), with its payload
   * verdict (`ReadRpmResult.payload`: the legacy signatures of packages without PAYLOADDIGEST).
   */
  parse(fileSize: number): ReadRpmResult | undefined {
    const parsed = this.head.parse(this.fileName, fileSize);
    if (parsed && this.verdict) parsed.payload = this.verdict;
    return parsed;
  }
}
