import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { type Compression, inspectExtraFile, sniffCompression } from "./extra-metadata.js";

const dir = mkdtempSync(join(tmpdir(), "byextra-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const comps = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">
<comps><group><id>g</id><name>G</name></group></comps>
`;
const bomb = `<?xml version="1.0"?>
<!DOCTYPE updates [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<updates><update>&b;</update></updates>`;

let n = 0;
/** Writes `text` compressed with the real tool (as a user's modifyrepo_c run would) and returns its path. */
function file(text: string | Buffer, compression: Compression | undefined): string {
  const path = join(dir, `f${n++}`);
  writeFileSync(path, text);
  if (compression === undefined) return path;
  if (compression === "gz") {
    writeFileSync(path, gzipSync(Buffer.from(text)));
    return path;
  }
  const tool = { xz: "xz", bz2: "bzip2", zst: "zstd" }[compression];
  execFileSync(tool, ["-q", "-f", path]);
  return `${path}.${compression}`;
}

const inspect = async (path: string, name: string, dataType: string, maxOpenBytes?: number) =>
  inspectExtraFile(path, name, await sniffCompression(path), {
    dataType,
    ...(maxOpenBytes ? { maxOpenBytes } : {}),
  });

const compressions = [undefined, "gz", "xz", "bz2", "zst"] as const;

describe("inspectExtraFile", () => {
  it.each(compressions)("refuses an entity bomb in updateinfo (%s)", async (compression) => {
    await expect(inspect(file(bomb, compression), "updateinfo.xml", "updateinfo")).rejects.toThrow(
      /DOCTYPE declarations are not accepted with an internal subset/,
    );
  });

  it.each(compressions)("refuses XML by content, whatever its name (%s)", async (compression) => {
    await expect(inspect(file(bomb, compression), "updateinfo.txt", "custom")).rejects.toThrow(
      /^updateinfo\.txt: line 2: DOCTYPE declarations are not accepted/,
    );
    const utf8Bom = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(`\n  ${bomb.replace(/^<\?xml[^>]*>\n/, "")}`),
    ]);
    await expect(inspect(file(utf8Bom, compression), "x.bin", "custom")).rejects.toThrow(/DOCTYPE/);
  });

  it("refuses UTF-16 XML rather than letting it past the rule", async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(bomb, "utf16le")]);
    await expect(inspect(file(utf16, "xz"), "u.xml", "custom")).rejects.toThrow(/REPODATA_INVALID|not/);
  });

  it.each(compressions)(
    "accepts a comps DOCTYPE with the plain file's open-checksum (%s)",
    async (compression) => {
      const plain = Buffer.from(comps);
      const open = await inspect(file(comps, compression), "comps.xml", "group");
      expect(open).toEqual({
        openDigest: createHash("sha256").update(plain).digest("hex"),
        openSize: plain.length,
      });
    },
  );

  it("requires XML for data types that are XML", async () => {
    await expect(inspect(file("hello", "xz"), "updateinfo.xml", "updateinfo")).rejects.toThrow(
      /updateinfo metadata must be XML/,
    );
  });

  it("accepts modules.yaml and refuses modules that are not UTF-8 text", async () => {
    const yaml =
      "---\ndocument: modulemd\nversion: 2\ndata:\n  name: nodejs\n  summary: Javascript runtime — ü\n...\n";
    const open = await inspect(file(yaml, "gz"), "modules.yaml.gz", "modules");
    expect(open.openSize).toBe(Buffer.byteLength(yaml));
    await expect(
      inspect(file(Buffer.from([0x2d, 0xff, 0xfe, 0x80]), "gz"), "m.yaml", "modules"),
    ).rejects.toThrow(/modules metadata must be UTF-8 text/);
  });

  it("keeps the decompression bomb bound for every compression", async () => {
    const big = `<a>${"x".repeat(100_000)}</a>`;
    for (const compression of compressions) {
      await expect(inspect(file(big, compression), "a.xml", "custom", 50_000)).rejects.toThrow(
        /more than 50000 bytes once decompressed/,
      );
    }
  });

  it("parses as XML content that shows no significant byte in its first MiB, without holding it", async () => {
    const path = join(dir, "zeros.gz");
    writeFileSync(path, gzipSync(Buffer.alloc(64 * 1024 ** 2)));
    await expect(inspect(path, "blob.bin", "custom")).rejects.toThrow(/^blob\.bin: not well-formed XML/);
    const spaces = join(dir, "spaces.gz");
    writeFileSync(
      spaces,
      gzipSync(
        Buffer.concat([Buffer.alloc(2 * 1024 ** 2, 0x20), Buffer.from(bomb.replace(/^<\?xml[^>]*>\n/, ""))]),
      ),
    );
    await expect(inspect(spaces, "blob.bin", "custom")).rejects.toThrow(
      /DOCTYPE declarations are not accepted/,
    );
    // Whitespace alone, short: not XML for a type that may be anything.
    expect((await inspect(file("  \n", "gz"), "blank", "custom")).openSize).toBe(3);
  });

  it("names a corrupt compressed file", async () => {
    const path = join(dir, "corrupt");
    writeFileSync(path, Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(40)]));
    await expect(inspect(path, "u.xml.xz", "updateinfo")).rejects.toThrow(/^u\.xml\.xz: not a valid xz file/);
  });
});
