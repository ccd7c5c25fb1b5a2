import { createPrivateKey } from "node:crypto";
import * as net from "node:net";
import * as os from "node:os";
import { PluginSdkError } from "../errors.js";
import { beskarSubject, type CertificateAuthority, randomSerialNumber, sec1Pem, TEN_YEARS_MS } from "./ca.js";
import { type CryptoKeyPair, crypto, x509 } from "./x509.js";

/** A leaf certificate and its key, PEM, for Node's `tls` options (`cert`, `key`). */
export interface LeafCertificate {
  /** The certificate, PEM ("CERTIFICATE"). */
  certPem: string;
  /** Its private key, PEM ("EC PRIVATE KEY", SEC1). */
  keyPem: string;
  certificate: x509.X509Certificate;
}

export interface IssueCertificateOptions {
  /** Subject CN. Default "foobar", as Beskar's `generateConfig`. */
  commonName?: string;
  /** IP SANs besides 127.0.0.1 (Beskar's `WithCertRequestIPs`). Default none. */
  ips?: readonly string[];
  /** DNS SANs besides localhost (Beskar's `WithCertRequestHostnames`). Default none. */
  dnsNames?: readonly string[];
  /** Start of validity. Default now. */
  notBefore?: Date;
  /** Validity length. Default 10 years, as Beskar. */
  validityMs?: number;
}

/**
 * Issues a leaf certificate from `ca` as Beskar's `mtls.GenerateKeyPair` with a CA: a fresh ECDSA P-256
 * key, Beskar's subject with CN "foobar", SANs IP 127.0.0.1 + DNS localhost + the extras, KeyUsage
 * DigitalSignature (critical), ExtKeyUsage ClientAuth+ServerAuth, valid 10 years, signed with the CA's
 * hash. AuthorityKeyId = the CA's SubjectKeyId: Beskar recognises plugin clients by it. A SubjectKeyId is
 * added too (Go omits it for leaves; harmless). The issuer is the CA's subject, byte for byte, as Go's
 * verifier requires.
 */
export async function issueCertificate(
  ca: CertificateAuthority,
  options: IssueCertificateOptions = {},
): Promise<LeafCertificate> {
  const ips = unique(["127.0.0.1", ...(options.ips ?? [])]);
  for (const ip of ips) {
    if (!net.isIP(ip)) throw new PluginSdkError("CERTIFICATE_INVALID", `not an IP address for a SAN: ${ip}`);
  }
  const dnsNames = unique(["localhost", ...(options.dnsNames ?? [])]).filter((n) => n !== "");
  const notBefore = options.notBefore ?? new Date();
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialNumber(),
      subject: beskarSubject(options.commonName ?? "foobar"),
      issuer: ca.certificate.subjectName,
      notBefore,
      notAfter: new Date(notBefore.getTime() + (options.validityMs ?? TEN_YEARS_MS)),
      publicKey: keys.publicKey,
      signingKey: ca.signingKey,
      signingAlgorithm: { name: "ECDSA", hash: ca.signingHash },
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(
          [x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth],
          false,
        ),
        new x509.AuthorityKeyIdentifierExtension(ca.subjectKeyId, false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        new x509.SubjectAlternativeNameExtension(
          [
            ...dnsNames.map((value) => ({ type: "dns" as const, value })),
            ...ips.map((value) => ({ type: "ip" as const, value })),
          ],
          false,
        ),
      ],
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return {
    certPem: certificate.toString("pem"),
    keyPem: sec1Pem(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })),
    certificate,
  };
}

/**
 * The extra SANs of a plugin's server certificate, as Beskar's `setServerTLSConfig`: every local IP that
 * is global unicast or loopback (Go's `netutil.LocalIPs`; link-local ones are left out) and the hostname.
 */
export function localCertificateNames(hostname = os.hostname()): { ips: string[]; dnsNames: string[] } {
  const ips = Object.values(os.networkInterfaces())
    .flat()
    .filter((i): i is os.NetworkInterfaceInfo => i !== undefined)
    .map((i) => i.address)
    .filter(isGlobalUnicastOrLoopback);
  return { ips: unique(ips), dnsNames: hostname ? [hostname] : [] };
}

function isGlobalUnicastOrLoopback(ip: string): boolean {
  if (net.isIPv4(ip)) {
    if (ip.startsWith("127.")) return true;
    const first = Number(ip.split(".")[0]);
    const linkLocal = ip.startsWith("169.254.");
    return ip !== "0.0.0.0" && ip !== "255.255.255.255" && first < 224 && !linkLocal;
  }
  if (!net.isIPv6(ip)) return false;
  const lower = ip.toLowerCase();
  if (lower === "::1") return true;
  return lower !== "::" && !/^fe[89ab]/.test(lower) && !lower.startsWith("ff");
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
