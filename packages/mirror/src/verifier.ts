import { createHash, type Hash } from "node:crypto";
import { YumError } from "@beskar-yum/errors";

export interface Expected {
  /** Exact size in bytes, when upstream declares it. */
  size?: number;
  /** Checksum as upstream declares it (`sha`, `sha1`, `sha256`, `sha512`, ...). */
  checksum?: { type: string; value: string };
}

/** Node's name of an upstream checksum type ("sha" is createrepo's old spelling of sha1). */
export function hashName(type: string): string {
  return type === "sha" ? "sha1" : type;
}

/**
 * Checks size and checksum while the bytes stream: more bytes than declared (or than `maxBytes`)
 * fail at once; a short body or a wrong digest fails at `finish`. So nothing unverified is ever
 * committed.
 */
export class Verification {
  private readonly limit: number;
  private readonly hash: Hash | undefined;
  private size = 0;

  constructor(
    private readonly expected: Expected,
    private readonly maxBytes: number,
    private readonly what: string,
  ) {
    this.limit = Math.min(expected.size ?? maxBytes, maxBytes);
    // sha256 is what the blob store computes anyway: `checkSha256` compares that instead of hashing twice.
    const type = expected.checksum?.type;
    this.hash = type && type !== "sha256" ? createHash(hashName(type)) : undefined;
  }

  /** For sha256 checksums: compares the digest the blob store computed. */
  checkSha256(digest: string): void {
    const { checksum } = this.expected;
    if (checksum?.type === "sha256" && digest !== checksum.value) {
      throw new YumError(
        "UPSTREAM_CHECKSUM_MISMATCH",
        `${this.what}: sha256 is ${digest}, upstream metadata says ${checksum.value}`,
      );
    }
  }

  update(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.limit) {
      const declared =
        this.expected.size !== undefined
          ? `declared ${this.expected.size} bytes`
          : `the limit of ${this.maxBytes} bytes`;
      throw new YumError("UPSTREAM_SIZE_MISMATCH", `${this.what}: upstream sent more than ${declared}`);
    }
    this.hash?.update(chunk);
  }

  finish(): void {
    const { size, checksum } = this.expected;
    if (size !== undefined && this.size !== size) {
      throw new YumError(
        "UPSTREAM_SIZE_MISMATCH",
        `${this.what}: upstream sent ${this.size} bytes, ${size} declared`,
      );
    }
    if (this.hash && checksum && checksum.type !== "sha256") {
      const actual = this.hash.digest("hex");
      if (actual !== checksum.value) {
        throw new YumError(
          "UPSTREAM_CHECKSUM_MISMATCH",
          `${this.what}: ${checksum.type} is ${actual}, upstream metadata says ${checksum.value}`,
        );
      }
    }
  }
}
