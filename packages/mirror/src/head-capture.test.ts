import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { RpmDownloadCheck } from "./head-capture.js";

const rpm = readFileSync(
  fileURLToPath(
    new URL(
      "../../../test/fixtures/rocky-8.3-ha-debug/Packages/booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm",
      import.meta.url,
    ),
  ),
);
const href = "Packages/booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm";

/** Feeds `bytes` to one attempt's inspector in chunks, as a response body would. */
function feed(check: RpmDownloadCheck, bytes: Uint8Array, finish = true): void {
  const inspector = check.inspector();
  for (let at = 0; at < bytes.length; at += 16_384)
    inspector.update(Buffer.from(bytes.subarray(at, at + 16_384)));
  if (finish) inspector.finish();
}

describe("RpmDownloadCheck (a streamed package download)", () => {
  it("starts over with each attempt: a retried body is parsed and verified from its first byte", () => {
    const check = new RpmDownloadCheck(href);
    // The first attempt dies half way (connection reset): no finish.
    feed(check, rpm.subarray(0, rpm.length / 2), false);
    feed(check, rpm);
    const parsed = check.parse(rpm.length);
    expect(parsed?.pkg.name).toBe("booth-debugsource");
  });

  it("fails the attempt whose payload does not match its header, and one with bytes past the signed length", () => {
    const tampered = Buffer.from(rpm);
    tampered[tampered.length - 10]! ^= 1;
    expect(() => feed(new RpmDownloadCheck(href), tampered)).toThrow(
      expect.objectContaining({
        code: "RPM_PAYLOAD_DIGEST_MISMATCH",
        message: expect.stringContaining(href),
      }),
    );
    expect(() => feed(new RpmDownloadCheck(href), Buffer.concat([rpm, Buffer.from("x")]))).toThrow(
      expect.objectContaining({ code: "RPM_TRAILING_DATA" }),
    );
  });
});
