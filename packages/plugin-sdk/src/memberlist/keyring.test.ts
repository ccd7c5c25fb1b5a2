import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isPluginSdkError } from "../errors.js";
import { BESKAR_DEFAULT_GOSSIP_KEY, ENCRYPT_OVERHEAD, Keyring } from "./keyring.js";

describe("Keyring", () => {
  it("decodes Beskar's default key to 32 bytes and round-trips with each AES size", () => {
    expect(Buffer.from(BESKAR_DEFAULT_GOSSIP_KEY, "base64")).toHaveLength(32);
    for (const size of [16, 24, 32]) {
      const ring = new Keyring([randomBytes(size)]);
      const aad = Buffer.from([10, 0, 0, 0, 42]);
      const sealed = ring.encrypt(Buffer.from("hello"), aad);
      expect(sealed[0]).toBe(1);
      expect(sealed).toHaveLength(ENCRYPT_OVERHEAD + 5);
      expect(ring.decrypt(sealed, aad).toString()).toBe("hello");
      expect(() => ring.decrypt(sealed, Buffer.alloc(0))).toThrow(/no installed key could decrypt/);
    }
  });

  it("tries every installed key; the first one encrypts", () => {
    const [a, b] = [randomBytes(32), randomBytes(16)];
    const sealedByB = new Keyring([b]).encrypt(Buffer.from("x"));
    expect(new Keyring([a, b]).decrypt(sealedByB).toString()).toBe("x");
    expect(() => new Keyring([a]).decrypt(sealedByB)).toThrow(/the peer uses another gossip key/);
  });

  it("decrypts encryption version 0 (PKCS#7 padding), refuses unknown versions and short payloads", () => {
    const key = randomBytes(16);
    const nonce = randomBytes(12);
    const plain = Buffer.from("padded!");
    const padded = Buffer.concat([plain, Buffer.alloc(9, 9)]);
    const cipher = createCipheriv("aes-128-gcm", key, nonce);
    const body = Buffer.concat([cipher.update(padded), cipher.final(), cipher.getAuthTag()]);
    const ring = new Keyring([key]);
    expect(ring.decrypt(Buffer.concat([Buffer.from([0]), nonce, body])).toString()).toBe("padded!");
    expect(() => ring.decrypt(Buffer.from([2, ...randomBytes(40)]))).toThrow(
      /unsupported encryption version 2/,
    );
    expect(() => ring.decrypt(Buffer.from([1, 1, 2]))).toThrow(/too small/);
    expect(() => ring.decrypt(Buffer.alloc(0))).toThrow(/empty/);
  });

  it("refuses keys of the wrong size or encoding", () => {
    for (const make of [
      () => new Keyring([randomBytes(20)]),
      () => Keyring.fromBase64(["not base64!"]),
      () => new Keyring([]),
    ]) {
      try {
        make();
        expect.unreachable();
      } catch (err) {
        expect(isPluginSdkError(err, "INVALID_KEY")).toBe(true);
      }
    }
    expect(() => new Keyring([randomBytes(20)])).toThrow(/20 bytes; it must be 16, 24 or 32/);
  });
});
