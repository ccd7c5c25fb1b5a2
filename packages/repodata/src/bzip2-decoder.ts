import bitIterator from "unbzip2-stream/lib/bit_iterator.js";
import bzip2 from "unbzip2-stream/lib/bzip2.js";

/** Compressed bytes one block can take: createrepo_c's level 9 blocks, plus slack (as unbzip2-stream). */
const blockInput = (level: number) => 25_000 + 100_000 * level;

/** A growing output buffer for one block: at most ~45 MB (900 kB before bzip2's run-length stage). */
class BlockOutput {
  private buf = Buffer.allocUnsafe(1 << 20);
  length = 0;
  readonly push = (byte: number): void => {
    if (this.length === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger);
      this.buf = bigger;
    }
    this.buf[this.length++] = byte;
  };
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

/**
 * bzip2 decoding one block at a time, with the block decoder of unbzip2-stream (pure JS):
 * compressed input is pulled only until the next block is complete, and each block's output
 * is yielded before the next is decoded, so memory stays within one block's input and output
 * whatever the compression ratio. Concatenated streams are read in turn (as bzip2 -d does).
 */
export async function* bunzip2(input: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let received = 0;
  let ended = false;
  const fill = async (want: number, bits: { bytesRead: number } | undefined) => {
    while (!ended && received - (bits?.bytesRead ?? 0) < want) {
      const r = await input.next();
      if (r.done) ended = true;
      else {
        queue.push(r.value);
        received += r.value.length;
      }
    }
  };
  await fill(4, undefined);
  if (received === 0) return;
  const bits = bitIterator(() => {
    const next = queue.shift();
    if (!next) throw new Error("bzip2 data ends early");
    return next;
  });
  let level = 0;
  let crc: number | null = null;
  let buf = new Int32Array(0);
  for (;;) {
    await fill(blockInput(level || 9), bits);
    if (received <= bits.bytesRead && ended) {
      if (crc !== null) throw new Error("bzip2 data ends early");
      return;
    }
    if (level === 0) {
      level = bzip2.header(bits);
      if (buf.length < 100_000 * level) buf = new Int32Array(100_000 * level);
      crc = 0;
      continue;
    }
    const out = new BlockOutput();
    crc = bzip2.decompress(bits, out.push, buf, 100_000 * level, crc);
    if (crc === null) level = 0;
    else yield out.take();
  }
}
