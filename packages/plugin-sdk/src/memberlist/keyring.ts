import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { PluginSdkError } from "../errors.js";

/**
 * memberlist's keyring and payload encryption (security.go, keyring.go): AES-GCM with a 16/24/32-byte key;
 * payload = [version][12-byte nonce][ciphertext][16-byte tag]. Version 1 (protocol ≥ 2) has no padding;
 * version 0 (protocol 1) pads with PKCS#7 and is only decrypted. Packets use the label as additional data
 * (empty: Beskar sets no label); streams use the 5-byte `encrypt` header.
 */

/** Beskar's default `gossip.key` (32 bytes, so AES-256-GCM). */
export const BESKAR_DEFAULT_GOSSIP_KEY = "XD1IOhcp0HWFgZJ/HAaARqMKJwfMWtz284Yj7wxmerA=";

const NONCE_SIZE = 12;
const TAG_SIZE = 16;
/** Bytes encryption adds with version 1: version + nonce + tag. */
export const ENCRYPT_OVERHEAD = 1 + NONCE_SIZE + TAG_SIZE;

/** The length of a version-1 encryption of `plainLength` bytes. */
export function encryptedLength(plainLength: number): number {
  return ENCRYPT_OVERHEAD + plainLength;
}

export class Keyring {
  private readonly keys: readonly Buffer[];

  /** `keys[0]` is the primary key (used to encrypt); every key is tried to decrypt. */
  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) throw new PluginSdkError("INVALID_KEY", "a keyring needs at least one key");
    this.keys = keys.map((key, i) => {
      if (![16, 24, 32].includes(key.length)) {
        throw new PluginSdkError(
          "INVALID_KEY",
          `gossip key #${i + 1} is ${key.length} bytes; it must be 16, 24 or 32 bytes (AES-128/192/256)`,
          { index: i, length: key.length },
        );
      }
      return Buffer.from(key);
    });
  }

  /** Keys as Beskar's `gossip.key` holds them: standard base64. */
  static fromBase64(keys: readonly string[]): Keyring {
    return new Keyring(keys.map((text, i) => decodeBase64Key(text, i)));
  }

  get size(): number {
    return this.keys.length;
  }

  /** Encrypts with the primary key, encryption version 1. */
  encrypt(plain: Uint8Array, additionalData: Uint8Array = Buffer.alloc(0)): Buffer {
    const key = this.keys[0]!;
    const nonce = randomBytes(NONCE_SIZE);
    const cipher = createCipheriv(algorithm(key), key, nonce);
    cipher.setAAD(additionalData);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([Buffer.from([1]), nonce, body, cipher.getAuthTag()]);
  }

  /** Tries every key; throws `DECRYPT_FAILED` saying why when none works. */
  decrypt(payload: Uint8Array, additionalData: Uint8Array = Buffer.alloc(0)): Buffer {
    if (payload.length === 0) throw new PluginSdkError("DECRYPT_FAILED", "cannot decrypt an empty payload");
    const version = payload[0]!;
    if (version > 1) {
      throw new PluginSdkError("DECRYPT_FAILED", `unsupported encryption version ${version}`, { version });
    }
    const minimum = ENCRYPT_OVERHEAD + (version === 0 ? 16 : 0);
    if (payload.length < minimum) {
      throw new PluginSdkError(
        "DECRYPT_FAILED",
        `payload of ${payload.length} bytes is too small to decrypt`,
        {
          length: payload.length,
        },
      );
    }
    const nonce = payload.subarray(1, 1 + NONCE_SIZE);
    const body = payload.subarray(1 + NONCE_SIZE, payload.length - TAG_SIZE);
    const tag = payload.subarray(payload.length - TAG_SIZE);
    for (const key of this.keys) {
      let plain: Buffer;
      try {
        const decipher = createDecipheriv(algorithm(key), key, nonce);
        decipher.setAAD(additionalData);
        decipher.setAuthTag(tag);
        plain = Buffer.concat([decipher.update(body), decipher.final()]);
      } catch {
        continue;
      }
      return version === 0 ? unpad(plain) : plain;
    }
    throw new PluginSdkError(
      "DECRYPT_FAILED",
      `no installed key could decrypt the message (tried ${this.keys.length}; the peer uses another gossip key)`,
      { keys: this.keys.length },
    );
  }
}

/** Decodes one base64 gossip key (`gossip.key`); `index` only serves the error message. */
export function decodeBase64Key(text: string, index = 0): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) {
    throw new PluginSdkError("INVALID_KEY", `gossip key #${index + 1} is not valid base64`, { index });
  }
  return Buffer.from(trimmed, "base64");
}

function algorithm(key: Buffer): "aes-128-gcm" | "aes-192-gcm" | "aes-256-gcm" {
  return key.length === 16 ? "aes-128-gcm" : key.length === 24 ? "aes-192-gcm" : "aes-256-gcm";
}

function unpad(plain: Buffer): Buffer {
  const pad = plain[plain.length - 1] ?? 0;
  if (pad === 0 || pad > 16 || pad > plain.length) {
    throw new PluginSdkError("DECRYPT_FAILED", `bad PKCS#7 padding (${pad}) in a version 0 payload`);
  }
  return plain.subarray(0, plain.length - pad);
}
