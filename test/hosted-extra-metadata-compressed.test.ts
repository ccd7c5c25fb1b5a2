import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseRepomd } from "@beskar-yum/repodata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

/** A real comps.xml's shape: the DOCTYPE naming comps.dtd (never loaded). */
const comps = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">
<comps>
  <group>
    <id>compressed-group</id>
    <name>Compressed Group</name>
    <description>comps in every compression</description>
    <default>false</default>
    <uservisible>true</uservisible>
    <packagelist><packagereq type="mandatory">nothing</packagereq></packagelist>
  </group>
</comps>
`;
const bomb = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE updates [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<updates><update from="x" status="final" type="security" version="1"><id>&c;</id></update></updates>
`;
/** The first lines of a real modules.yaml (libmodulemd v2 documents). */
const modules = `---
document: modulemd
version: 2
data:
  name: nodejs
  stream: "20"
  version: 9040020240807
  context: rhel9
  arch: x86_64
  summary: Javascript runtime
  description: >-
    Node.js is a platform built on Chrome's JavaScript runtime.
  license:
    module:
    - MIT
  profiles:
    common:
      rpms:
      - nodejs
...
---
document: modulemd-defaults
version: 1
data:
  module: nodejs
  stream: "20"
...
`;

const tools = { gz: ["gzip", "gz"], xz: ["xz", "xz"], bz2: ["bzip2", "bz2"], zst: ["zstd", "zst"] } as const;
type Compression = keyof typeof tools;

describe("extra metadata in every compression: the XML rule on decompressed content", () => {
  let stack: Stack;
  let dir: string;
  const repo = "artifacts/yum/e2e-extra-compressed";

  /** `text` written to a file and compressed by the real tool; returns the compressed bytes. */
  const compressed = (name: string, text: string, compression?: Compression): Buffer => {
    const path = join(dir, name);
    writeFileSync(path, text);
    if (!compression) return readFileSync(path);
    const [tool, ext] = tools[compression];
    execFileSync(tool, ["-q", "-f", "-k", path]);
    return readFileSync(`${path}.${ext}`);
  };
  const putExtra = async (type: string, body: Buffer, query = "") => {
    const response = await fetch(`${stack.repoUrl(repo)}repodata/extra/${type}?wait=true${query}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${stack.token}` },
      body,
    });
    return { status: response.status, json: (await response.json()) as any };
  };
  const repomdText = async () => (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();

  beforeAll(async () => {
    dir = makeTempDir("extra-compressed");
    stack = await startStack({ name: "extra-compressed" });
    expect((await stack.call("POST", "/repository", { repository: repo, properties: {} })).status).toBe(200);
  });
  afterAll(async () => {
    await stack?.stop();
    await cleanupTempDirs();
  });

  it("refuses an entity bomb in updateinfo compressed with xz, bzip2 or zstd, or named updateinfo.txt", async () => {
    const before = await repomdText();
    for (const compression of ["xz", "bz2", "zst"] as const) {
      const refused = await putExtra("updateinfo", compressed(`bomb-${compression}.xml`, bomb, compression));
      expect(refused.status, `${compression}: ${JSON.stringify(refused.json)}`).toBe(400);
      expect(refused.json.error).toMatchObject({ reason: "REPODATA_INVALID" });
      expect(refused.json.error.message).toMatch(
        /DOCTYPE declarations are not accepted with an internal subset/,
      );
    }
    // Plain, under a name that does not say XML, and as a type the rule is not told about.
    for (const type of ["updateinfo", "custom"]) {
      const byName = await putExtra(type, Buffer.from(bomb), "&filename=updateinfo.txt");
      expect(byName.status, JSON.stringify(byName.json)).toBe(400);
      expect(byName.json.error.message).toMatch(
        /^updateinfo\.txt: line 2: DOCTYPE declarations are not accepted/,
      );
    }
    expect(await repomdText()).toBe(before);
  });

  it("accepts a comps with its DOCTYPE in each compression, with the plain file's open-checksum", async () => {
    const plain = join(dir, "comps-plain.xml");
    writeFileSync(plain, comps);
    const sha256sum = execFileSync("sha256sum", [plain]).toString().split(" ")[0];
    for (const compression of [undefined, "gz", "xz", "bz2", "zst"] as const) {
      const body = compressed(`comps-${compression ?? "plain"}.xml`, comps, compression);
      const { status, json } = await putExtra("group", body);
      expect(status, `${compression}: ${JSON.stringify(json)}`).toBe(201);
      const record = parseRepomd(await repomdText()).records.find((r) => r.type === "group")!;
      expect(record.checksum.value).toBe(json.checksum);
      expect(record.openChecksum, String(compression)).toEqual({ type: "sha256", value: sha256sum });
      expect(record.openSize).toBe(Buffer.byteLength(comps));
      const served = Buffer.from(
        await (await fetch(`${stack.repoUrl(repo)}${record.location}`)).arrayBuffer(),
      );
      expect(served.equals(body)).toBe(true);
    }
  });

  it("accepts a real modules.yaml.gz", async () => {
    const body = compressed("modules.yaml", modules, "gz");
    const { status, json } = await putExtra("modules", body, "&filename=modules.yaml.gz");
    expect(status, JSON.stringify(json)).toBe(201);
    const record = parseRepomd(await repomdText()).records.find((r) => r.type === "modules")!;
    expect(record.location).toBe(`repodata/${json.checksum}-modules.yaml.gz`);
    expect(record.openSize).toBe(Buffer.byteLength(modules));
  });
});
