import { PluginSdkError } from "../errors.js";

/**
 * LZW as Go's `compress/lzw` with `lzw.LSB` and litWidth 8, the only algorithm of memberlist's
 * `compress` message (GIF-style: codes grow from 9 to 12 bits, clear = 256, end = 257, the writer starts
 * with a clear code and emits another when the table is full).
 */

const LIT_WIDTH = 8;
const CLEAR = 1 << LIT_WIDTH;
const EOF = CLEAR + 1;
const MAX_WIDTH = 12;
const MAX_CODE = (1 << MAX_WIDTH) - 1;

class BitWriter {
  private readonly out: number[] = [];
  private bits = 0;
  private nBits = 0;

  write(code: number, width: number): void {
    this.bits |= code << this.nBits;
    this.nBits += width;
    while (this.nBits >= 8) {
      this.out.push(this.bits & 0xff);
      this.bits >>>= 8;
      this.nBits -= 8;
    }
  }

  finish(): Buffer {
    if (this.nBits > 0) this.out.push(this.bits & 0xff);
    return Buffer.from(this.out);
  }
}

/** Compresses `input` to the same bytes Go's `lzw.NewWriter(w, lzw.LSB, 8)` writes, then Close(). */
export function lzwCompress(input: Uint8Array): Buffer {
  const w = new BitWriter();
  let width = LIT_WIDTH + 1;
  let hi = EOF;
  let overflow = 1 << width;
  let table = new Map<number, number>();
  w.write(CLEAR, width);
  if (input.length === 0) {
    w.write(EOF, width);
    return w.finish();
  }
  // hi reaching MAX_CODE: Go emits a clear code and starts a fresh table; no entry is added for that step.
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === MAX_CODE) {
      w.write(CLEAR, width);
      width = LIT_WIDTH + 1;
      hi = EOF;
      overflow = 1 << width;
      table = new Map();
      return false;
    }
    return true;
  };
  let code = input[0]!;
  for (let i = 1; i < input.length; i++) {
    const literal = input[i]!;
    const key = (code << 8) | literal;
    const found = table.get(key);
    if (found !== undefined) {
      code = found;
      continue;
    }
    w.write(code, width);
    code = literal;
    if (incHi()) table.set(key, hi);
  }
  w.write(code, width);
  incHi();
  w.write(EOF, width);
  return w.finish();
}

/**
 * Decompresses Go's LZW (LSB, litWidth 8). Output beyond `maxOutput` bytes, invalid codes and data that
 * ends before the end code throw `LZW_MALFORMED` (a compression bomb cannot grow past the limit).
 */
export function lzwDecompress(input: Uint8Array, maxOutput: number): Buffer {
  const prefix = new Uint16Array(1 << MAX_WIDTH);
  const suffix = new Uint8Array(1 << MAX_WIDTH);
  const stack = new Uint8Array(1 << MAX_WIDTH);
  const chunks: Buffer[] = [];
  let pending: number[] = [];
  let total = 0;
  const emit = (bytes: Uint8Array | number[]) => {
    total += bytes.length;
    if (total > maxOutput) {
      throw new PluginSdkError("LZW_MALFORMED", `lzw: decompressed data exceeds ${maxOutput} bytes`, {
        maxOutput,
      });
    }
    for (const b of bytes) pending.push(b);
    if (pending.length >= 65536) {
      chunks.push(Buffer.from(pending));
      pending = [];
    }
  };

  let width = LIT_WIDTH + 1;
  let hi = EOF;
  let overflow = 1 << width;
  let last = -1;
  let bits = 0;
  let nBits = 0;
  let pos = 0;
  for (;;) {
    while (nBits < width) {
      if (pos >= input.length) {
        throw new PluginSdkError("LZW_MALFORMED", `lzw: data ends at byte ${pos} without the end code`, {
          offset: pos,
        });
      }
      bits |= input[pos++]! << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;

    if (code < CLEAR) {
      emit([code]);
      if (last !== -1) {
        suffix[hi] = code;
        prefix[hi] = last;
      }
    } else if (code === CLEAR) {
      width = LIT_WIDTH + 1;
      hi = EOF;
      overflow = 1 << width;
      last = -1;
      continue;
    } else if (code === EOF) {
      break;
    } else if (code <= hi) {
      // Walk the chain backwards into `stack`; code === hi is the KwKwK case (not yet in the table).
      let i = stack.length;
      let c = code;
      if (code === hi && last !== -1) {
        let first = last;
        while (first >= CLEAR) first = prefix[first]!;
        stack[--i] = first;
        c = last;
      }
      while (c >= CLEAR) {
        stack[--i] = suffix[c]!;
        c = prefix[c]!;
      }
      stack[--i] = c;
      emit(stack.subarray(i));
      if (last !== -1) {
        suffix[hi] = c;
        prefix[hi] = last;
      }
    } else {
      throw badCode(code, pos);
    }
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        last = -1;
        hi--;
      } else {
        width++;
        overflow = 1 << width;
      }
    }
  }
  chunks.push(Buffer.from(pending));
  return Buffer.concat(chunks);
}

function badCode(code: number, pos: number): PluginSdkError {
  return new PluginSdkError("LZW_MALFORMED", `lzw: invalid code ${code} near byte ${pos}`, {
    offset: pos,
    code,
  });
}
