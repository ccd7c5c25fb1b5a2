declare module "unbzip2-stream/lib/bit_iterator.js" {
  /** Reads `n` bits (null: align to the next byte) from the buffers `next` hands out. */
  export interface BitReader {
    (n: number | null): number;
    bytesRead: number;
  }
  export default function bitIterator(next: () => Uint8Array): BitReader;
}

declare module "unbzip2-stream/lib/bzip2.js" {
  import type { BitReader } from "unbzip2-stream/lib/bit_iterator.js";

  const bzip2: {
    /** Reads "BZh<level>" and returns the block size level, 1-9. */
    header(bits: BitReader): number;
    /**
     * Decodes one block, calling `out` per byte; returns the running stream CRC, or null at
     * the end-of-stream marker. Throws on corrupt data.
     */
    decompress(
      bits: BitReader,
      out: (byte: number) => void,
      buf: Int32Array,
      bufsize: number,
      streamCRC: number | null,
    ): number | null;
  };
  export default bzip2;
}
