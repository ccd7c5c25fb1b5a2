export type { Config, HostPort } from "./config.js";
export { loadConfig, type LoadConfigOptions } from "./load-config.js";
