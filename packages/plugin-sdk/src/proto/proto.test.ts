import { describe, expect, it } from "vitest";
import { isPluginSdkError } from "../errors.js";
import {
  Action,
  actionName,
  decodeEventPayload,
  EventPayloadSchema,
  encodeEventPayload,
  Origin,
} from "./event-payload.js";
import { decodeInfo, encodeInfo, InfoSchema } from "./plugin-info.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const str = (tag: number, s: string) => {
  const b = Buffer.from(s);
  return `${tag.toString(16).padStart(2, "0")}${b.length.toString(16).padStart(2, "0")}${b.toString("hex")}`;
};

describe("EventPayload", () => {
  it("describes beskar.api.event.v1.EventPayload with the .proto's numbers and types", () => {
    expect(EventPayloadSchema.typeName).toBe("beskar.api.event.v1.EventPayload");
    expect(
      EventPayloadSchema.fields.map((f) => [
        f.name,
        f.number,
        f.fieldKind,
        f.fieldKind === "scalar" ? f.scalar : f.fieldKind === "enum" ? f.enum.typeName : "",
      ]),
    ).toEqual([
      ["repository", 1, "scalar", 9],
      ["digest", 2, "scalar", 9],
      ["mediatype", 3, "scalar", 9],
      ["payload", 4, "scalar", 12],
      ["action", 5, "enum", "beskar.api.event.v1.Action"],
      ["origin", 6, "enum", "beskar.api.event.v1.Origin"],
    ]);
    expect(actionName(Action.DELETE)).toBe("ACTION_DELETE");
    expect(actionName(9)).toBe("9");
  });

  it("encodes as proto3 wire format: fields in order, zero values omitted", () => {
    const bytes = encodeEventPayload({
      repository: "artifacts/yum/r/packages",
      digest: "sha256:ab",
      mediatype: "m",
      payload: Uint8Array.from([1, 2]),
      action: Action.PUT,
      origin: Origin.PLUGIN,
    });
    expect(hex(bytes)).toBe(
      `${str(0x0a, "artifacts/yum/r/packages")}${str(0x12, "sha256:ab")}${str(0x1a, "m")}2202010228013002`,
    );
    expect(hex(encodeEventPayload({ repository: "x", action: Action.UNSPECIFIED }))).toBe(str(0x0a, "x"));
    const back = decodeEventPayload(bytes);
    expect(back).toMatchObject({ repository: "artifacts/yum/r/packages", action: 1, origin: 2 });
    expect([...back.payload]).toEqual([1, 2]);
  });

  it("skips unknown fields, keeps unknown enum values, rejects malformed bytes with PROTO_MALFORMED", () => {
    // field 9 varint, then action = 7.
    const event = decodeEventPayload(Buffer.from(`${str(0x0a, "r/x")}48052807`, "hex"));
    expect(event.repository).toBe("r/x");
    expect(event.action).toBe(7);
    const malformed = [
      Buffer.from("0a05abc", "hex"), // truncated string
      Buffer.from("0a02c328", "hex"), // invalid UTF-8 (Go refuses it too)
      Buffer.from("ff", "hex"),
    ];
    for (const bytes of malformed) {
      const err = (() => {
        try {
          decodeEventPayload(bytes);
        } catch (e) {
          return e;
        }
      })();
      expect(isPluginSdkError(err, "PROTO_MALFORMED"), String(err)).toBe(true);
    }
  });
});

describe("Info", () => {
  it("describes beskar.api.plugin.v1.Info and Router with the .proto's numbers", () => {
    expect(InfoSchema.typeName).toBe("beskar.api.plugin.v1.Info");
    expect(InfoSchema.fields.map((f) => [f.name, f.number, f.fieldKind])).toEqual([
      ["name", 1, "scalar"],
      ["mediatypes", 2, "list"],
      ["version", 3, "scalar"],
      ["router", 4, "message"],
    ]);
  });

  it("encodes name, repeated mediatypes, version and the router message", () => {
    const bytes = encodeInfo({
      name: "yum",
      version: "1.2.3",
      mediatypes: ["a", "b"],
      router: { rego: "package router", data: Uint8Array.from([0x7b, 0x7d]) },
    });
    const router = `${str(0x0a, "package router")}${str(0x12, "{}")}`;
    expect(hex(bytes)).toBe(
      `${str(0x0a, "yum")}${str(0x12, "a")}${str(0x12, "b")}${str(0x1a, "1.2.3")}22${(router.length / 2).toString(16)}${router}`,
    );
    const info = decodeInfo(bytes);
    expect(info).toMatchObject({ name: "yum", version: "1.2.3", mediatypes: ["a", "b"] });
    expect(Buffer.from(info.router!.rego).toString()).toBe("package router");
  });
});
