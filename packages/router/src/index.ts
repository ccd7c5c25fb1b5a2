export {
  type BuiltinDeclaration,
  type Capabilities,
  customBuiltinDeclarations,
  futureKeywords,
  readSdkCapabilities,
  wasmCapabilities,
} from "./capabilities.js";
export {
  type BlobLookup,
  evaluateRoute,
  type RouteDecision,
  type RouteInput,
  type RouteOutput,
  type RouterBuiltins,
  type RouteTrace,
  traceRoute,
} from "./evaluate-route.js";
export { captureGroupCount, compileGoRegExp } from "./go-regexp.js";
export {
  type BlobSearchKind,
  blobDigestFromManifests,
  findLayerDigest,
  type OciLayer,
  splitTaggedReference,
} from "./oci-blob-digest.js";
export { policyDirectory, policyRuntimeFiles, type RouterPolicy, readRouterPolicy } from "./policy-files.js";
export {
  type BlobRoute,
  type BlobType,
  type BodyRoute,
  blobTypes,
  loadRouteTable,
  type PlainRoute,
  type Route,
  type RouteTable,
} from "./route-table.js";
export { BuiltinSession, type WasmBuiltin, wasmCustomBuiltins } from "./wasm-builtins.js";
export {
  loadWasmRouter,
  toRouteOutput,
  type WasmBytes,
  type WasmMemoryDescriptor,
  type WasmPolicy,
  type WasmPolicyLoader,
  type WasmRouter,
  type WasmRouterOptions,
} from "./wasm-router.js";
