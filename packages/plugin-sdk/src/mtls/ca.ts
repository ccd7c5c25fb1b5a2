import { createPrivateKey, createPublicKey, type KeyObject, randomBytes } from "node:crypto";
import { type CaState, decodeCaState } from "../ca-state.js";
import { PluginSdkError } from "../errors.js";
import { type CryptoKey, type CryptoKeyPair, crypto, x509 } from "./x509.js";

/**
 * Beskar's certificate authority (pkg/mtls): every node of a cluster issues its own leaf certificates
 * from the CA shared through gossip, and trusts only what that CA signed.
 */

/** Curves of an ECDSA CA key, with the hash Go's crypto/x509 signs with for each. */
const CURVES = {
  "P-256": { nodeName: "prime256v1", hash: "SHA-256" },
  "P-384": { nodeName: "secp384r1", hash: "SHA-384" },
  "P-521": { nodeName: "secp521r1", hash: "SHA-512" },
} as const;

export type EcCurve = keyof typeof CURVES;

/** Ten years, as Beskar's `time.Now().AddDate(10, 0, 0)`. */
export const TEN_YEARS_MS = 10 * 365.25 * 24 * 3600 * 1000;

/** Go's pkix.Name of Beskar's certificates, in Go's RDN order, with the empty L/street/postalCode it writes. */
export function beskarSubject(commonName: string): x509.JsonName {
  return [
    { C: ["United States"] },
    { ST: ["CA"] },
    { L: [""] },
    { "2.5.4.9": [""] }, // streetAddress
    { "2.5.4.17": [""] }, // postalCode
    { O: ["CtrlIQ Inc"] },
    { CN: [commonName] },
  ];
}

/** A CA certificate and its private key, ready to sign leaf certificates. */
export class CertificateAuthority {
  private constructor(
    /** The CA certificate, PEM ("CERTIFICATE"). */
    readonly certPem: string,
    /** Its private key, PEM ("EC PRIVATE KEY", SEC1, as Go's x509.MarshalECPrivateKey, for a generated CA). */
    readonly keyPem: string,
    readonly certificate: x509.X509Certificate,
    /** WebCrypto signing key. */
    readonly signingKey: CryptoKey,
    readonly curve: EcCurve,
    /** The CA's SubjectKeyId, hex: every leaf it issues carries it as AuthorityKeyId. */
    readonly subjectKeyId: string,
  ) {}

  /** The hash Go signs with for this CA's curve (SHA-384 for Beskar's P-384). */
  get signingHash(): string {
    return CURVES[this.curve].hash;
  }

  /** Beskar's push/pull state for this CA (see `encodeCaState`). */
  toState(): CaState {
    return { certPem: this.certPem, keyPem: this.keyPem };
  }

  /**
   * A fresh CA as Beskar's `mtls.GenerateCA("beskar", now + 10 years, ECDSAKey)`: ECDSA P-384,
   * CN "beskar", O "CtrlIQ Inc", C "United States", ST "CA", random 128-bit serial, KeyUsage
   * DigitalSignature|CertSign (critical), ExtKeyUsage ClientAuth+ServerAuth, BasicConstraints CA
   * (critical), SubjectKeyId = SHA-1 of the public key. What a plugin that is the first node uses.
   */
  static async generate(options: { commonName?: string; curve?: EcCurve; now?: Date } = {}) {
    const curve = options.curve ?? "P-384";
    const notBefore = options.now ?? new Date();
    const algorithm = { name: "ECDSA", namedCurve: curve };
    const keys = (await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
    const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto);
    const certificate = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: randomSerialNumber(),
        name: beskarSubject(options.commonName ?? "beskar"),
        notBefore,
        notAfter: new Date(notBefore.getTime() + TEN_YEARS_MS),
        keys,
        signingAlgorithm: { name: "ECDSA", hash: CURVES[curve].hash },
        extensions: [
          new x509.KeyUsagesExtension(
            x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign,
            true,
          ),
          new x509.ExtendedKeyUsageExtension(
            [x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth],
            false,
          ),
          new x509.BasicConstraintsExtension(true, undefined, true),
          ski,
        ],
      },
      crypto,
    );
    const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
    const keyPem = sec1Pem(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }));
    return new CertificateAuthority(
      certificate.toString("pem"),
      keyPem,
      certificate,
      keys.privateKey,
      curve,
      ski.keyId,
    );
  }

  /** Loads Beskar's push/pull state: JSON `{cert, key}` with base64 PEM texts. */
  static fromState(state: Uint8Array | CaState): Promise<CertificateAuthority> {
    return CertificateAuthority.fromPem(state instanceof Uint8Array ? decodeCaState(state) : state);
  }

  /**
   * Loads a CA from PEM texts, as Go's `tls.X509KeyPair`: the certificate must be a CA certificate
   * and the key (SEC1 "EC PRIVATE KEY" or PKCS#8) its ECDSA private key. The texts are kept as given
   * (`certPem`, `keyPem`, `toState()`).
   */
  static async fromPem(pem: CaState): Promise<CertificateAuthority> {
    let certificate: x509.X509Certificate;
    try {
      certificate = new x509.X509Certificate(firstPemBlock(pem.certPem, "CERTIFICATE"));
    } catch (err) {
      throw new PluginSdkError(
        "CA_INVALID",
        `CA certificate does not parse: ${describe(err)}`,
        {},
        { cause: err },
      );
    }
    const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
    if (!constraints?.ca) {
      throw new PluginSdkError(
        "CA_INVALID",
        `certificate "${certificate.subject}" is not a CA certificate (BasicConstraints CA is not set)`,
      );
    }
    let key: KeyObject;
    try {
      key = createPrivateKey(pem.keyPem);
    } catch (err) {
      throw new PluginSdkError(
        "CA_INVALID",
        `CA private key does not parse: ${describe(err)}`,
        {},
        { cause: err },
      );
    }
    const curve = curveOf(key);
    const certSpki = Buffer.from(certificate.publicKey.rawData);
    const keySpki = createPublicKey(key).export({ format: "der", type: "spki" });
    if (!certSpki.equals(keySpki)) {
      throw new PluginSdkError("CA_INVALID", "CA private key does not match the CA certificate's public key");
    }
    const signingKey = await crypto.subtle.importKey(
      "pkcs8",
      key.export({ format: "der", type: "pkcs8" }),
      { name: "ECDSA", namedCurve: curve },
      false,
      ["sign"],
    );
    const skiExtension = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
    const subjectKeyId =
      skiExtension?.keyId ??
      Buffer.from(await certificate.publicKey.getKeyIdentifier(crypto)).toString("hex");
    return new CertificateAuthority(pem.certPem, pem.keyPem, certificate, signingKey, curve, subjectKeyId);
  }
}

/** A positive serial below 2^128, as Go's `rand.Int(rand.Reader, 1<<128)`. */
export function randomSerialNumber(): string {
  return randomBytes(16).toString("hex");
}

function curveOf(key: KeyObject): EcCurve {
  const nodeCurve = key.asymmetricKeyDetails?.namedCurve;
  const found = Object.entries(CURVES).find(([, c]) => c.nodeName === nodeCurve);
  if (key.asymmetricKeyType !== "ec" || !found) {
    throw new PluginSdkError(
      "CA_INVALID",
      `CA key must be ECDSA P-256, P-384 or P-521 (Beskar generates P-384), got ${key.asymmetricKeyType} ${nodeCurve ?? ""}`.trim(),
    );
  }
  return found[0] as EcCurve;
}

export function sec1Pem(key: KeyObject): string {
  return key.export({ format: "pem", type: "sec1" }).toString();
}

/** The first PEM block of type `label` in `text` (Go's pem.Decode skips what precedes it). */
function firstPemBlock(text: string, label: string): string {
  const match = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`).exec(text);
  if (!match) throw new PluginSdkError("CA_INVALID", `no PEM ${label} block found`);
  return match[0];
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
