import { describe, expect, it } from "vitest";
import { formatAddr, parseIp, splitHostPort } from "./addresses.js";

describe("addresses", () => {
  it("carry IPv4 in 4 bytes and IPv6 in 16, as Go's memberlist", () => {
    expect([...parseIp("127.0.0.1")]).toEqual([127, 0, 0, 1]);
    expect([...parseIp("::ffff:10.1.2.3")]).toEqual([10, 1, 2, 3]);
    expect(parseIp("fe80::1")).toHaveLength(16);
    expect(formatAddr(parseIp("fe80::1:2"))).toBe("fe80:0:0:0:0:0:1:2");
    expect(formatAddr(parseIp("::1"))).toBe("0:0:0:0:0:0:0:1");
    expect(formatAddr(Uint8Array.from([10, 0, 0, 9]))).toBe("10.0.0.9");
    expect(() => parseIp("host")).toThrow(/not an IP/);
  });

  it("split peers as memberlist's Join accepts them", () => {
    expect(splitHostPort("127.0.0.1:5102", 1)).toEqual({ host: "127.0.0.1", port: 5102 });
    expect(splitHostPort("beskar", 5102)).toEqual({ host: "beskar", port: 5102 });
    expect(splitHostPort("[::1]:7", 1)).toEqual({ host: "::1", port: 7 });
    expect(splitHostPort("node-a/10.0.0.1:9", 1)).toEqual({ host: "10.0.0.1", port: 9 });
    expect(() => splitHostPort("h:0", 1)).toThrow(/not a peer address/);
  });
});
