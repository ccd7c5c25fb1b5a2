export { assertAdminTokenRule, minAdminTokenLength } from "./admin-token-rule.js";
export type { Config, HostPort, HttpLimits, ProxyConfig, RegistryConfig } from "./config.js";
export { indexStorageOptions } from "./index-storage-options.js";
export { type LoadConfigOptions, loadConfig } from "./load-config.js";
export { type LogFormatOptions, textLogLine, withLogFormat } from "./log-format.js";
export { redactingLogOptions } from "./log-options.js";
export { type CpuProfilerOptions, installCpuProfiler } from "./profiling.js";
export { runService, type StopService } from "./run-service.js";
