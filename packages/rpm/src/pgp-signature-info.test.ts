import { describe, expect, it } from "vitest";
import { describePgpSignature, parsePgpSignature } from "./pgp-signature-info.js";

function v3Packet(created: number, keyId: string, pk: number, hash: number): Uint8Array {
  const body = Buffer.alloc(19);
  body[0] = 3;
  body[1] = 5;
  body[2] = 0;
  body.writeUInt32BE(created, 3);
  Buffer.from(keyId, "hex").copy(body, 7);
  body[15] = pk;
  body[16] = hash;
  return Buffer.concat([Buffer.from([0x88, body.length]), body]);
}

describe("parsePgpSignature / describePgpSignature", () => {
  it("reads V3 signatures and formats them like rpm's pgpsig (C locale, UTC)", () => {
    const info = parsePgpSignature(v3Packet(1613511668, "15af5dac6d745a60", 1, 8))!;
    expect(info).toEqual({
      version: 3,
      created: 1613511668,
      keyId: "15af5dac6d745a60",
      publicKeyAlgorithm: 1,
      hashAlgorithm: 8,
    });
    expect(describePgpSignature(info)).toBe("RSA/SHA256, Tue Feb 16 21:41:08 2021, Key ID 15af5dac6d745a60");
    expect(
      describePgpSignature({ ...info, created: 1612302068, publicKeyAlgorithm: 99, hashAlgorithm: 99 }),
    ).toBe(
      "Unknown public key algorithm/Unknown hash algorithm, Tue Feb  2 21:41:08 2021, Key ID 15af5dac6d745a60",
    );
  });

  it("returns undefined for anything that is not a signature packet", () => {
    expect(parsePgpSignature(new Uint8Array())).toBeUndefined();
    expect(parsePgpSignature(Buffer.from("not a packet"))).toBeUndefined();
    expect(parsePgpSignature(Buffer.from([0xc2, 0x05, 4, 0, 1, 8]))).toBeUndefined();
  });
});
