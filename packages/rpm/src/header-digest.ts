import { createHash } from "node:crypto";
import type { RpmHeader } from "./header-reader.js";
import { type ParseContext, rpmError } from "./parse-context.js";
import { SigTag } from "./tags.js";

const digests: [tag: number, algorithm: string, label: string][] = [
  [SigTag.SHA256, "sha256", "SHA256"],
  [SigTag.SHA1, "sha1", "SHA1"],
];

/**
 * Checks the main-header digests the signature header carries (SHA256 tag 273, SHA1 tag 269).
 * The MD5 tag (1004) covers the payload too and is not checked here.
 */
export function verifyHeaderDigests(sig: RpmHeader, main: RpmHeader, ctx: ParseContext): void {
  for (const [tag, algorithm, label] of digests) {
    const expected = sig.string(tag);
    if (expected === undefined) continue;
    const actual = createHash(algorithm).update(main.bytes).digest("hex");
    if (expected.toLowerCase() !== actual) {
      throw rpmError(
        "RPM_DIGEST_MISMATCH",
        ctx,
        `main header ${label} digest mismatch: signature tag ${sig.tagName(tag)} at offset ${sig.dataOffset(tag)} expects ${expected}, bytes ${main.start}..${main.end} hash to ${actual}`,
        { tag, offset: main.start, expected, actual },
      );
    }
  }
}
