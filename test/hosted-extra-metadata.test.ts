import { gzipSync } from "node:zlib";
import { parseRepomd } from "@beskar-yum/repodata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { makeDnf } from "./support/dnf.js";
import { standardFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const comps = `<?xml version="1.0" encoding="UTF-8"?>
<comps>
  <group>
    <id>yumtest-group</id>
    <name>YumTest Group</name>
    <description>Everything a yumtest user needs</description>
    <default>false</default>
    <uservisible>true</uservisible>
    <packagelist>
      <packagereq type="mandatory">yumtest-app</packagereq>
    </packagelist>
  </group>
</comps>
`;

async function putExtra(stack: Stack, repo: string, type: string, body: Buffer, query = "?wait=true") {
  const response = await fetch(`${stack.repoUrl(repo)}repodata/extra/${type}${query}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${stack.token}` },
    body,
  });
  return { status: response.status, json: (await response.json()) as any };
}

async function repomd(stack: Stack, repo: string) {
  return parseRepomd(await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text());
}

describe("extra metadata of a hosted repository (comps groups)", () => {
  let stack: Stack;
  const repo = "artifacts/yum/e2e-extra";
  beforeAll(async () => {
    stack = await startStack({ name: "extra" });
    for (const rpm of (await standardFixtures(makeTempDir("extra-fixtures"))).all) {
      expect((await stack.upload(repo, rpm, { wait: true })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await stack?.stop();
    await cleanupTempDirs();
  });

  it("lists an uploaded comps file in repomd.xml and dnf installs its group", async () => {
    const gz = gzipSync(Buffer.from(comps));
    const { status, json } = await putExtra(stack, repo, "group", gz);
    expect(status, JSON.stringify(json)).toBe(201);
    expect(json).toMatchObject({ type: "group", file: "group.xml.gz", size: gz.length });

    const group = (await repomd(stack, repo)).records.find((r) => r.type === "group")!;
    expect(group.location).toBe(`repodata/${json.checksum}-group.xml.gz`);
    expect(group.openSize).toBe(Buffer.byteLength(comps));
    const served = Buffer.from(await (await fetch(`${stack.repoUrl(repo)}${group.location}`)).arrayBuffer());
    expect(served).toEqual(gz);

    const dnf = makeDnf(stack.repoUrl(repo));
    const groups = await dnf.run(["group", "list"]);
    expect(groups.stdout).toMatch(/YumTest Group/);
    await dnf.run(["-y", "group", "install", "yumtest-group"]);
    expect(await dnf.installed()).toContain("yumtest-app-2.0-1.noarch");
  });

  it("refuses malformed XML, entity declarations and generated types with 400", async () => {
    const bad = await putExtra(stack, repo, "updateinfo", Buffer.from("<updates><update></updates>"));
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ reason: "REPODATA_INVALID" });
    expect(bad.json.error.message).toMatch(/^updateinfo\.xml: not well-formed XML/);
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><updates>&lol2;</updates>`;
    const entity = await putExtra(stack, repo, "updateinfo", Buffer.from(bomb));
    expect(entity.status).toBe(400);
    expect(entity.json.error.message).toMatch(/DOCTYPE declarations are not accepted/);
    const notGzip = await putExtra(
      stack,
      repo,
      "updateinfo",
      Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(40)]),
    );
    expect(notGzip.json.error.message).toMatch(/not a valid gzip file/);
    const reserved = await putExtra(stack, repo, "primary", Buffer.from("<metadata/>"));
    expect(reserved.status).toBe(400);
    expect(reserved.json.error.message).toMatch(/primary, filelists and other are generated/);
    expect((await repomd(stack, repo)).records.map((r) => r.type)).not.toContain("updateinfo");
  });

  it("removes the group from repomd.xml on DELETE", async () => {
    const response = await fetch(`${stack.repoUrl(repo)}repodata/extra/group`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${stack.token}` },
    });
    expect(response.status).toBe(200);
    const deadline = Date.now() + 10_000;
    let types: string[] = [];
    while (Date.now() < deadline) {
      types = (await repomd(stack, repo)).records.map((r) => r.type);
      if (!types.includes("group")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(types).toEqual(["primary", "filelists", "other"]);
  });
});
