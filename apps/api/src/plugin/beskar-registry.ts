import { RegistryClient } from "@beskar-yum/oci";
import type { BeskarTransport } from "@beskar-yum/plugin-sdk";

const clients = new WeakMap<BeskarTransport, RegistryClient>();

/**
 * The registry client for Beskar's registry through the plugin transport (mTLS: Beskar then treats us
 * as the plugin). It shares the transport's agent; one client per transport.
 */
export function beskarRegistry(transport: BeskarTransport): RegistryClient {
  let client = clients.get(transport);
  if (!client) {
    client = new RegistryClient({ baseUrl: transport.baseUrl, agent: transport.agent, tls: transport.tls });
    clients.set(transport, client);
  }
  return client;
}
