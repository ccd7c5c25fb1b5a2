import { describe, expect, it } from "vitest";
import { decodeHeaderText, forbiddenControlChar, looksLikeUtf8 } from "./header-text.js";

const bin = (...bytes: number[]) => Buffer.from(bytes).toString("latin1");

describe("decodeHeaderText", () => {
  it("keeps ASCII and decodes UTF-8", () => {
    expect(decodeHeaderText("plain")).toBe("plain");
    expect(decodeHeaderText(Buffer.from("Dąbrowski ünï 😀", "utf8").toString("latin1"))).toBe(
      "Dąbrowski ünï 😀",
    );
  });

  it("falls back to latin1 without C0/C1 controls for anything libxml2 would not take as UTF-8", () => {
    expect(decodeHeaderText(bin(0x43, 0x61, 0x66, 0xe9))).toBe("Café");
    expect(decodeHeaderText(bin(0x61, 0x85, 0x62, 0x01, 0x09, 0xff))).toBe("ab\tÿ");
    expect(decodeHeaderText(bin(0xc3, 0xa9, 0xe9))).toBe("Ãé");
  });

  it("uses libxml2's lenient structural check", () => {
    expect(looksLikeUtf8(bin(0xc0, 0x80))).toBe(true);
    expect(looksLikeUtf8(bin(0xed, 0xa0, 0x80))).toBe(true);
    expect(looksLikeUtf8(bin(0xf8, 0x80, 0x80, 0x80))).toBe(false);
    expect(looksLikeUtf8(bin(0xe2, 0x82))).toBe(false);
    // Accepted by libxml2 but not Unicode: replaced instead of copied into the XML.
    expect(decodeHeaderText(bin(0x61, 0xed, 0xa0, 0x80))).toMatch(/^a\ufffd+$/);
  });

  it("finds the control characters createrepo_c refuses", () => {
    expect(forbiddenControlChar("tab\tnl\ncr\r")).toBe(-1);
    expect(forbiddenControlChar("bell\x07")).toBe(4);
    expect(forbiddenControlChar("\x00")).toBe(0);
  });
});
