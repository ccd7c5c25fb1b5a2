import { YumError } from "@beskar-yum/errors";
import { parseRpm, type ReadRpmResult } from "@beskar-yum/rpm";

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
