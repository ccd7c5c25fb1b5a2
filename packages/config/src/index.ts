export type { Config, HostPort, HttpLimits, ProxyConfig, RegistryConfig } from "./config.js";
export { type LoadConfigOptions, loadConfig } from "./load-config.js";
export { type LogFormatOptions, textLogLine, withLogFormat } from "./log-format.js";
export { type CpuProfilerOptions, installCpuProfiler } from "./profiling.js";
export { runService, type StopService } from "./run-service.js";
