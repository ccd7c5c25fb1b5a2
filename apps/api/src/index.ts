export { buildApp } from "./app.js";
export type { AppDeps } from "./app-deps.js";
export { ApiMetrics } from "./metrics.js";
