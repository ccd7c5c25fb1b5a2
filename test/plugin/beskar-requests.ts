import { createHash } from "node:crypto";
import type { ControlReply, GoPeer } from "../gossip/go-programs.js";

export const PACKAGE_CONFIG = "application/vnd.ciq.rpm.package.v1.config+json";
const EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** The fields of Beskar's event for `manifest` pushed to `ociRepository` (action and origin apart). */
export function eventOf(node: string, ociRepository: string, manifest: Buffer, mediatype: string) {
  return {
    node,
    repository: ociRepository,
    digest: `sha256:${sha256(manifest)}`,
    mediatype,
    payload: manifest.toString("base64"),
  };
}

/** A package manifest as `beskarctl yum push` makes it (BESKAR.md §3.1). */
export function packageManifest(rpm: Buffer, title: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: PACKAGE_CONFIG, digest: EMPTY_SHA256, size: 0 },
      layers: [
        {
          mediaType: "application/vnd.ciq.rpm.package.v1.rpm",
          digest: `sha256:${sha256(rpm)}`,
          size: rpm.length,
          annotations: { "org.opencontainers.image.title": title },
          platform: { architecture: "x86_64", os: "linux" },
        },
      ],
    }),
  );
}

/**
 * An admin API call as Beskar forwards it to the plugin node `node`: over mTLS, with a JSON body. With
 * `node` "", to the node Beskar's router picks: the rendezvous hash of the body's `repository` (the
 * route of `api/v1/`) over the plugin nodes present; the reply names it.
 */
export function adminThroughBeskar(
  go: GoPeer,
  node: string,
  method: string,
  path: string,
  body: unknown,
): Promise<ControlReply> {
  const route = (body as { repository?: unknown } | undefined)?.repository;
  return go.control("/request", {
    node,
    ...(node === "" && typeof route === "string" ? { route } : {}),
    method,
    path: `/artifacts/yum/api/v1${path}`,
    contentType: "application/json",
    body: Buffer.from(JSON.stringify(body)).toString("base64"),
  });
}

/** The JSON body of a control reply. */
export function decodeReply(reply: ControlReply): any {
  return JSON.parse(Buffer.from(reply.body ?? "", "base64").toString("utf8"));
}
