import { describe, expect, it } from "vitest";
import {
  blobDigestFromManifests,
  findLayerDigest,
  type OciLayer,
  splitTaggedReference,
} from "./oci-blob-digest.js";

const hex = (c: string) => c.repeat(64);
const layers: OciLayer[] = [
  { mediaType: "application/x-a", digest: `sha256:${hex("1")}`, annotations: { title: "a.xml" } },
  { mediaType: "application/x-b", digest: `sha256:${hex("2")}` },
  { mediaType: "application/x-a", digest: `sha256:${hex("3")}`, annotations: { title: "k=v" } },
];

describe("findLayerDigest", () => {
  it("gives the hex digest of the first layer with the mediatype", () => {
    expect(findLayerDigest(layers, "mediatype", "application/x-a")).toBe(hex("1"));
    expect(findLayerDigest(layers, "mediatype", "application/x-c")).toBe("");
  });

  it("splits the annotation at its first =", () => {
    expect(findLayerDigest(layers, "annotation", "title=a.xml")).toBe(hex("1"));
    expect(findLayerDigest(layers, "annotation", "title=k=v")).toBe(hex("3"));
    expect(findLayerDigest(layers, "annotation", "title=b.xml")).toBe("");
  });

  it("reads a missing annotation as empty, as Go's map lookup does", () => {
    expect(findLayerDigest(layers, "annotation", "title=")).toBe(hex("2"));
  });

  it("answers an unknown search kind with an empty digest and refuses an annotation without =", () => {
    expect(findLayerDigest(layers, "platform", "linux")).toBe("");
    expect(() => findLayerDigest(layers, "annotation", "title")).toThrow("is not key=value");
  });
});

describe("splitTaggedReference", () => {
  it("splits at the last colon", () => {
    expect(splitTaggedReference("artifacts/yum/x/repodata:repomdxml")).toEqual({
      repository: "artifacts/yum/x/repodata",
      tag: "repomdxml",
    });
    expect(() => splitTaggedReference("artifacts/yum/x")).toThrow("has no tag");
  });
});

describe("blobDigestFromManifests", () => {
  it("looks the tag up and searches its layers; an unknown tag gives an empty digest", async () => {
    const asked: string[] = [];
    const blobDigest = blobDigestFromManifests(async (repository, tag) => {
      asked.push(`${repository}:${tag}`);
      return tag === "t" ? layers : undefined;
    });
    expect(await blobDigest("r/packages:t", "mediatype", "application/x-b")).toBe(hex("2"));
    expect(await blobDigest("r/packages:u", "mediatype", "application/x-b")).toBe("");
    expect(asked).toEqual(["r/packages:t", "r/packages:u"]);
  });
});
