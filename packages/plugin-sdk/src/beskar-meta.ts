/**
 * Beskar's node metadata (`internal/pkg/gossip/member_meta.go`), carried as the memberlist node Meta in
 * Go `encoding/gob` form. Go field order: InstanceType, Ready, ServicePort, RegistryPort, Hostname.
 */
export interface BeskarMeta {
  /** `InstanceType uint8`: 1 = Beskar, 2 = plugin (see `InstanceType`). */
  instanceType: number;
  /** `Ready bool`: Beskar registers a plugin only once it sees `true`. */
  ready: boolean;
  /** `ServicePort uint16`: groupcache port for Beskar, HTTP (/info, /event) port for a plugin. */
  servicePort: number;
  /** `RegistryPort uint16`: Beskar's registry port (0 for plugins). */
  registryPort: number;
  /** `Hostname string`: Beskar's configured hostname; a plugin's `os.Hostname()`. */
  hostname: string;
}

/** Values of `BeskarMeta.instanceType`. */
export const InstanceType = {
  Beskar: 1,
  Plugin: 2,
} as const;

/** A meta with every field at its zero value, as Go's `NewBeskarMeta()`. */
export function emptyBeskarMeta(): BeskarMeta {
  return { instanceType: 0, ready: false, servicePort: 0, registryPort: 0, hostname: "" };
}
