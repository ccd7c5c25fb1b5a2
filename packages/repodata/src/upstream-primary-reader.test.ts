import { describe, expect, it } from "vitest";
import { readUpstreamPrimary } from "./upstream-primary-reader.js";

const doc = (name: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" packages="1">
<package type="rpm"><name>${name}</name><arch>noarch</arch><version epoch="0" ver="1" rel="1"/>
<checksum type="sha256" pkgid="YES">${"a".repeat(64)}</checksum><size package="10" installed="1" archive="1"/>
<location href="Packages/x.rpm"/></package></metadata>`;

async function collect(chunks: Buffer[], onCount?: (n: number) => void) {
  const out = [];
  for await (const p of readUpstreamPrimary(chunks, onCount)) out.push(p);
  return out;
}

describe("readUpstreamPrimary", () => {
  it("reads the fields a mirror needs, whatever the chunk boundaries (even inside a UTF-8 character)", async () => {
    const bytes = Buffer.from(doc("pâté-ünïcode"));
    for (const size of [1, 2, 3, 7, 64]) {
      const chunks = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      let count = -1;
      const [pkg] = await collect(chunks, (n) => {
        count = n;
      });
      expect(count).toBe(1);
      expect(pkg).toEqual({
        name: "pâté-ünïcode",
        arch: "noarch",
        epoch: "0",
        version: "1",
        release: "1",
        checksum: { type: "sha256", value: "a".repeat(64) },
        size: 10,
        href: "Packages/x.rpm",
      });
    }
  });

  it("refuses a DOCTYPE and malformed entries with precise errors", async () => {
    const withDoctype = doc("x").replace("<metadata", '<!DOCTYPE m [<!ENTITY a "b">]><metadata');
    await expect(collect([Buffer.from(withDoctype)])).rejects.toThrow(
      /^primary\.xml: line 2: DOCTYPE declarations are not accepted with an internal subset/,
    );
    await expect(collect([Buffer.from(doc("x").replace(/<location[^>]*>/, ""))])).rejects.toThrow(
      /^primary\.xml: line 5: x: missing <location href>$/,
    );
    await expect(collect([Buffer.from(doc("x").replace('type="sha256"', 'type="crc32"'))])).rejects.toThrow(
      /unsupported checksum type "crc32"/,
    );
  });
});
