import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCaState, encodeCaState } from "../ca-state.js";
import { isPluginSdkError } from "../errors.js";
import { CertificateAuthority } from "./ca.js";
import { issueCertificate, localCertificateNames } from "./certificates.js";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "beskar-yum-mtls-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function file(text: string): string {
  const p = path.join(dir, `f${fileCount++}.pem`);
  fs.writeFileSync(p, text);
  return p;
}

function openssl(args: string[], input?: string): string {
  return execFileSync("openssl", args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}

const text = (pem: string) => openssl(["x509", "-noout", "-text", "-in", file(pem)]);

/** `openssl verify` of `leaf` against `ca` for an SSL purpose; returns openssl's output. */
function verify(caPem: string, leafPem: string, purpose: "sslserver" | "sslclient"): string {
  return openssl(["verify", "-purpose", purpose, "-CAfile", file(caPem), file(leafPem)]);
}

function extension(dump: string, name: string): string {
  const match = new RegExp(`${name}:( critical)? *\\n\\s+(.*)`).exec(dump);
  return match ? `${match[2]!.trim()}${match[1] ?? ""}` : "";
}

describe("CertificateAuthority.generate", () => {
  it("makes Beskar's CA: P-384, CN beskar in Go's subject, CA constraints and usages, SKI, SEC1 key", async () => {
    const ca = await CertificateAuthority.generate();
    const dump = text(ca.certPem);
    expect(dump).toContain("Signature Algorithm: ecdsa-with-SHA384");
    expect(dump).toContain("NIST CURVE: P-384");
    expect(dump).toMatch(
      /Subject: C = United States, ST = CA, L = , street = , postalCode = , O = CtrlIQ Inc, CN = beskar\n/,
    );
    expect(dump).toMatch(/Issuer: C = United States, .*CN = beskar\n/);
    expect(extension(dump, "X509v3 Basic Constraints")).toBe("CA:TRUE critical");
    expect(extension(dump, "X509v3 Key Usage")).toBe("Digital Signature, Certificate Sign critical");
    expect(extension(dump, "X509v3 Extended Key Usage")).toBe(
      "TLS Web Client Authentication, TLS Web Server Authentication",
    );
    expect(extension(dump, "X509v3 Subject Key Identifier").replaceAll(":", "").toLowerCase()).toBe(
      ca.subjectKeyId,
    );
    expect(dump).not.toContain("Authority Key Identifier");
    // 128-bit random serial, ten years of validity.
    const serial = /Serial Number:\s*\n?\s*([0-9a-f:]+)/.exec(dump)![1]!.replaceAll(":", "");
    expect(serial.length).toBeLessThanOrEqual(34);
    const notAfter = new Date(/Not After : (.*)/.exec(dump)![1]!);
    expect(notAfter.getUTCFullYear() - new Date().getUTCFullYear()).toBe(10);
    // SubjectKeyId is SHA-1 of the public key bits (RFC 5280 method 1, as Go computes it).
    const der = openssl(["x509", "-noout", "-pubkey", "-in", file(ca.certPem)]);
    const spki = Buffer.from(der.replace(/-----[^-]+-----|\s/g, ""), "base64");
    const point = spki.subarray(spki.length - 97);
    const { createHash } = await import("node:crypto");
    expect(createHash("sha1").update(point).digest("hex")).toBe(ca.subjectKeyId);

    expect(ca.keyPem).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    expect(openssl(["ec", "-check", "-noout", "-in", file(ca.keyPem)], undefined)).toBe("");
    // Self-signed and valid as a trust anchor.
    expect(openssl(["verify", "-CAfile", file(ca.certPem), file(ca.certPem)])).toMatch(/: OK/);
  });

  it("round-trips through Beskar's JSON push/pull state", async () => {
    const ca = await CertificateAuthority.generate();
    const state = encodeCaState(ca.toState());
    const json = JSON.parse(state.toString("utf8"));
    expect(Buffer.from(json.key, "base64").toString()).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    const loaded = await CertificateAuthority.fromState(state);
    expect(loaded.subjectKeyId).toBe(ca.subjectKeyId);
    expect(loaded.certPem).toBe(ca.certPem);
    expect(loaded.keyPem).toBe(ca.keyPem);
    expect(loaded.curve).toBe("P-384");
    expect(decodeCaState(state)).toEqual(ca.toState());
  });
});

describe("CertificateAuthority.fromPem", () => {
  /** A CA made by openssl (SEC1 key, as Go writes), so nothing of ours produced it. */
  function opensslCa(curve = "P-384"): { certPem: string; keyPem: string } {
    const keyFile = path.join(dir, `ossl-${fileCount++}.key`);
    openssl([
      "ecparam",
      "-name",
      curve === "P-384" ? "secp384r1" : "prime256v1",
      "-genkey",
      "-noout",
      "-out",
      keyFile,
    ]);
    const certPem = openssl([
      "req",
      "-x509",
      "-new",
      "-key",
      keyFile,
      "-subj",
      "/C=US/ST=CA/O=CtrlIQ Inc/CN=beskar",
      "-days",
      "3650",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,digitalSignature,keyCertSign",
    ]);
    return { certPem, keyPem: fs.readFileSync(keyFile, "utf8") };
  }

  it("loads a foreign CA (SEC1 key) and issues leaves that chain to it byte for byte", async () => {
    const pem = opensslCa();
    expect(pem.keyPem).toMatch(/BEGIN EC PRIVATE KEY/);
    const ca = await CertificateAuthority.fromPem(pem);
    const caDump = text(pem.certPem);
    expect(ca.subjectKeyId).toBe(
      extension(caDump, "X509v3 Subject Key Identifier").replaceAll(":", "").toLowerCase(),
    );
    const leaf = await issueCertificate(ca);
    expect(verify(pem.certPem, leaf.certPem, "sslserver")).toMatch(/: OK/);
    // The issuer is the CA's subject DER, unchanged.
    const subjectDer = openssl([
      "x509",
      "-noout",
      "-subject",
      "-nameopt",
      "RFC2253",
      "-in",
      file(pem.certPem),
    ]);
    const issuerDer = openssl([
      "x509",
      "-noout",
      "-issuer",
      "-nameopt",
      "RFC2253",
      "-in",
      file(leaf.certPem),
    ]);
    expect(issuerDer.replace(/^issuer=/, "")).toBe(subjectDer.replace(/^subject=/, ""));
    expect(Buffer.from(leaf.certificate.issuerName.toArrayBuffer())).toEqual(
      Buffer.from(ca.certificate.subjectName.toArrayBuffer()),
    );
  });

  it("refuses what is not Beskar CA material, saying why", async () => {
    const ca = await CertificateAuthority.generate();
    const other = await CertificateAuthority.generate();
    const leaf = await issueCertificate(ca);
    const cases: [{ certPem: string; keyPem: string }, RegExp][] = [
      [{ certPem: "nope", keyPem: ca.keyPem }, /no PEM CERTIFICATE block/],
      [{ certPem: ca.certPem, keyPem: other.keyPem }, /does not match the CA certificate/],
      [{ certPem: leaf.certPem, keyPem: leaf.keyPem }, /not a CA certificate/],
      [
        {
          certPem: ca.certPem,
          keyPem: "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
        },
        /private key does not parse/,
      ],
    ];
    const { generateKeyPairSync } = await import("node:crypto");
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({
      format: "pem",
      type: "pkcs1",
    });
    cases.push([{ certPem: ca.certPem, keyPem: rsa.toString() }, /must be ECDSA P-256, P-384 or P-521.*rsa/]);
    for (const [pem, message] of cases) {
      const err = await CertificateAuthority.fromPem(pem).catch((e: unknown) => e);
      expect(isPluginSdkError(err, "CA_INVALID"), String(err)).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
  });
});

describe("issueCertificate", () => {
  it("issues Beskar's leaf: P-256, CN foobar, SANs, client+server usage, AKI = CA SKI, signed SHA-384", async () => {
    const ca = await CertificateAuthority.generate();
    const leaf = await issueCertificate(ca, {
      ips: ["10.1.2.3", "::1"],
      dnsNames: ["plugin-host"],
    });
    const dump = text(leaf.certPem);
    expect(dump).toContain("NIST CURVE: P-256");
    expect(dump).toContain("Signature Algorithm: ecdsa-with-SHA384");
    expect(dump).toMatch(/Subject: C = United States, .*CN = foobar\n/);
    expect(dump).toMatch(/Issuer: C = United States, .*CN = beskar\n/);
    expect(extension(dump, "X509v3 Subject Alternative Name")).toBe(
      "DNS:localhost, DNS:plugin-host, IP Address:127.0.0.1, IP Address:10.1.2.3, IP Address:0:0:0:0:0:0:0:1",
    );
    expect(extension(dump, "X509v3 Key Usage")).toBe("Digital Signature critical");
    expect(extension(dump, "X509v3 Extended Key Usage")).toBe(
      "TLS Web Client Authentication, TLS Web Server Authentication",
    );
    expect(dump).not.toContain("Basic Constraints");
    const aki = extension(dump, "X509v3 Authority Key Identifier").replace(/^keyid:/, "");
    expect(aki.replaceAll(":", "").toLowerCase()).toBe(ca.subjectKeyId);
    expect(dump).toContain("X509v3 Subject Key Identifier");
    expect(leaf.keyPem).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);

    expect(verify(ca.certPem, leaf.certPem, "sslserver")).toMatch(/: OK/);
    expect(verify(ca.certPem, leaf.certPem, "sslclient")).toMatch(/: OK/);
    // Another CA does not vouch for it.
    const other = await CertificateAuthority.generate();
    expect(() => verify(other.certPem, leaf.certPem, "sslclient")).toThrow(/unable to get local issuer/);
  });

  it("refuses a SAN that is not an IP", async () => {
    const ca = await CertificateAuthority.generate();
    await expect(issueCertificate(ca, { ips: ["host"] })).rejects.toThrow(/not an IP address/);
  });
});

describe("localCertificateNames", () => {
  it("lists loopback and global unicast IPs, not link-local ones, and the hostname", () => {
    const names = localCertificateNames("plugin-host");
    expect(names.ips).toContain("127.0.0.1");
    expect(names.ips.filter((ip) => /^fe80|^169\.254\./i.test(ip))).toEqual([]);
    expect(names.dnsNames).toEqual(["plugin-host"]);
    expect(localCertificateNames().dnsNames).toEqual([os.hostname()]);
  });
});
