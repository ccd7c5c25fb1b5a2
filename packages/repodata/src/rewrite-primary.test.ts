import { readdirSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { rewriteLocationTag } from "./location-tag.js";
import { type PackageTransform, type RewritePrimaryOptions, rewritePrimary } from "./rewrite-primary.js";
import { readUpstreamPrimary } from "./upstream-primary-reader.js";

const rockyRepodata = new URL("../../../test/fixtures/rocky-8.3-ha-debug/repodata/", import.meta.url)
  .pathname;
const rockyPrimary = gunzipSync(
  readFileSync(rockyRepodata + readdirSync(rockyRepodata).find((f) => f.endsWith("-primary.xml.gz"))!),
).toString("utf8");

/** Every other package of Rocky's primary.xml under an `xml:base`. */
const withBases = (() => {
  let n = 0;
  return rockyPrimary.replace(/<location href="([^"]+)"\/>/g, (tag, href) =>
    n++ % 2 === 0 ? `<location href="${href}" xml:base="https://cdn.example/tree/"/>` : tag,
  );
})();

function chunked(text: string, size: number): Buffer[] {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
}

async function rewrite(
  input: Iterable<Buffer | string>,
  transform: PackageTransform,
  options?: RewritePrimaryOptions,
) {
  const { output, summary } = rewritePrimary(input, transform, options);
  let text = "";
  for await (const part of output) text += part;
  return { text, summary };
}

const dropBase: PackageTransform = (p) => (p.base === undefined ? "keep" : { href: p.href });

describe("rewritePrimary", () => {
  it("gives upstream's bytes back when every package is kept, whatever the chunk boundaries", async () => {
    for (const size of [1, 7, 100, 4096, 1 << 20]) {
      const { text, summary } = await rewrite(chunked(rockyPrimary, size), () => "keep");
      expect(text === rockyPrimary, `chunks of ${size}`).toBe(true);
      expect(summary).toEqual({ declared: 27, kept: 27, dropped: 0, rewritten: 0 });
    }
  });

  it("drops xml:base and changes nothing else", async () => {
    expect(withBases).not.toBe(rockyPrimary);
    for (const size of [3, 512, 65536]) {
      const { text, summary } = await rewrite(chunked(withBases, size), dropBase);
      expect(text === rockyPrimary, `chunks of ${size}`).toBe(true);
      expect(summary).toEqual({ declared: 27, kept: 27, dropped: 0, rewritten: 14 });
    }
  });

  it("drops packages with the whitespace before them, and writes the new count on a second pass", async () => {
    const drop: PackageTransform = (p) => (p.name.startsWith("libknet") ? "drop" : "keep");
    const first = await rewrite(chunked(rockyPrimary, 1000), drop);
    expect(first.summary).toMatchObject({ declared: 27, kept: 18, dropped: 9 });
    const second = await rewrite(chunked(rockyPrimary, 333), drop, { packages: first.summary.kept });
    const expected = rockyPrimary
      .replace(/\n<package type="rpm">\n {2}<name>libknet[\s\S]*?<\/package>/g, "")
      .replace('packages="27"', 'packages="18"');
    expect(second.text === expected).toBe(true);
    const names: string[] = [];
    for await (const p of readUpstreamPrimary([second.text])) names.push(p.name);
    expect(names).toHaveLength(18);
    expect(names.some((n) => n.startsWith("libknet"))).toBe(false);
  });

  it("refuses an internal DTD subset (entity bombs) before any package", async () => {
    const bomb = rockyPrimary.replace(
      "<metadata",
      '<!DOCTYPE metadata [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>\n<metadata',
    );
    await expect(rewrite([bomb], dropBase)).rejects.toMatchObject({
      code: "REPODATA_INVALID",
      message: expect.stringMatching(/internal subset/),
    });
  });

  it("refuses what no reader accepts: not UTF-8, two locations, a cut document, a package without href", async () => {
    const cases: [string | Buffer, RegExp][] = [
      [
        Buffer.concat([
          Buffer.from(rockyPrimary.slice(0, 500)),
          Buffer.from([0xff, 0xfe]),
          Buffer.from(rockyPrimary.slice(500)),
        ]),
        /not UTF-8/,
      ],
      [rockyPrimary.replace("<format>", '<location href="x.rpm"/><format>'), /more than one <location>/],
      [rockyPrimary.slice(0, 20_000), /ends early|unclosed|end/i],
      [rockyPrimary.replace(/<location href="[^"]+"\/>/, "<location/>"), /missing <location href>/],
      [
        rockyPrimary.replace("<metadata", "<otherdata").replace("</metadata>", "</otherdata>"),
        /<metadata> expected/,
      ],
    ];
    for (const [input, message] of cases) {
      await expect(rewrite([input as Buffer], dropBase)).rejects.toMatchObject({
        code: "REPODATA_INVALID",
        message: expect.stringMatching(message),
      });
    }
  });

  it("throws an error of ours from the transform as it is", async () => {
    const { YumError } = await import("@beskar-yum/errors");
    const refuse: PackageTransform = () => {
      throw new YumError("UPSTREAM_BAD_HREF", "no");
    };
    await expect(rewrite([withBases], refuse)).rejects.toMatchObject({ code: "UPSTREAM_BAD_HREF" });
  });
});

describe("rewriteLocationTag", () => {
  it("changes the one attribute and keeps quotes, order and spacing", () => {
    expect(
      rewriteLocationTag(`<location  xml:base='https://a/' href="P/x.rpm" />`, { href: "P/x.rpm" }),
    ).toBe(`<location href="P/x.rpm" />`);
    expect(rewriteLocationTag(`<location href='a.rpm'/>`, { href: "b&c.rpm", base: "https://h/it's/" })).toBe(
      `<location href='b&amp;c.rpm' xml:base="https://h/it's/"/>`,
    );
    expect(rewriteLocationTag(`<location xml:base='x' href='a.rpm'/>`, { href: "a.rpm", base: "it's" })).toBe(
      `<location xml:base='it&apos;s' href='a.rpm'/>`,
    );
  });
});
