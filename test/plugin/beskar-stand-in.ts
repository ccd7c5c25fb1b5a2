import { buildGoProgram, GoPeer } from "../gossip/go-programs.js";
import { type Stack, type StackOptions, startStack } from "../harness/stack.js";
import { makeTempDir } from "../support/tmp.js";

/**
 * The Go Beskar stand-in (a fresh CA, its control port, a registry as `registryArgs` configure it:
 * `-registry-blobs <dir>` or `-registry-upstream <url>`) and beskar-yum started as its plugin.
 */
export async function startBeskarWithPlugin(
  name: string,
  registryArgs: string[],
  env: Record<string, string> = {},
): Promise<{ go: GoPeer; stack: Stack }> {
  const go = await startBeskarStandIn(registryArgs);
  return { go, stack: await startPluginNode(go, { name, env }) };
}

/** The Go Beskar stand-in alone: plugin nodes join it with `startPluginNode`. */
export async function startBeskarStandIn(registryArgs: string[]): Promise<GoPeer> {
  const binary = await buildGoProgram("beskar-peer", makeTempDir("beskar-peer-"));
  return GoPeer.start(binary, [
    "-ca",
    "-control",
    "127.0.0.1:0",
    "-registry",
    ...registryArgs,
    "-hostname",
    "localhost",
  ]);
}

/** A beskar-yum stack (API + worker) joining `go` as a plugin node; `options.env` adds to its gossip settings. */
export function startPluginNode(go: GoPeer, options: StackOptions): Promise<Stack> {
  return startStack({
    ...options,
    env: { BESKARYUM_GOSSIP_PEERS: go.address, BESKARYUM_GOSSIP_ADDR: "127.0.0.1:0", ...options.env },
  });
}
