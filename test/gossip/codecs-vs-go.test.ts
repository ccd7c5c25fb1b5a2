import { randomBytes } from "node:crypto";
import { type BeskarMeta, decodeBeskarMeta, encodeBeskarMeta } from "@beskar-yum/plugin-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lzwCompress, lzwDecompress } from "../../packages/plugin-sdk/src/memberlist/lzw.js";
import * as msg from "../../packages/plugin-sdk/src/memberlist/messages.js";
import { cleanupTempDirs, makeTempDir } from "../support/tmp.js";
import { buildGoProgram, goCodec } from "./go-programs.js";

// Our codecs against Go's own: encoding/gob (BeskarMeta), compress/lzw (memberlist's compression) and
// hashicorp/go-msgpack with memberlist's handle, in both directions.

let codec: string;
beforeAll(async () => {
  codec = await buildGoProgram("go-codec", makeTempDir("go-codec-"));
});
afterAll(cleanupTempDirs);

const toGo = (m: BeskarMeta) =>
  JSON.stringify({
    InstanceType: m.instanceType,
    Ready: m.ready,
    ServicePort: m.servicePort,
    RegistryPort: m.registryPort,
    Hostname: m.hostname,
  });

const metas: BeskarMeta[] = [
  { instanceType: 2, ready: false, servicePort: 5200, registryPort: 0, hostname: "host" },
  { instanceType: 1, ready: true, servicePort: 5103, registryPort: 5100, hostname: "localhost" },
  { instanceType: 0, ready: false, servicePort: 0, registryPort: 0, hostname: "" },
  { instanceType: 255, ready: true, servicePort: 65535, registryPort: 128, hostname: "ünïcødé.example" },
  { instanceType: 2, ready: true, servicePort: 127, registryPort: 256, hostname: "h".repeat(300) },
];

describe("BeskarMeta gob against Go's encoding/gob", () => {
  it("encodes byte for byte as Go, and each side decodes the other's bytes", async () => {
    const goHex = await goCodec(codec, "gob-encode", metas.map(toGo));
    const tsHex = metas.map((m) => encodeBeskarMeta(m).toString("hex"));
    expect(tsHex).toEqual(goHex);
    const goDecoded = await goCodec(codec, "gob-decode", tsHex);
    expect(goDecoded).toEqual(metas.map(toGo));
    expect(goHex.map((h) => decodeBeskarMeta(Buffer.from(h, "hex")))).toEqual(metas);
  });

  it("rejects what Go rejects (every truncation) and never accepts a value Go reads differently", async () => {
    const good = encodeBeskarMeta(metas[1]!);
    const inputs: Buffer[] = [];
    for (let cut = 1; cut < good.length; cut++) inputs.push(good.subarray(0, cut));
    for (let i = 0; i < 300; i++) {
      const corrupt = Buffer.from(good);
      corrupt[Math.floor(Math.random() * corrupt.length)] = Math.floor(Math.random() * 256);
      inputs.push(corrupt);
    }
    const goAnswers = await goCodec(
      codec,
      "gob-decode",
      inputs.map((b) => b.toString("hex")),
    );
    inputs.forEach((input, i) => {
      const go = JSON.parse(goAnswers[i]!) as { error?: string };
      let ts: BeskarMeta | undefined;
      try {
        ts = decodeBeskarMeta(input);
      } catch {
        ts = undefined;
      }
      if (i < good.length - 1) expect(go.error, `Go accepted truncation ${i + 1}`).toBeDefined();
      if (ts !== undefined) {
        expect(go.error, `TS accepted ${input.toString("hex")}, Go refused it`).toBeUndefined();
        expect(JSON.parse(toGo(ts))).toEqual(go);
      }
    });
  });
});

describe("LZW against Go's compress/lzw (LSB, litWidth 8)", () => {
  const samples: Buffer[] = [
    Buffer.alloc(0),
    Buffer.from([0x42]),
    Buffer.from("a".repeat(5000)),
    Buffer.from("TOBEORNOTTOBEORTOBEORNOT#".repeat(40)),
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    randomBytes(20_000), // several table resets
    Buffer.concat(Array.from({ length: 100 }, () => randomBytes(64))).fill(7, 1000, 4000),
  ];

  it("compresses byte for byte as Go, and each side decompresses the other's output", async () => {
    const goCompressed = await goCodec(
      codec,
      "lzw-compress",
      samples.map((s) => s.toString("hex")),
    );
    const tsCompressed = samples.map((s) => lzwCompress(s).toString("hex"));
    expect(tsCompressed).toEqual(goCompressed);
    const goRound = await goCodec(codec, "lzw-decompress", tsCompressed);
    expect(goRound).toEqual(samples.map((s) => s.toString("hex")));
    goCompressed.forEach((hex, i) => {
      expect(lzwDecompress(Buffer.from(hex, "hex"), 1 << 20).equals(samples[i]!)).toBe(true);
    });
  });

  it("refuses output beyond the limit (compression bombs)", () => {
    const bomb = lzwCompress(Buffer.alloc(1 << 20));
    expect(bomb.length).toBeLessThan(20_000);
    expect(() => lzwDecompress(bomb, 64 * 1024)).toThrow(/exceeds 65536 bytes/);
  });
});

const b64 = (bytes: number[] | Uint8Array) => Buffer.from(bytes).toString("base64");
const gobMeta = encodeBeskarMeta(metas[1]!);

/** The same message as our codec's value and as the JSON of memberlist's Go struct. */
const messages: { struct: string; codec: msg.StructCodec<any>; ts: Record<string, unknown>; go: unknown }[] =
  [
    {
      struct: "ping",
      codec: msg.pingCodec,
      ts: { seqNo: 7, node: "node-a" },
      go: { SeqNo: 7, Node: "node-a" },
    },
    {
      struct: "ping",
      codec: msg.pingCodec,
      ts: {
        seqNo: 0xffff_ffff,
        node: "n",
        sourceAddr: Buffer.from([127, 0, 0, 1]),
        sourcePort: 7946,
        sourceNode: "s",
      },
      go: {
        SeqNo: 0xffff_ffff,
        Node: "n",
        SourceAddr: b64([127, 0, 0, 1]),
        SourcePort: 7946,
        SourceNode: "s",
      },
    },
    {
      struct: "indirectPingReq",
      codec: msg.indirectPingCodec,
      ts: {
        seqNo: 9,
        target: Buffer.from([10, 0, 0, 2]),
        port: 7946,
        node: "t",
        nack: true,
        sourceAddr: Buffer.from([127, 0, 0, 1]),
        sourcePort: 200,
        sourceNode: "src",
      },
      go: {
        SeqNo: 9,
        Target: b64([10, 0, 0, 2]),
        Port: 7946,
        Node: "t",
        Nack: true,
        SourceAddr: b64([127, 0, 0, 1]),
        SourcePort: 200,
        SourceNode: "src",
      },
    },
    {
      struct: "ackResp",
      codec: msg.ackRespCodec,
      ts: { seqNo: 300, payload: Buffer.from([1, 2, 3]) },
      go: { SeqNo: 300, Payload: b64([1, 2, 3]) },
    },
    { struct: "nackResp", codec: msg.nackRespCodec, ts: { seqNo: 70_000 }, go: { SeqNo: 70_000 } },
    {
      struct: "errResp",
      codec: msg.errRespCodec,
      ts: { error: "e".repeat(40) },
      go: { Error: "e".repeat(40) },
    },
    {
      struct: "suspect",
      codec: msg.suspectCodec,
      ts: { incarnation: 5, node: "n", from: "f" },
      go: { Incarnation: 5, Node: "n", From: "f" },
    },
    {
      struct: "alive",
      codec: msg.aliveCodec,
      ts: {
        incarnation: 1,
        node: "0b5d4c1e-7f3a-4a8b-9c2d-1e2f3a4b5c6d",
        addr: Buffer.from([127, 0, 0, 1]),
        port: 40_000,
        meta: gobMeta,
        vsn: Buffer.from([1, 5, 2, 0, 0, 0]),
      },
      go: {
        Incarnation: 1,
        Node: "0b5d4c1e-7f3a-4a8b-9c2d-1e2f3a4b5c6d",
        Addr: b64([127, 0, 0, 1]),
        Port: 40_000,
        Meta: b64(gobMeta),
        Vsn: b64([1, 5, 2, 0, 0, 0]),
      },
    },
    {
      struct: "dead",
      codec: msg.deadCodec,
      ts: { incarnation: 0x1_0000, node: "n", from: "n" },
      go: { Incarnation: 0x1_0000, Node: "n", From: "n" },
    },
    {
      struct: "pushPullHeader",
      codec: msg.pushPullHeaderCodec,
      ts: { nodes: 2, userStateLen: 300, join: true },
      go: { Nodes: 2, UserStateLen: 300, Join: true },
    },
    {
      struct: "pushNodeState",
      codec: msg.pushNodeStateCodec,
      ts: {
        name: "x",
        addr: Buffer.from([192, 168, 1, 20]),
        port: 5102,
        meta: Buffer.from("m".repeat(70_000)),
        incarnation: 12,
        state: 3,
        vsn: Buffer.from([1, 5, 2, 0, 0, 0]),
      },
      go: {
        Name: "x",
        Addr: b64([192, 168, 1, 20]),
        Port: 5102,
        Meta: b64(Buffer.from("m".repeat(70_000))),
        Incarnation: 12,
        State: 3,
        Vsn: b64([1, 5, 2, 0, 0, 0]),
      },
    },
    {
      struct: "compress",
      codec: msg.compressCodec,
      ts: { algo: 0, buf: Buffer.from("abc") },
      go: { Algo: 0, Buf: b64(Buffer.from("abc")) },
    },
  ];

const normalise = (v: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(v).map(([k, x]) => [k, x instanceof Uint8Array ? Buffer.from(x).toString("hex") : x]),
  );

describe("memberlist messages against hashicorp/go-msgpack", () => {
  it("encodes byte for byte as go-msgpack (sorted field names, raw strings and bytes, smallest integers)", async () => {
    const goHex = await goCodec(
      codec,
      "msgpack-encode",
      messages.map((m) => `${m.struct} ${JSON.stringify(m.go)}`),
    );
    expect(messages.map((m) => m.codec.encode(m.ts).toString("hex"))).toEqual(goHex);
  });

  it("Go decodes what we encode, and we decode what Go encodes (nil slices included)", async () => {
    const goDecoded = await goCodec(
      codec,
      "msgpack-decode",
      messages.map((m) => `${m.struct} ${m.codec.encode(m.ts).toString("hex")}`),
    );
    goDecoded.forEach((line, i) => {
      const expected = { ...(messages[i]!.go as Record<string, unknown>) };
      expect(JSON.parse(line)).toMatchObject(expected);
    });
    const goHex = await goCodec(
      codec,
      "msgpack-encode",
      messages.map((m) => `${m.struct} ${JSON.stringify(m.go)}`),
    );
    goHex.forEach((hex, i) => {
      const decoded = messages[i]!.codec.decode(Buffer.from(hex, "hex")).value as Record<string, unknown>;
      expect(normalise(decoded)).toMatchObject(normalise(messages[i]!.ts));
    });
    const [nilMeta] = await goCodec(codec, "msgpack-encode", [
      `alive {"Incarnation":2,"Node":"n","Addr":null,"Port":1,"Meta":null,"Vsn":null}`,
    ]);
    expect(nilMeta).toContain("c0");
    const alive = msg.aliveCodec.decode(Buffer.from(nilMeta!, "hex")).value;
    expect(alive).toMatchObject({ incarnation: 2, node: "n", port: 1 });
    expect(alive.meta.length + alive.addr.length + alive.vsn.length).toBe(0);
  });
});
