import { createRequire } from "node:module";

/** Output buffer per decoding step (ZSTD_DStreamOutSize is 128 KiB + a block header). */
const OUT_SIZE = 128 * 1024;

/**
 * zstd decoding with zstd-napi's decompression context, 128 KiB of output at a time: each
 * piece is yielded before more is decoded, so no input (an RLE bomb turns a few bytes into
 * 128 KiB) can make one step allocate more. zstd-napi's DecompressStream pushes all output of
 * a write at once, which is why it is not used here. Concatenated frames are read in turn.
 */
export async function* unzstd(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  // binding.js assigns module.exports at run time, so ESM sees no named exports: require it.
  const { DCtx } = createRequire(import.meta.url)(
    "zstd-napi/binding.js",
  ) as typeof import("zstd-napi/binding.js");
  const dctx = new DCtx();
  let inFrame = false;
  for await (const chunk of input) {
    let src = chunk;
    for (;;) {
      const dst = Buffer.allocUnsafe(OUT_SIZE);
      const [ret, produced, consumed] = dctx.decompressStream(dst, src);
      src = src.subarray(consumed);
      if (produced > 0) yield dst.subarray(0, produced);
      if (src.length === 0 && (produced < dst.length || ret === 0)) {
        inFrame = ret !== 0;
        break;
      }
    }
  }
  if (inFrame) throw new Error("zstd data ends early");
}
