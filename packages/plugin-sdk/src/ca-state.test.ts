import { describe, expect, it } from "vitest";
import { decodeCaState, encodeCaState } from "./ca-state.js";

const ca = {
  certPem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
  keyPem: "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n",
};

describe("encodeCaState / decodeCaState", () => {
  it("uses Go's JSON of []byte fields: base64 strings of the PEM texts", () => {
    const bytes = encodeCaState(ca);
    const json = JSON.parse(bytes.toString("utf8"));
    expect(Object.keys(json)).toEqual(["cert", "key"]);
    expect(Buffer.from(json.cert, "base64").toString()).toBe(ca.certPem);
    expect(decodeCaState(bytes)).toEqual(ca);
  });

  it("refuses anything else with CA_STATE_INVALID", () => {
    const bad = [
      "nope",
      "[]",
      '{"cert":"!!","key":""}',
      JSON.stringify({ cert: Buffer.from("x").toString("base64"), key: "" }),
    ];
    for (const text of bad) expect(() => decodeCaState(Buffer.from(text))).toThrow(/CA state/);
  });
});
