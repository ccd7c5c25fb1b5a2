import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { matchesMetalinkFile, metalinkMismatch, parseMetalink } from "./metalink.js";

const repomd = Buffer.from("<repomd/>\n");
const sha256 = createHash("sha256").update(repomd).digest("hex");
const sha512 = createHash("sha512").update(repomd).digest("hex");

/** Shaped as mirrors.fedoraproject.org serves it (metalink 3.0 with MirrorManager's mm0 namespace). */
const fedora = `<?xml version="1.0" encoding="utf-8"?>
<metalink version="3.0" xmlns="http://www.metalinker.org/" type="dynamic" pubdate="Mon, 07 Dec 2026 06:00:00 GMT" generator="mirrormanager" xmlns:mm0="http://fedorahosted.org/mirrormanager">
 <files>
  <file name="repomd.xml">
   <mm0:timestamp>1796600000</mm0:timestamp>
   <size>${repomd.length}</size>
   <verification>
    <hash type="md5">${createHash("md5").update(repomd).digest("hex")}</hash>
    <hash type="sha1">${createHash("sha1").update(repomd).digest("hex")}</hash>
    <hash type="sha256">${sha256}</hash>
    <hash type="sha512">${sha512}</hash>
   </verification>
   <mm0:alternates>
    <mm0:alternate>
     <mm0:timestamp>1796500000</mm0:timestamp>
     <size>4</size>
     <verification><hash type="sha256">${createHash("sha256").update("old\n").digest("hex")}</hash></verification>
    </mm0:alternate>
   </mm0:alternates>
   <resources maxconnections="1">
    <url protocol="rsync" type="rsync" location="US" preference="100">rsync://r.example/epel/9/repodata/repomd.xml</url>
    <url protocol="https" type="https" location="DE" preference="97">https://b.example/epel/9/Everything/x86_64/repodata/repomd.xml</url>
    <url protocol="https" type="https" location="US" preference="100">https://a.example/epel/9/Everything/x86_64/repodata/repomd.xml</url>
    <url protocol="http" type="http" location="FR" preference="97">http://c.example/epel/9/Everything/x86_64/repodata/repomd.xml</url>
   </resources>
  </file>
 </files>
</metalink>
`;

describe("parseMetalink", () => {
  it("reads Fedora's metalink 3.0: mirrors by preference (document order on ties), size, hashes, alternates", async () => {
    const metalink = await parseMetalink(fedora);
    expect(metalink.mirrors).toEqual([
      "https://a.example/epel/9/Everything/x86_64/",
      "https://b.example/epel/9/Everything/x86_64/",
      "http://c.example/epel/9/Everything/x86_64/",
    ]);
    expect(metalink.repomd).toMatchObject({ size: repomd.length, hashes: { sha256, sha512 } });
    expect(metalink.alternates).toHaveLength(1);
    expect(metalinkMismatch(repomd, metalink)).toBeUndefined();
    expect(metalinkMismatch(Buffer.from("old\n"), metalink)).toBeUndefined();
    expect(metalinkMismatch(Buffer.from("<repomd>stale</repomd>\n"), metalink)).toMatch(
      /^repomd\.xml \(23 bytes, sha512 [0-9a-f]{128}\) does not match the metalink \(10 bytes, sha512 /,
    );
  });

  it("reads metalink 4 (RFC 5854): priority, lower first; hash types with a dash", async () => {
    const v4 = `<?xml version="1.0"?><metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="repomd.xml">
      <size>${repomd.length}</size><hash type="sha-256">${sha256}</hash>
      <url priority="2">https://two.example/r/repodata/repomd.xml</url>
      <url priority="1">https://one.example/r/repodata/repomd.xml</url></file></metalink>`;
    const metalink = await parseMetalink(v4);
    expect(metalink.mirrors).toEqual(["https://one.example/r/", "https://two.example/r/"]);
    expect(matchesMetalinkFile(repomd, metalink.repomd!)).toBe(true);
  });

  it("refuses a metalink without repomd.xml or mirrors, and an entity bomb", async () => {
    await expect(parseMetalink("<metalink><files/></metalink>", "m")).rejects.toThrow(
      'm: no <file name="repomd.xml">',
    );
    await expect(
      parseMetalink('<metalink><files><file name="repomd.xml"><size>1</size></file></files></metalink>', "m"),
    ).rejects.toMatchObject({ code: "METALINK_INVALID" });
    await expect(parseMetalink('<!DOCTYPE m [<!ENTITY a "b">]><metalink/>', "m")).rejects.toThrow(
      /DOCTYPE declarations are not accepted with an internal subset/,
    );
  });
});
