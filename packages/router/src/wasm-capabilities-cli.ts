// Prints the capabilities to compile policy/router.rego to wasm with (see policy/README.md):
//   node packages/router/dist/wasm-capabilities-cli.js > capabilities.json
import { readSdkCapabilities, wasmCapabilities } from "./capabilities.js";

process.stdout.write(`${JSON.stringify(wasmCapabilities(await readSdkCapabilities()), null, 2)}\n`);
