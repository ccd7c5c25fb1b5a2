import { createHash, randomBytes, webcrypto } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { isYumError } from "@beskar-yum/errors";
import { RegistryClient } from "@beskar-yum/oci";
import { CertificateAuthority } from "@beskar-yum/plugin-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DockerRegistry, dockerRegistry } from "./support/docker-registry.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const SERVICE = "beskar-yum-test-registry";
const ISSUER = "beskar-yum-test-issuer";
const USER = "yum";
const PASSWORD = randomBytes(8).toString("hex");
const b64url = (data: Uint8Array | string) => Buffer.from(data).toString("base64url");
const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/**
 * A token service as registries use it (distribution's token auth): basic credentials in, an ES256
 * JWT out, carrying its signing certificate (x5c) that the registry trusts through its rootcertbundle.
 */
async function startTokenService(dir: string) {
  const issuer = await CertificateAuthority.generate({
    commonName: "beskar-yum test token issuer",
    curve: "P-256",
  });
  const bundle = join(dir, "token-ca.pem");
  writeFileSync(bundle, issuer.certPem);
  const requests: { scope: string[]; authorized: boolean }[] = [];
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const authorized =
      req.headers.authorization === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
    const scope = url.searchParams.getAll("scope");
    requests.push({ scope, authorized });
    if (!authorized) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad credentials"}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = scope.map((s) => {
      const [type, ...rest] = s.split(":");
      const actions = rest.pop()!.split(",");
      return { type, name: rest.join(":"), actions };
    });
    const header = {
      typ: "JWT",
      alg: "ES256",
      x5c: [Buffer.from(issuer.certificate.rawData).toString("base64")],
    };
    const claims = {
      iss: ISSUER,
      sub: USER,
      aud: url.searchParams.get("service"),
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    };
    const signed = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    // WebCrypto's ECDSA signature is r||s, the form JWS wants.
    const signature = await webcrypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      issuer.signingKey,
      Buffer.from(signed),
    );
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ token: `${signed}.${b64url(new Uint8Array(signature))}`, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return {
    realm,
    bundle,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("the registry client against docker-registry with token authentication", () => {
  let registry: DockerRegistry;
  let tokens: Awaited<ReturnType<typeof startTokenService>>;
  let baseUrl: string;

  beforeAll(async () => {
    const dir = makeTempDir("registry-token-");
    tokens = await startTokenService(dir);
    registry = await dockerRegistry();
    baseUrl = registry.url;
    await registry.start([
      "auth:",
      "  token:",
      `    realm: ${tokens.realm}`,
      `    service: ${SERVICE}`,
      `    issuer: ${ISSUER}`,
      `    rootcertbundle: ${tokens.bundle}`,
    ]);
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.close();
    await cleanupTempDirs();
  });

  it("fetches a token for each scope the registry challenges with, then pushes, reads and deletes", async () => {
    // The registry really wants a token.
    const anonymous = await fetch(`${baseUrl}/v2/artifacts/yum/tok/packages/tags/list`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);

    const client = new RegistryClient({ baseUrl, username: USER, password: PASSWORD });
    try {
      const repo = "artifacts/yum/tok/packages";
      const layer = Buffer.from(`an rpm, pretend ${randomBytes(4).toString("hex")}`);
      expect(
        await client.pushBlob(repo, { digest: sha256(layer), size: layer.length, source: () => layer }),
      ).toBe(true);
      const empty = Buffer.alloc(0);
      await client.pushBlob(repo, { digest: sha256(empty), size: 0, source: () => empty });
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: {
            mediaType: "application/vnd.ciq.rpm.package.v1.config+json",
            digest: sha256(empty),
            size: 0,
          },
          layers: [
            {
              mediaType: "application/vnd.ciq.rpm.package.v1.rpm",
              digest: sha256(layer),
              size: layer.length,
              annotations: { "org.opencontainers.image.title": "tok-1-1.noarch.rpm" },
            },
          ],
        }),
      );
      const pushed = await client.putManifest(repo, "t1", manifest);
      expect(pushed.digest).toBe(sha256(manifest));
      expect(await client.listTags(repo)).toEqual(["t1"]);
      expect((await client.getManifest(repo, "t1")).bytes.equals(manifest)).toBe(true);
      expect(await text(await client.openBlob(repo, { digest: sha256(layer), size: layer.length }))).toBe(
        layer.toString(),
      );
      await client.deleteManifest(repo, pushed.digest);
      expect(await client.listTags(repo)).toEqual([]);
    } finally {
      client.close();
    }
    // Every token request carried the credentials and asked for this repository only.
    expect(tokens.requests.length).toBeGreaterThan(0);
    expect(tokens.requests.every((r) => r.authorized)).toBe(true);
    expect(tokens.requests.flatMap((r) => r.scope)).toContainEqual(
      expect.stringMatching(/^repository:artifacts\/yum\/tok\/packages:.*push/),
    );
  });

  it("reports refused credentials as REGISTRY_REJECTED, naming the token service", async () => {
    const client = new RegistryClient({ baseUrl, username: USER, password: "wrong" });
    try {
      const err = await client.listTags("artifacts/yum/tok/packages").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isYumError(err, "REGISTRY_REJECTED")).toBe(true);
      expect((err as Error).message).toMatch(
        /token service http:\/\/127\.0\.0\.1:\d+\/token answered HTTP 401/,
      );
    } finally {
      client.close();
    }
  });
});
