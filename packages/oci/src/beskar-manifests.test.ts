import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  EMPTY_BLOB_DIGEST,
  extraMetadataManifest,
  manifestDigest,
  packageManifest,
  packageManifestTag,
  repomdManifest,
  serializeManifest,
  sha256Digest,
} from "./beskar-manifests.js";
import { artifactLayer, PACKAGE_LAYER_MEDIATYPE, parseOciManifest } from "./oci-manifest.js";

const digest = (c: string) => `sha256:${c.repeat(64)}`;

describe("packageManifest", () => {
  it("builds Beskar's package manifest: empty config, one titled rpm layer with its platform", () => {
    const manifest = packageManifest({
      digest: digest("a"),
      size: 8086,
      fileName: "tinypkg-1.0-1.noarch.rpm",
      arch: "noarch",
    });
    expect(JSON.parse(serializeManifest(manifest).toString())).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.ciq.rpm.package.v1.config+json",
        digest: EMPTY_BLOB_DIGEST,
        size: 0,
      },
      layers: [
        {
          mediaType: "application/vnd.ciq.rpm.package.v1.rpm",
          digest: digest("a"),
          size: 8086,
          annotations: { "org.opencontainers.image.title": "tinypkg-1.0-1.noarch.rpm" },
          platform: { architecture: "noarch", os: "linux" },
        },
      ],
    });
    expect(EMPTY_BLOB_DIGEST).toBe(sha256Digest(new Uint8Array()));
    const layer = artifactLayer(parseOciManifest(serializeManifest(manifest)), PACKAGE_LAYER_MEDIATYPE);
    expect(layer.title).toBe("tinypkg-1.0-1.noarch.rpm");
  });

  it("serializes deterministically: same manifest, same bytes and digest, whatever the key order", () => {
    const a = packageManifest({ digest: digest("b"), size: 1, fileName: "x-1-1.noarch.rpm", arch: "noarch" });
    const reordered = JSON.parse(
      JSON.stringify({ layers: a.layers, config: a.config, mediaType: a.mediaType, schemaVersion: 2 }),
    );
    expect(serializeManifest(reordered).equals(serializeManifest(a))).toBe(true);
    expect(manifestDigest(a)).toBe(sha256Digest(serializeManifest(a)));
    expect(manifestDigest(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
    const other = packageManifest({
      digest: digest("c"),
      size: 1,
      fileName: "x-1-1.noarch.rpm",
      arch: "noarch",
    });
    expect(manifestDigest(other)).not.toBe(manifestDigest(a));
  });

  it("tags a package with the lowercase hex MD5 of its file name", () => {
    const name = "tinypkg-1.0-1.noarch.rpm";
    expect(packageManifestTag(name)).toBe(createHash("md5").update(name).digest("hex"));
  });
});

describe("repomdManifest", () => {
  it("lists repomd.xml untitled, its signature, then one titled layer per data file", () => {
    const manifest = repomdManifest(
      { digest: digest("1"), size: 10 },
      [{ dataType: "primary", fileName: `${"2".repeat(64)}-primary.xml.gz`, digest: digest("2"), size: 20 }],
      { digest: digest("3"), size: 30 },
    );
    expect(manifest.config).toEqual({
      mediaType: "application/vnd.ciq.rpm.repomd.v1.config+json",
      digest: EMPTY_BLOB_DIGEST,
      size: 0,
    });
    expect(manifest.layers).toEqual([
      { mediaType: "application/vnd.ciq.rpm.repomd.v1.xml", digest: digest("1"), size: 10 },
      { mediaType: "application/vnd.ciq.rpm.repomd.v1.xml.asc", digest: digest("3"), size: 30 },
      {
        mediaType: "application/vnd.ciq.rpm.repomd.extra.v1.primary",
        digest: digest("2"),
        size: 20,
        annotations: { "org.opencontainers.image.title": `${"2".repeat(64)}-primary.xml.gz` },
      },
    ]);
  });
});

describe("extraMetadataManifest", () => {
  it("uses the extra metadata config and one layer of the data type", () => {
    const manifest = extraMetadataManifest({
      dataType: "updateinfo",
      fileName: "updateinfo.xml.gz",
      digest: digest("4"),
      size: 4,
    });
    expect(manifest.config.mediaType).toBe("application/vnd.ciq.rpm.repomd.extra.v1.config+xml");
    expect(manifest.layers).toEqual([
      {
        mediaType: "application/vnd.ciq.rpm.repomd.extra.v1.updateinfo",
        digest: digest("4"),
        size: 4,
        annotations: { "org.opencontainers.image.title": "updateinfo.xml.gz" },
      },
    ]);
  });
});
