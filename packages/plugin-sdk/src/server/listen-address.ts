import { PluginSdkError } from "../errors.js";

/**
 * Go's `net.SplitHostPort` for listen addresses: `host:port`, `[v6]:port` or `:port` (empty host). The
 * port is required; 0 asks the OS for a free one.
 */
export function splitListenAddress(addr: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new PluginSdkError("INVALID_OPTION", `not a listen address (host:port): ${JSON.stringify(addr)}`);
  }
  return { host: match[1] ?? match[2] ?? "", port };
}
