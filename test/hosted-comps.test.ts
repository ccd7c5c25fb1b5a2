import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { makeDnf } from "./support/dnf.js";
import { buildRpms } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

/** Shaped as Fedora's and RHEL's comps.xml are: the DOCTYPE naming comps.dtd, which nobody loads. */
const comps = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">
<comps>
  <group>
    <id>comps-editors</id>
    <name>Comps Editors</name>
    <name xml:lang="de">Comps-Editoren</name>
    <description>Text editors for the comps test</description>
    <default>false</default>
    <uservisible>true</uservisible>
    <packagelist>
      <packagereq type="mandatory">comps-editor</packagereq>
      <packagereq type="optional">comps-editor-docs</packagereq>
    </packagelist>
  </group>
  <group>
    <id>comps-tools</id>
    <name>Comps Tools</name>
    <description>Tools for the comps test</description>
    <default>false</default>
    <uservisible>true</uservisible>
    <packagelist>
      <packagereq type="mandatory">comps-tool-a</packagereq>
      <packagereq type="mandatory">comps-tool-b</packagereq>
    </packagelist>
  </group>
  <category>
    <id>comps-category</id>
    <name>Comps Category</name>
    <description>Both groups</description>
    <display_order>99</display_order>
    <grouplist>
      <groupid>comps-editors</groupid>
      <groupid>comps-tools</groupid>
    </grouplist>
  </category>
</comps>
`;

async function putExtra(stack: Stack, repo: string, type: string, body: Buffer) {
  const response = await fetch(`${stack.repoUrl(repo)}repodata/extra/${type}?wait=true`, {
    method: "PUT",
    headers: { authorization: `Bearer ${stack.token}` },
    body,
  });
  return { status: response.status, json: (await response.json()) as any };
}

describe("comps.xml as distributions ship it, in a hosted repository", () => {
  let stack: Stack;
  const repo = "artifacts/yum/e2e-comps";
  beforeAll(async () => {
    stack = await startStack({ name: "comps" });
    const rpms = await buildRpms(
      ["comps-editor", "comps-editor-docs", "comps-tool-a", "comps-tool-b"].map((name) => ({
        name,
        arch: "noarch" as const,
      })),
      makeTempDir("comps-fixtures"),
    );
    for (const rpm of rpms) expect((await stack.upload(repo, rpm, { wait: true })).status).toBe(201);
  });
  afterAll(async () => {
    await stack?.stop();
    await cleanupTempDirs();
  });

  it("accepts the comps DOCTYPE; dnf lists both groups and installs one", async () => {
    const { status, json } = await putExtra(stack, repo, "group", gzipSync(Buffer.from(comps)));
    expect(status, JSON.stringify(json)).toBe(201);

    const dnf = makeDnf(stack.repoUrl(repo));
    const groups = (await dnf.run(["group", "list", "--hidden"])).stdout;
    expect(groups).toMatch(/Comps Editors/);
    expect(groups).toMatch(/Comps Tools/);
    await dnf.run(["group", "install", "comps-tools"]);
    const installed = await dnf.installed();
    expect(installed).toContain("comps-tool-a-1.0-1.noarch");
    expect(installed).toContain("comps-tool-b-1.0-1.noarch");
    expect(installed.some((p) => p.startsWith("comps-editor"))).toBe(false);
  });

  it("still refuses an internal subset and an entity bomb with 400, and keeps the comps served", async () => {
    const subset = comps.replace('"comps.dtd">', '"comps.dtd" [<!ELEMENT comps ANY>]>');
    const refusedSubset = await putExtra(stack, repo, "group", Buffer.from(subset));
    expect(refusedSubset.status).toBe(400);
    expect(refusedSubset.json.error).toMatchObject({ reason: "REPODATA_INVALID" });
    expect(refusedSubset.json.error.message).toMatch(
      /^group\.xml: line 2: DOCTYPE declarations are not accepted with an internal subset/,
    );
    const bomb = `<?xml version="1.0"?>\n<!DOCTYPE comps [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<comps><group><id>&b;</id></group></comps>`;
    const refusedBomb = await putExtra(stack, repo, "group", gzipSync(Buffer.from(bomb)));
    expect(refusedBomb.status).toBe(400);
    expect(refusedBomb.json.error.message).toMatch(/DOCTYPE declarations are not accepted/);

    const dnf = makeDnf(stack.repoUrl(repo));
    expect((await dnf.run(["group", "list", "--hidden"])).stdout).toMatch(/Comps Editors/);
  });
});
