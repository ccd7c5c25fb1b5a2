import { buildGoProgram, GoPeer } from "../gossip/go-programs.js";
import { type Stack, startStack } from "../harness/stack.js";
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
  const binary = await buildGoProgram("beskar-peer", makeTempDir("beskar-peer-"));
  const go = await GoPeer.start(binary, [
    "-ca",
    "-control",
    "127.0.0.1:0",
    "-registry",
    ...registryArgs,
    "-hostname",
    "localhost",
  ]);
  const stack = await startStack({
    name,
    env: { BESKARYUM_GOSSIP_PEERS: go.address, BESKARYUM_GOSSIP_ADDR: "127.0.0.1:0", ...env },
  });
  return { go, stack };
}
