export type { Config, HostPort, HttpLimits, ProxyConfig, RegistryConfig } from "./config.js";
export { type LoadConfigOptions, loadConfig } from "./load-config.js";
export { runService, type StopService } from "./run-service.js";
