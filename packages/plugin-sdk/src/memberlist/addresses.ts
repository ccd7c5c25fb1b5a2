import * as net from "node:net";
import * as os from "node:os";
import { PluginSdkError } from "../errors.js";

/** IP addresses as memberlist carries them (Go `net.IP`: 4 bytes for IPv4, 16 for IPv6). */

export function parseIp(text: string): Buffer {
  if (net.isIPv4(text)) return Buffer.from(text.split(".").map(Number));
  if (!net.isIPv6(text)) throw new PluginSdkError("INVALID_OPTION", `not an IP address: ${text}`);
  let groups = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split(".").map(Number) as [number, number, number, number];
    groups = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = groups.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const middle = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill("0");
  const out = Buffer.alloc(16);
  [...left, ...middle, ...right].forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), 2 * i);
  });
  // Go's memberlist sends IPv4 in 4-byte form; so do we for IPv4-mapped addresses.
  const mapped = out.subarray(0, 10).every((b) => b === 0) && out[10] === 0xff && out[11] === 0xff;
  return mapped ? Buffer.from(out.subarray(12)) : out;
}

/** An IP in wire form as text; IPv4-mapped IPv6 is shown as IPv4. */
export function formatAddr(addr: Uint8Array): string {
  if (addr.length === 4) return [...addr].join(".");
  if (addr.length === 16) {
    const mapped = addr.subarray(0, 10).every((b) => b === 0) && addr[10] === 0xff && addr[11] === 0xff;
    if (mapped) return [...addr.subarray(12)].join(".");
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((addr[i]! << 8) | addr[i + 1]!).toString(16));
    return groups.join(":");
  }
  return `<${addr.length}-byte address>`;
}

/** `host:port`, `[v6]:port`, `host` (port = `defaultPort`) and memberlist's `name/host:port`. */
export function splitHostPort(text: string, defaultPort: number): { host: string; port: number } {
  const slash = text.indexOf("/");
  const rest = slash >= 0 ? text.slice(slash + 1) : text;
  let host = rest;
  let port = defaultPort;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2]) port = Number(bracket[2]);
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    const [h, p] = rest.split(":") as [string, string];
    host = h;
    port = Number(p);
  }
  if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new PluginSdkError("INVALID_OPTION", `not a peer address (host:port): ${JSON.stringify(text)}`);
  }
  return { host, port };
}

export function isUnspecified(address: string): boolean {
  return address === "" || address === "0.0.0.0" || address === "::" || address === "[::]";
}

/**
 * The address to advertise when bound to every interface: like memberlist, a private IPv4 address of
 * this host; else any non-loopback IPv4; else 127.0.0.1.
 */
export function defaultAdvertiseAddress(): string {
  const candidates = Object.values(os.networkInterfaces())
    .flat()
    .filter((i): i is os.NetworkInterfaceInfo => i !== undefined && i.family === "IPv4" && !i.internal)
    .map((i) => i.address);
  const isPrivate = (ip: string) =>
    /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)/.test(ip);
  return candidates.find(isPrivate) ?? candidates[0] ?? "127.0.0.1";
}
