import { CertificateAuthority, encodeCaState, issueCertificate } from "@beskar-yum/plugin-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGoProgram } from "../gossip/go-programs.js";
import { run } from "../support/run.js";
import { cleanupTempDirs, makeTempDir } from "../support/tmp.js";

// Our mTLS material against Go's crypto/x509 and crypto/tls, the way Beskar uses them: a CA made by Go
// as Beskar's mtls.GenerateCA, loaded by us, signing our leaves; and a CA made by us (a plugin that is
// the first node), loaded by Go's tls.X509KeyPair.

let goBinary: string;

beforeAll(async () => {
  goBinary = await buildGoProgram("beskar-peer", makeTempDir("beskar-peer-"));
});

afterAll(cleanupTempDirs);

async function goTool(args: string[], input?: string): Promise<string> {
  const result = await run(goBinary, args, { input, timeoutMs: 30_000 });
  if (result.code !== 0)
    throw new Error(`beskar-peer ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

async function checkCert(input: Record<string, string>): Promise<Record<string, unknown>> {
  return JSON.parse(await goTool(["check-cert"], JSON.stringify(input))) as Record<string, unknown>;
}

describe("mTLS material against Go", () => {
  it("loads a CA Go made as Beskar does; Go verifies our leaves for client and server auth, AKI = SKI", async () => {
    const state = (await goTool(["ca"])).trim();
    const ca = await CertificateAuthority.fromState(Buffer.from(state));
    expect(ca.curve).toBe("P-384");
    expect(ca.keyPem).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    const leaf = await issueCertificate(ca, { ips: ["10.20.30.40"], dnsNames: ["plugin-host"] });
    const result = await checkCert({
      caCert: ca.certPem,
      leaf: leaf.certPem,
      leafKey: leaf.keyPem,
      ip: "127.0.0.1",
      dns: "plugin-host",
    });
    expect(result).toMatchObject({
      ok: true,
      caIsCA: true,
      caCurve: "P-384",
      caSKI: ca.subjectKeyId,
      leafAKI: ca.subjectKeyId,
      leafCurve: "P-256",
      leafSignature: "ECDSA-SHA384",
      leafCN: "foobar",
      leafDNS: ["localhost", "plugin-host"],
      leafIPs: ["127.0.0.1", "10.20.30.40"],
      leafYears: 10,
    });
    // The state round-trips to the same bytes Go's json.Marshal wrote.
    expect(encodeCaState(ca.toState()).toString()).toBe(state);
  });

  it("makes a CA Go accepts as Beskar's CA state (tls.X509KeyPair), whose leaves Go verifies", async () => {
    const ca = await CertificateAuthority.generate();
    const leaf = await issueCertificate(ca);
    const result = await checkCert({
      caCert: ca.certPem,
      caKey: ca.keyPem,
      leaf: leaf.certPem,
      leafKey: leaf.keyPem,
      ip: "127.0.0.1",
      dns: "localhost",
    });
    expect(result).toMatchObject({ ok: true, caIsCA: true, caCurve: "P-384", leafAKI: ca.subjectKeyId });
    // A CA that did not sign the leaf: Go refuses it.
    const other = await CertificateAuthority.generate();
    const refused = await checkCert({
      caCert: other.certPem,
      leaf: leaf.certPem,
      leafKey: leaf.keyPem,
      ip: "",
      dns: "",
    });
    expect(refused.error).toMatch(/certificate signed by unknown authority/);
  });
});
