import { describe, expect, it } from "vitest";
import {
  artifactLayer,
  EXTRA_LAYER_MEDIATYPE_PREFIX,
  PACKAGE_LAYER_MEDIATYPE,
  parseOciManifest,
} from "./oci-manifest.js";

const digest = `sha256:${"ab".repeat(32)}`;
const manifest = (layers: unknown[]) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: "application/vnd.ciq.rpm.package.v1.config+json", digest, size: 0 },
      layers,
    }),
  );
const layer = (mediaType: string, title?: string) => ({
  mediaType,
  digest,
  size: 3,
  ...(title === undefined ? {} : { annotations: { "org.opencontainers.image.title": title } }),
});

describe("parseOciManifest", () => {
  it("refuses an empty payload, non-JSON and a manifest without layers", () => {
    expect(() => parseOciManifest(new Uint8Array())).toThrow(/no manifest/);
    expect(() => parseOciManifest(Buffer.from("{"))).toThrow(/not JSON/);
    expect(() => parseOciManifest(Buffer.from("{}"))).toThrow(/no config or no layers/);
  });
});

describe("artifactLayer", () => {
  it("takes the one layer of the mediatype, with its title", () => {
    const m = parseOciManifest(manifest([layer(PACKAGE_LAYER_MEDIATYPE, "a-1-1.noarch.rpm")]));
    expect(artifactLayer(m, PACKAGE_LAYER_MEDIATYPE)).toMatchObject({ digest, title: "a-1-1.noarch.rpm" });
  });

  it("matches extra metadata layers by prefix", () => {
    const m = parseOciManifest(manifest([layer(`${EXTRA_LAYER_MEDIATYPE_PREFIX}updateinfo`, "u.xml.gz")]));
    expect(artifactLayer(m, EXTRA_LAYER_MEDIATYPE_PREFIX).mediaType).toBe(
      `${EXTRA_LAYER_MEDIATYPE_PREFIX}updateinfo`,
    );
  });

  it("refuses zero or several layers, a missing title and a bad digest", () => {
    expect(() => artifactLayer(parseOciManifest(manifest([])), PACKAGE_LAYER_MEDIATYPE)).toThrow(/found 0/);
    const two = manifest([layer(PACKAGE_LAYER_MEDIATYPE, "a"), layer(PACKAGE_LAYER_MEDIATYPE, "b")]);
    expect(() => artifactLayer(parseOciManifest(two), PACKAGE_LAYER_MEDIATYPE)).toThrow(/found 2/);
    const untitled = manifest([layer(PACKAGE_LAYER_MEDIATYPE)]);
    expect(() => artifactLayer(parseOciManifest(untitled), PACKAGE_LAYER_MEDIATYPE)).toThrow(/no title/);
    const bad = manifest([{ ...layer(PACKAGE_LAYER_MEDIATYPE, "a"), digest: "md5:00" }]);
    expect(() => artifactLayer(parseOciManifest(bad), PACKAGE_LAYER_MEDIATYPE)).toThrow(/not a sha256/);
  });
});
