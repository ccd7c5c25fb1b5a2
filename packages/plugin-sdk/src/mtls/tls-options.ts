import type * as tls from "node:tls";
import type { CertificateAuthority } from "./ca.js";
import type { LeafCertificate } from "./certificates.js";

/**
 * Beskar's mTLS server side (`mtls.ServerConfig`): TLS 1.3 only, the client must present a certificate
 * the CA signed (Go's RequireAndVerifyClientCert), `leaf` is the server certificate.
 */
export function serverTlsOptions(ca: CertificateAuthority, leaf: LeafCertificate): tls.TlsOptions {
  return {
    ca: [ca.certPem],
    cert: leaf.certPem,
    key: leaf.keyPem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
  };
}

/**
 * Beskar's mTLS client side (`mtls.ClientConfig`): TLS 1.3, the CA as the only root, `leaf` as client
 * certificate; `servername` overrides the name the server certificate is checked against.
 */
export function clientTlsOptions(
  ca: CertificateAuthority,
  leaf: LeafCertificate,
  servername?: string,
): tls.ConnectionOptions {
  return {
    ca: [ca.certPem],
    cert: leaf.certPem,
    key: leaf.keyPem,
    minVersion: "TLSv1.3",
    ...(servername === undefined ? {} : { servername }),
  };
}
