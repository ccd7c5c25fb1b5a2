import { describe, expect, it } from "vitest";
import { type BeskarMeta, InstanceType } from "./beskar-meta.js";
import { isPluginSdkError } from "./errors.js";
import { decodeBeskarMeta, encodeBeskarMeta } from "./gob.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const ascii = (s: string) => Buffer.from(s, "latin1").toString("hex");

// BESKAR.md §1.5, confirmed with Go's encoding/gob.
const TYPE_DEF = hex(
  `61 ff 81 03 01 01 0a ${ascii("BeskarMeta")} 01 ff 82 00 01 05` +
    `01 0c ${ascii("InstanceType")} 01 06 00  01 05 ${ascii("Ready")} 01 02 00  01 0b ${ascii("ServicePort")} 01 06 00` +
    `01 0c ${ascii("RegistryPort")} 01 06 00  01 08 ${ascii("Hostname")} 01 0c 00  00 00`,
);
const PLUGIN_VALUE = hex("0f ff 82 01 02 02 fe 14 50 02 04 68 6f 73 74 00");
const BESKAR_VALUE = hex(`1a ff 82 01 01 01 01 01 fe 13 ef 01 fe 13 ec 01 09 ${ascii("localhost")} 00`);

const plugin: BeskarMeta = {
  instanceType: InstanceType.Plugin,
  ready: false,
  servicePort: 5200,
  registryPort: 0,
  hostname: "host",
};
const beskar: BeskarMeta = {
  instanceType: InstanceType.Beskar,
  ready: true,
  servicePort: 5103,
  registryPort: 5100,
  hostname: "localhost",
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isPluginSdkError(err)) return err.code;
    throw err;
  }
  return undefined;
}

describe("encodeBeskarMeta", () => {
  it("writes the 98-byte type definition then the value (BESKAR.md vectors)", () => {
    expect(TYPE_DEF.length).toBe(98);
    expect(encodeBeskarMeta(plugin).toString("hex")).toBe(
      Buffer.concat([TYPE_DEF, PLUGIN_VALUE]).toString("hex"),
    );
    expect(encodeBeskarMeta(beskar).toString("hex")).toBe(
      Buffer.concat([TYPE_DEF, BESKAR_VALUE]).toString("hex"),
    );
  });

  it("omits every zero field (an all-zero meta is an empty struct)", () => {
    const bytes = encodeBeskarMeta({
      instanceType: 0,
      ready: false,
      servicePort: 0,
      registryPort: 0,
      hostname: "",
    });
    expect(bytes.subarray(98).toString("hex")).toBe("03ff8200");
  });

  it("refuses values that do not fit the Go field types", () => {
    expect(() => encodeBeskarMeta({ ...plugin, instanceType: 256 })).toThrow(/instanceType/);
    expect(() => encodeBeskarMeta({ ...plugin, servicePort: 65536 })).toThrow(/servicePort/);
    expect(() => encodeBeskarMeta({ ...plugin, registryPort: 1.5 })).toThrow(/registryPort/);
  });
});

describe("decodeBeskarMeta", () => {
  it("decodes the BESKAR.md vectors and round-trips", () => {
    expect(decodeBeskarMeta(Buffer.concat([TYPE_DEF, PLUGIN_VALUE]))).toEqual(plugin);
    expect(decodeBeskarMeta(Buffer.concat([TYPE_DEF, BESKAR_VALUE]))).toEqual(beskar);
    const odd = { ...beskar, hostname: "h".repeat(300), servicePort: 65535, instanceType: 255 };
    expect(decodeBeskarMeta(encodeBeskarMeta(odd))).toEqual(odd);
  });

  it("matches fields by name whatever their order in the type definition, and skips unknown basic fields", () => {
    // A sender whose struct is {Hostname string; Extra int; ServicePort uint16; Ready bool}.
    const def = Buffer.from([
      ...[0xff, 0x81, 0x03, 0x01, 0x01, 0x05, ...Buffer.from("Other"), 0x01, 0xff, 0x82, 0x00, 0x01, 0x04],
      ...[0x01, 0x08, ...Buffer.from("Hostname"), 0x01, 0x0c, 0x00],
      ...[0x01, 0x05, ...Buffer.from("Extra"), 0x01, 0x04, 0x00],
      ...[0x01, 0x0b, ...Buffer.from("ServicePort"), 0x01, 0x06, 0x00],
      ...[0x01, 0x05, ...Buffer.from("Ready"), 0x01, 0x02, 0x00],
      ...[0x00, 0x00],
    ]);
    const value = Buffer.from([
      0xff, 0x82, 0x01, 0x01, 0x78, 0x01, 0x03, 0x01, 0xfe, 0x14, 0x50, 0x01, 0x01, 0x00,
    ]);
    const stream = Buffer.concat([Buffer.from([def.length]), def, Buffer.from([value.length]), value]);
    expect(decodeBeskarMeta(stream)).toEqual({
      instanceType: 0,
      ready: true,
      servicePort: 5200,
      registryPort: 0,
      hostname: "x",
    });
  });

  it("rejects truncated, malformed and out-of-range input with typed errors", () => {
    const good = encodeBeskarMeta(beskar);
    expect(codeOf(() => decodeBeskarMeta(new Uint8Array()))).toBe("GOB_TRUNCATED");
    for (let cut = 1; cut < good.length; cut++) {
      expect(codeOf(() => decodeBeskarMeta(good.subarray(0, cut)))).toMatch(/^GOB_(TRUNCATED|MALFORMED)$/);
    }
    expect(codeOf(() => decodeBeskarMeta(TYPE_DEF))).toBe("GOB_TRUNCATED");
    expect(codeOf(() => decodeBeskarMeta(Buffer.concat([good, Buffer.from([0])])))).toBe("GOB_MALFORMED");
    // Value without its type definition.
    expect(codeOf(() => decodeBeskarMeta(PLUGIN_VALUE))).toBe("GOB_UNSUPPORTED");
    // ServicePort = 70000 (fe 01 11 70 is 3 bytes: 0x011170).
    const big = hex("08 ff 82 03 fd 01 11 70 00");
    expect(codeOf(() => decodeBeskarMeta(Buffer.concat([TYPE_DEF, big])))).toBe("GOB_OUT_OF_RANGE");
    // Field number past the end of the struct.
    const past = hex("04 ff 82 06 00");
    expect(codeOf(() => decodeBeskarMeta(Buffer.concat([TYPE_DEF, past])))).toBe("GOB_MALFORMED");
    // A uint length byte announcing 9 bytes.
    const nine = hex("05 ff 82 03 f7 00");
    expect(codeOf(() => decodeBeskarMeta(Buffer.concat([TYPE_DEF, nine])))).toBe("GOB_MALFORMED");
    // Ready declared as a string on the wire.
    const wrongType = Buffer.from(TYPE_DEF);
    wrongType[wrongType.indexOf(Buffer.from("Ready")) + 6] = 0x0c;
    expect(codeOf(() => decodeBeskarMeta(Buffer.concat([wrongType, BESKAR_VALUE])))).toBe("GOB_UNSUPPORTED");
    expect(codeOf(() => decodeBeskarMeta(good, { maxBytes: 10 }))).toBe("GOB_OUT_OF_RANGE");
  });

  it("says where the problem is", () => {
    expect(() => decodeBeskarMeta(TYPE_DEF.subarray(0, 20))).toThrow(
      /message of 97 bytes, 19 left \(offset 0/,
    );
  });
});
