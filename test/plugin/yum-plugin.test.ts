import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { evaluateRoute, loadRouteTable } from "@beskar-yum/router";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GoPeer } from "../gossip/go-programs.js";
import { fetchPrimary } from "../harness/repodata-client.js";
import type { Stack } from "../harness/stack.js";
import { makeDnf } from "../support/dnf.js";
import { eventually } from "../support/eventually.js";
import { stopAll } from "../support/processes.js";
import { cleanupTempDirs, makeTempDir } from "../support/tmp.js";
import {
  decodeReply,
  eventOf,
  PACKAGE_CONFIG,
  packageManifest,
  adminThroughBeskar as requestThroughBeskar,
} from "./beskar-requests.js";
import { startBeskarWithPlugin } from "./beskar-stand-in.js";

// beskar-yum in plugin mode (API + worker processes, Redis) against Go playing Beskar: registration
// through /info, a package PUT event whose RPM layer we fetch from Beskar's registry (stand-in) over
// mTLS, the package published and installable with dnf from the same port, then a DELETE event.

const RPM = new URL(
  "../fixtures/rocky-8.3-ha-debug/Packages/booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm",
  import.meta.url,
).pathname;
const EXTRA_CONFIG = "application/vnd.ciq.rpm.repomd.extra.v1.config+xml";
const EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

let go: GoPeer;
let stack: Stack;
let blobs: string;
// Where clients reach Beskar: Beskar proxies with the plugin node's own host:port as Host, so the
// .repo files name Beskar only when told (README "Beskar plugin mode").
const BESKAR_URL = "http://beskar.example:5100";

beforeAll(async () => {
  blobs = makeTempDir("registry-blobs-");
  ({ go, stack } = await startBeskarWithPlugin("yum-plugin", ["-registry-blobs", blobs], {
    BESKARYUM_HTTP_PUBLIC_URL: BESKAR_URL,
  }));
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await go?.stop();
  await stopAll();
  await cleanupTempDirs();
});

/** Every 100 ms for up to 15 s; a timeout shows the API's output. */
const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
  eventually(what, probe, { timeoutMs: 15_000, intervalMs: 100, context: () => stack.api.output() });

/** An admin API call as Beskar forwards it to the plugin node. */
const adminThroughBeskar = (node: string, method: string, path: string, body: unknown) =>
  requestThroughBeskar(go, node, method, path, body);

/** The registered plugin node, and `repository` created on it through Beskar (200 expected). */
async function createThroughBeskar(repository: string, properties: Record<string, unknown> = {}) {
  const registered = await go.waitForEvent((e) => e.event === "pluginRegistered");
  const node = String(registered.name);
  const created = await adminThroughBeskar(node, "POST", "/repository", { repository, properties });
  expect(created.status, Buffer.from(created.body ?? "", "base64").toString()).toBe(200);
  return node;
}

describe("beskar-yum as Beskar's yum plugin", () => {
  it("is registered, takes a package from a PUT event, serves it to dnf, removes it on DELETE", async () => {
    const registered = await go.waitForEvent(
      (e) => e.event === "pluginRegistered" || e.event === "pluginRegisterError",
    );
    expect(registered).toMatchObject({
      event: "pluginRegistered",
      info: {
        name: "yum",
        version: "0.1.0",
        mediatypes: [PACKAGE_CONFIG, "application/vnd.ciq.rpm.repomd.extra.v1.config+xml"],
        hasRouter: true,
      },
    });
    expect(String(registered.info && (registered.info as { rego: string }).rego)).toMatch(/^package router/m);
    const node = String(registered.name);
    const port = Number(String(registered.hostport).split(":")[1]);
    expect(stack.url).toBe(`http://127.0.0.1:${port}`);

    // The admin API is TLS only on the plugin port; over mTLS, Beskar's certificate is the credential.
    const plain = await fetch(`${stack.url}/artifacts/yum/api/v1/repository/package:list`, {
      headers: { authorization: `Bearer ${stack.token}` },
    });
    expect(plain.status).toBe(401);
    const repository = "artifacts/yum/plugin-test";
    const admin = (method: string, path: string, body: unknown) =>
      adminThroughBeskar(node, method, path, body);

    // PUT event: the RPM layer is fetched from Beskar's registry with our plugin certificate.
    const rpm = readFileSync(RPM);
    const title = basename(RPM);
    const layerHex = sha256(rpm);
    copyFileSync(RPM, join(blobs, layerHex));
    const manifest = packageManifest(rpm, title);
    const event = eventOf(node, `${repository}/packages`, manifest, PACKAGE_CONFIG);
    expect(await go.control("/event", { ...event, action: 1, origin: 1 })).toMatchObject({ status: 200 });
    const blobRequest = await go.waitForEvent(
      (e) => e.event === "registryRequest" && String(e.path).includes("/blobs/"),
    );
    expect(blobRequest).toMatchObject({
      method: "GET",
      path: `/v2/${repository}/packages/blobs/sha256:${layerHex}`,
      plugin: true,
    });
    const published = await until("the package in the published repodata", async () => {
      const primary = await fetchPrimary(stack.repoUrl(repository));
      return primary.packages.length === 1 ? primary.packages : undefined;
    });
    expect(published[0]).toMatchObject({
      name: "booth-debugsource",
      pkgid: layerHex,
      href: `Packages/b/${title}`,
    });
    const listed = await admin("GET", "/repository/package:list", { repository });
    expect(listed.status).toBe(200);
    expect(decodeReply(listed).repository_packages).toEqual([
      expect.objectContaining({
        id: layerHex,
        name: "booth-debugsource",
        tag: createHash("md5").update(title).digest("hex"),
      }),
    ]);

    const dnf = makeDnf(stack.repoUrl(repository));
    await dnf.install(["booth-debugsource"]);
    expect(await dnf.installed()).toContain("booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64");

    // DELETE event (payload: the manifest as it was before deletion) → gone from the repodata.
    expect(await go.control("/event", { ...event, action: 2, origin: 1 })).toMatchObject({ status: 200 });
    await until("the package removed from the repodata", async () => {
      const primary = await fetchPrimary(stack.repoUrl(repository));
      return primary.packages.length === 0 ? true : undefined;
    });
    const logs = decodeReply(await admin("GET", "/repository/logs", { repository }));
    expect((logs.logs ?? []).filter((l: { level: string }) => l.level === "ERROR")).toEqual([]);
  }, 40_000);

  it("takes extra metadata from a PUT event into repomd.xml and drops it on DELETE", async () => {
    const repository = "artifacts/yum/plugin-extra";
    const node = await createThroughBeskar(repository);
    const xml = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<updates></updates>\n');
    const hex = sha256(xml);
    writeFileSync(join(blobs, hex), xml);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: EXTRA_CONFIG, digest: EMPTY_SHA256, size: 0 },
        layers: [
          {
            mediaType: "application/vnd.ciq.rpm.repomd.extra.v1.updateinfo",
            digest: `sha256:${hex}`,
            size: xml.length,
            annotations: { "org.opencontainers.image.title": "updateinfo.xml" },
          },
        ],
      }),
    );
    const event = { ...eventOf(node, `${repository}/repodata`, manifest, EXTRA_CONFIG), origin: 1 };
    const repomd = async () => {
      const res = await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml`);
      return res.status === 200 ? res.text() : undefined;
    };
    expect(await go.control("/event", { ...event, action: 1 })).toMatchObject({ status: 200 });
    const withExtra = await until("updateinfo in repomd.xml", async () => {
      const text = await repomd();
      return text?.includes('<data type="updateinfo">') ? text : undefined;
    });
    expect(withExtra).toContain(`${hex}-updateinfo.xml`);
    expect(await go.control("/event", { ...event, action: 2 })).toMatchObject({ status: 200 });
    await until("updateinfo gone from repomd.xml", async () => {
      const text = await repomd();
      return text !== undefined && !text.includes('<data type="updateinfo">') ? true : undefined;
    });
  }, 20_000);

  it("logs a failed PUT in the repository log and deletes its manifest from Beskar, as Beskar", async () => {
    const repository = "artifacts/yum/plugin-failures";
    const node = await createThroughBeskar(repository);
    // A layer the registry does not have.
    const missing = Buffer.from("not in the registry");
    const manifest = packageManifest(missing, "missing-1.0-1.noarch.rpm");
    const event = eventOf(node, `${repository}/packages`, manifest, PACKAGE_CONFIG);
    const { digest } = event;
    const reply = await go.control("/event", { ...event, action: 1, origin: 1 });
    expect(reply.status).toBe(200);
    const deleted = await go.waitForEvent(
      (e) => e.event === "registryRequest" && e.method === "DELETE" && String(e.path).includes(repository),
    );
    expect(deleted).toMatchObject({ path: `/v2/${repository}/packages/manifests/${digest}`, plugin: true });
    const logs = await until("the error in the repository log", async () => {
      const r = await go.control("/request", {
        node,
        path: "/artifacts/yum/api/v1/repository/logs",
        contentType: "application/json",
        body: Buffer.from(JSON.stringify({ repository })).toString("base64"),
      });
      const list = JSON.parse(Buffer.from(r.body ?? "", "base64").toString("utf8")).logs as
        | { level: string; message: string }[]
        | null;
      // The repository's creation logged its first (empty) publish: the error is what is waited for.
      const errors = (list ?? []).filter((l) => l.level === "ERROR");
      return errors.length ? errors : undefined;
    });
    expect(logs).toEqual([
      expect.objectContaining({ level: "ERROR", message: expect.stringMatching(/HTTP 404/) }),
    ]);
  }, 20_000);

  it("refuses events that did not come from the plugin for a mirror repository, as Beskar", async () => {
    const repository = "artifacts/yum/plugin-mirror";
    const node = await createThroughBeskar(repository, {
      mirror: true,
      mirror_urls: ["http://127.0.0.1:1/"],
    });
    const rpm = readFileSync(RPM);
    const manifest = packageManifest(rpm, basename(RPM));
    const event = { ...eventOf(node, `${repository}/packages`, manifest, PACKAGE_CONFIG), action: 1 };
    expect(await go.control("/event", { ...event, origin: 1 })).toMatchObject({ status: 500 });
    await stack.api.waitFor(/operation not supported for repository configured as mirror/, 5000);
    // Its own echo (origin PLUGIN) is accepted.
    expect(await go.control("/event", { ...event, origin: 2 })).toMatchObject({ status: 200 });
  }, 20_000);

  it("routes .repo files and keys to the repository's node, which serves them as Beskar proxies them", async () => {
    const registered = await go.waitForEvent((e) => e.event === "pluginRegistered");
    const table = loadRouteTable(String((registered.info as { data: string }).data));
    const repository = "artifacts/yum/plugin-files";
    const gpgKey = readFileSync(
      new URL("../fixtures/rocky-8.3-ha-debug/RPM-GPG-KEY-rockyofficial", import.meta.url),
      "utf8",
    );
    const node = await createThroughBeskar(repository, { gpg_key: gpgKey });
    const paths = {
      repoFile: `/${repository}/plugin-files.repo`,
      repomdKey: `/${repository}/repo/repodata/repomd.xml.key`,
      gpgKey: `/${repository}/RPM-GPG-KEY`,
    };
    // What Beskar decides with the route table we reported in /info: to this repository's node.
    const noRegistry = { blobDigest: () => "", requestBody: () => null };
    for (const path of Object.values(paths)) {
      for (const method of ["GET", "HEAD"]) {
        expect([path, method, await evaluateRoute(table, { path, method }, noRegistry)]).toEqual([
          path,
          method,
          { repository, redirect_url: "", found: true },
        ]);
      }
    }
    // Then the request as Beskar's proxy sends it: over mTLS, with the node's host:port as Host.
    const throughBeskar = async (path: string) => {
      const reply = await go.control("/request", { node, method: "GET", path });
      return { status: reply.status, text: Buffer.from(reply.body ?? "", "base64").toString("utf8") };
    };
    await until("the first publish", async () =>
      (await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml`)).ok ? true : undefined,
    );
    const repoFile = await throughBeskar(paths.repoFile);
    expect(repoFile).toMatchObject({ status: 200 });
    expect(repoFile.text).toContain(`baseurl=${BESKAR_URL}/${repository}/repo/`);
    expect(repoFile.text).toContain("repo_gpgcheck=1");
    expect(repoFile.text).toContain(`${BESKAR_URL}${paths.repomdKey}`);
    const repomdKey = await throughBeskar(paths.repomdKey);
    expect(repomdKey.status).toBe(200);
    expect(repomdKey.text).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    // The same key that signs what Beskar serves (the .asc travels in the repodata manifest).
    expect(repomdKey.text).toBe(await (await fetch(`${stack.url}${paths.repomdKey}`)).text());
    expect(await throughBeskar(paths.gpgKey)).toEqual({ status: 200, text: gpgKey });
    // The dashboard is served on the plugin's own port (Beskar only proxies /artifacts/<plugin>/).
    expect((await fetch(`${stack.url}/ui/`)).status).toBe(200);
  }, 30_000);

  it("leaves the cluster on SIGTERM and exits 0", async () => {
    const registered = await go.waitForEvent((e) => e.event === "pluginRegistered");
    expect(await stack.api.stop("SIGTERM", 10_000)).toEqual({ code: 0, signal: null });
    await go.waitForEvent((e) => e.event === "leave" && e.name === registered.name, 3000);
    await go.waitForEvent((e) => e.event === "pluginUnregistered" && e.name === registered.name, 1000);
  }, 20_000);
});
